"""A community set up on WeCom alone, as its people would: a super-admin (YISHI_WECOM_ADMIN_USERIDS)
runs `@议事 /setup` in the staff group, bind codes go to the grid and building groups, roles
are given by WeCom account. Used by the setup, registration and /help tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Table, func, select

from bot.catalogue import load_catalogue
from bot.clock import ManualClock
from bot.services import Services
from bot.settings import load_settings
from channels.wecom.channel import WeComChannel
from emulators.wecom.replies import Issued
from emulators.wecom.server import WeComEmulator
from emulators.wecom.world import Place, Seen
from locales import Translator
from storage.database import Database

BOT_ID = "aib_yishi"
SECRET = "s3cret-long-connection"
STAFF, GRID, BUILDING = "wrStaff0001", "wrGrid0002", "wrBuilding0003"
PEOPLE = {
    "admin": "周主任",  # the super-admin
    "wangsg": "王社工",
    "zhangwg": "张网格",
    "zhaold": "赵楼长",
    "qianay": "钱阿姨",
    "sundy": "孙大爷",
}
MEMBERS = {
    STAFF: ["admin", "wangsg"],
    GRID: ["wangsg", "zhangwg"],
    BUILDING: ["zhangwg", "zhaold", "qianay", "sundy"],
}
START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
_CODE = re.compile(r"/bind (\w+)")


@dataclass
class OrgWorld:
    emu: WeComEmulator
    services: Services
    channel: WeComChannel

    async def say(self, userid: str, chatid: str, text: str) -> Seen:
        """``userid`` writes ``@议事 text`` in ``chatid``; the bot's answer as they see it."""
        issued = await self.emu.mention(userid, chatid, text)
        return await self.answer(issued, userid)

    async def answer(self, issued: Issued, userid: str) -> Seen:
        frame = await self.emu.wait_for_frame("aibot_respond_msg", req_id=issued.req_id, timeout=5)
        assert frame.errcode == 0, frame
        return self.last(userid, issued.place.chatid)

    def last(self, userid: str, chatid: str) -> Seen:
        return self.emu.world.seen_by(userid, Place("group", chatid))[-1]

    def seen(self, userid: str, chatid: str) -> list[Seen]:
        return self.emu.world.seen_by(userid, Place("group", chatid))

    async def count(self, table: Table) -> int:
        async with self.services.database.transaction() as repos:
            query = select(func.count()).select_from(table)
            return int((await repos.connection.execute(query)).scalar_one())


def code_in(seen: Seen) -> str:
    match = _CODE.search(seen.text or "")
    assert match is not None, seen.text
    return match.group(1)


@asynccontextmanager
async def running_org(database: Database, **settings: str) -> AsyncIterator[OrgWorld]:
    """The emulated WeCom with ``PEOPLE`` in their groups, the services (with ``settings``
    besides; push webhooks are the emulator's), the WeCom channel started."""
    emu = WeComEmulator()
    emu.add_bot(BOT_ID, SECRET)
    for userid, name in PEOPLE.items():
        emu.add_person(userid, name)
    for chatid, members in MEMBERS.items():
        emu.add_group(chatid, chatid, members)
    await emu.start()
    loaded = load_settings(
        TELEGRAM_BOT_TOKEN="1:x",
        YISHI_WECOM_ADMIN_USERIDS="admin",
        YISHI_LOCALE="zh_CN",
        YISHI_WECOM_WEBHOOK_BASE=emu.url,
        _env_file=None,
        **settings,
    )
    services = Services.build(
        database, ManualClock(START), loaded, load_catalogue(), realtime=False
    )
    channel = WeComChannel(
        services, Translator("zh_CN"), url=emu.ws_url, bot_id=BOT_ID, secret=SECRET
    )
    await channel.start(wait=5)
    try:
        yield OrgWorld(emu, services, channel)
    finally:
        await channel.stop()
        await services.outbox.close()
        await emu.stop()


@pytest.fixture
async def org(database: Database) -> AsyncIterator[OrgWorld]:
    async with running_org(database) as world:
        yield world


async def set_up(org: OrgWorld) -> None:
    """The tree as the setup test builds it, step by step through WeCom: 幸福社区 › 第一网格 ›
    3号楼, 王社工 community staff, 张网格 grid worker, 赵楼长 building head."""
    await org.say("admin", STAFF, "/setup 幸福社区")
    await org.say("wangsg", STAFF, "/help")  # the bot knows people who wrote to it
    await org.say("admin", STAFF, "/role wangsg 社区工作人员")
    grid_code = code_in(await org.say("wangsg", STAFF, "/newgrid 第一网格"))
    await org.say("zhangwg", GRID, f"/bind {grid_code}")
    await org.say("wangsg", GRID, "/role zhangwg 网格员")
    building_code = code_in(await org.say("zhangwg", GRID, "/newbuilding 3号楼"))
    await org.say("zhaold", BUILDING, f"/bind {building_code}")
    await org.say("zhangwg", BUILDING, "/role zhaold 楼栋长")
