"""Yishi on WeCom end to end: the real services on SQLite or PostgreSQL, the WeCom channel on
its long connection to the WeCom emulator, people acting in the emulator's groups.

The organisation tree above the WeCom group (a community and a grid, their staff groups on
Telegram) is set up through the services, as `/setup`, `/newgrid` and `/newbuilding` would:
those commands are Telegram's and tested there; what is under test here is what happens on
WeCom, from `/bind` on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.catalogue import load_catalogue
from bot.clock import ManualClock
from bot.services import Services
from bot.services.actors import Actor, ChatKind, Place
from bot.settings import load_settings
from channels.wecom.channel import WeComChannel
from emulators.wecom.replies import Issued
from emulators.wecom.server import WeComEmulator
from locales import Translator
from storage.database import Database
from storage.records import Platform

BOT_ID = "aib_yishi"
SECRET = "s3cret-long-connection"
BUILDING_GROUP = "wrBuilding0003"
PEOPLE = {"zhangsan": "张三", "lisi": "李四", "wangwu": "王五", "zhaoliu": "赵六"}
SUPERADMIN = Actor(1, is_superadmin=True)
STAFF_CHAT, GRID_CHAT = -1001, -1002  # Telegram groups of the community and the grid
START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai


@dataclass
class World:
    emu: WeComEmulator
    services: Services
    channel: WeComChannel
    clock: ManualClock
    building_code: str

    async def yishi_id(self, userid: str) -> int:
        async with self.services.database.transaction() as repos:
            user_id, _ = await repos.users.seen_on(Platform.WECOM, userid, name=userid, now=START)
        return user_id

    async def chat_id(self, chatid: str) -> int:
        async with self.services.database.transaction() as repos:
            chat_id, _ = await repos.chats.seen_on(
                Platform.WECOM, chatid, type="group", title=None, now=START
            )
        return chat_id


async def started_emulator(people: dict[str, str] | None = None) -> WeComEmulator:
    """The emulated WeCom: the bot, the people (``PEOPLE`` unless given), the building group
    they are in."""
    people = PEOPLE if people is None else people
    emu = WeComEmulator()
    emu.add_bot(BOT_ID, SECRET)
    for userid, name in people.items():
        emu.add_person(userid, name)
    emu.add_group(BUILDING_GROUP, "3号楼居民群", list(people))
    await emu.start()
    return emu


async def services_over_a_grid(
    database: Database, clock: ManualClock, emu: WeComEmulator
) -> tuple[Services, str]:
    """The services, and the tree above the WeCom group: a community and a grid whose groups
    are on Telegram; with the bind code the building group is to use."""
    settings = load_settings(
        TELEGRAM_BOT_TOKEN="1:x",
        YISHI_ADMIN_IDS="1",
        YISHI_LOCALE="zh_CN",
        YISHI_WECOM_WEBHOOK_BASE=emu.url,  # its push webhooks are the emulator's
        _env_file=None,
    )
    services = Services.build(database, clock, settings, load_catalogue(), realtime=False)
    staff = Place(STAFF_CHAT, ChatKind.GROUP, "幸福社区工作群")
    await services.orgs.setup(SUPERADMIN, staff, "幸福社区")
    grid_code = await services.orgs.issue_code(SUPERADMIN, staff, "第一网格", "grid")
    grid = Place(GRID_CHAT, ChatKind.GROUP, "第一网格群")
    await services.orgs.bind(SUPERADMIN, grid, grid_code.code, is_chat_admin=True)
    building_code = await services.orgs.issue_code(SUPERADMIN, grid, "3号楼", "building")
    return services, building_code.code


@pytest.fixture
async def world(database: Database) -> AsyncIterator[World]:
    emu = await started_emulator()
    clock = ManualClock(START)
    services, building_code = await services_over_a_grid(database, clock, emu)
    channel = WeComChannel(
        services, Translator("zh_CN"), url=emu.ws_url, bot_id=BOT_ID, secret=SECRET
    )
    await channel.start(wait=5)
    try:
        yield World(emu, services, channel, clock, building_code)
    finally:
        await channel.stop()
        await services.outbox.close()
        await emu.stop()


async def published(world: World, issued: Issued) -> None:
    """Wait for a ``/topic``'s answer: the ballot message, then its card."""

    def card_sent() -> bool:
        return any(
            frame.cmd == "aibot_respond_msg"
            and frame.req_id == issued.req_id
            and frame.body.get("msgtype") == "template_card"
            for frame in world.emu.frames
        )

    await world.emu.wait_for(card_sent, timeout=30)
