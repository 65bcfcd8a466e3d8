"""/help on WeCom: the commands a person may use where they are, from the one table both
channels use, written as `@议事 /…`, and only those WeCom answers; a message that is no
command is answered as /start; the single chat's first opening is welcomed."""

from __future__ import annotations

import re

from emulators.wecom.world import Place
from tests.e2e_wecom.org_world import BUILDING, GRID, STAFF, OrgWorld, org, set_up

__all__ = ["org"]


def commands(text: str | None) -> list[str]:
    """The commands a /help lists, in order."""
    return re.findall(r"^@议事 /(\w+) — ", text or "", re.MULTILINE)


async def test_help_lists_what_each_person_may_use_here(org: OrgWorld) -> None:
    unbound = await org.say("wangsg", STAFF, "/help")
    assert "本群尚未绑定" in (unbound.text or "")
    assert commands(unbound.text) == ["start", "help", "lang", "bind"], unbound.text
    admin = await org.say("admin", STAFF, "/help")
    assert "setup" in commands(admin.text), admin.text

    await set_up(org)
    resident = await org.say("qianay", BUILDING, "/help")
    listed = commands(resident.text)
    assert "register" in listed and "roles" in listed, resident.text
    assert "members" not in listed and "role" not in listed and "topic" not in listed
    assert "幸福社区 › 第一网格 › 3号楼" in (resident.text or "")
    head = await org.say("zhaold", BUILDING, "/help")
    listed = commands(head.text)
    assert {"members", "role", "unrole", "topic", "close", "ballot"} <= set(listed), head.text
    assert "楼栋长" in (head.text or "")
    # What the building head may use on WeCom; /pushwebhook is the staff group's.
    assert {"meeting", "escalate", "export"} <= set(listed), head.text
    assert "pushwebhook" not in listed, head.text
    role = next(line for line in (head.text or "").splitlines() if "@议事 /role " in line)
    assert "企业微信账号" in role and "回复" not in role, role  # WeCom's way, not Telegram's


async def test_the_staff_groups_help_lists_pushwebhook(org: OrgWorld) -> None:
    await set_up(org)
    staff = await org.say("wangsg", STAFF, "/help")
    listed = commands(staff.text)
    assert {"pushwebhook", "digest", "subscribe", "export"} <= set(listed), staff.text
    line = next(line for line in (staff.text or "").splitlines() if "/pushwebhook " in line)
    assert "消息推送" in line, line
    # Residents of the building and the grid's worker in the grid group are not shown it.
    grid = commands((await org.say("zhangwg", GRID, "/help")).text)
    assert "pushwebhook" not in grid and "stats" in grid


async def test_a_message_without_a_command_says_where_the_group_stands(org: OrgWorld) -> None:
    unbound = await org.say("wangsg", STAFF, "你好")
    assert "还没有绑定" in (unbound.text or "") and "@议事" in (unbound.text or "")
    await set_up(org)
    bound = await org.say("qianay", BUILDING, "在吗")
    assert "3号楼" in (bound.text or "") and "@议事 发送 /help" in (bound.text or "")
    unknown = await org.say("qianay", BUILDING, "/frobnicate")
    assert "/help" in (unknown.text or ""), unknown.text


async def test_opening_the_single_chat_is_welcomed(org: OrgWorld) -> None:
    opened = await org.emu.enter_chat("sundy")
    frame = await org.emu.wait_for_frame(
        "aibot_respond_welcome_msg", req_id=opened.req_id, timeout=5
    )
    assert frame.errcode == 0, frame
    welcome = org.emu.world.seen_by("sundy", Place("single", "sundy", "aib_yishi"))[-1]
    assert "议事" in (welcome.text or "") and "/register" in (welcome.text or "")
    assert "**" not in (welcome.text or "")  # a welcome is plain text
