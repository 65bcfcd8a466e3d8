"""`@议事 /publish on|off` in a WeCom staff group: the community's public record page opened
(its address answered) and closed, by community staff only, and only where the web pages
are on."""

from __future__ import annotations

import re

from storage.database import Database
from storage.tables import public_pages
from tests.e2e_wecom.org_world import GRID, STAFF, OrgWorld, org, running_org, set_up

__all__ = ["org"]

PUBLIC_URL = "https://yishi.example.org"


async def test_publish_on_and_off_from_a_wecom_staff_group(database: Database) -> None:
    async with running_org(database, YISHI_PUBLIC_URL=PUBLIC_URL) as world:
        await set_up(world)
        refused = await world.say("zhangwg", GRID, "/publish on")
        assert "社区工作群" in (refused.text or "")
        assert await world.count(public_pages) == 0

        said = await world.say("wangsg", STAFF, "/publish on")
        match = re.search(re.escape(PUBLIC_URL) + r"/p/(\d+)", said.text or "")
        assert match, said.text
        community = int(match.group(1))
        record = await world.services.public_records.record(community)
        assert record is not None and record.community == "幸福社区"
        again = await world.say("wangsg", STAFF, "/publish on")
        assert "已经是公开的" in (again.text or "")

        off = await world.say("wangsg", STAFF, "/publish off")
        assert "已停止公开" in (off.text or "")
        assert await world.services.public_records.record(community) is None
        assert await world.count(public_pages) == 0


async def test_publish_says_what_to_do_when_the_web_pages_are_off(org: OrgWorld) -> None:
    await set_up(org)
    said = await org.say("wangsg", STAFF, "/publish on")
    assert "YISHI_PUBLIC_URL" in (said.text or "")
    usage = await org.say("wangsg", STAFF, "/publish")
    assert "/publish on" in (usage.text or "")
    assert await org.count(public_pages) == 0
