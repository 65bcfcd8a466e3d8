"""Telegram and WeCom in one process: the Telegram harness with WeCom beside it (the
companion ``yishi run --channel both`` adds), one community across both."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from channels.telegram.app import Companion
from channels.wecom.channel import WeComBeside
from emulators.wecom.server import WeComEmulator
from emulators.wecom.world import Place as WeComPlace
from locales import Translator
from tests.auxil.harness import Harness
from tests.auxil.world import GRID_CHAT, GRID_WORKER, code_in, community
from tests.conftest import migrated_postgres_database, migrated_sqlite_copy
from tests.e2e_wecom.conftest import started_emulator

BOT_ID, SECRET = "aib_yishi", "s3cret-long-connection"
WECOM_BUILDING = "wrBuilding0003"
WECOM_PEOPLE = {"zhangsan": "张三", "lisi": "李四", "wangwu": "王五"}
WECOM_GROUP = WeComPlace("group", WECOM_BUILDING)


def wecom_beside(settings: Settings) -> Sequence[Companion]:
    return [WeComBeside(settings, Translator(settings.locale))]


async def started_wecom() -> WeComEmulator:
    """The emulated WeCom: the bot, its people, the WeCom building group."""
    return await started_emulator(WECOM_PEOPLE)


@asynccontextmanager
async def running_both(
    database: str,
    tmp_path: Path,
    settings: dict[str, str],
    companions: Callable[[Settings], Sequence[Companion]],
) -> AsyncIterator[Harness]:
    """Yishi with Telegram and a WeCom companion, on SQLite or a new PostgreSQL database
    (migrated already: tests/conftest.py)."""
    async with contextlib.AsyncExitStack() as stack:
        url = None
        if database == "postgresql":
            url = await stack.enter_async_context(migrated_postgres_database())
        else:
            await migrated_sqlite_copy(tmp_path / "yishi.db")
        h = Harness(tmp_path, database_url=url, settings=settings, companions=companions)
        await h.start()
        try:
            yield h
        finally:
            await h.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def both_channels(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Harness, WeComEmulator]]:
    wecom = await started_wecom()
    wecom_settings = {
        "YISHI_WECOM_BOT_ID": BOT_ID,
        "YISHI_WECOM_SECRET": SECRET,
        "YISHI_WECOM_WS_URL": wecom.ws_url,
    }
    try:
        async with running_both(request.param, tmp_path, wecom_settings, wecom_beside) as h:
            yield h, wecom
    finally:
        await wecom.stop()


async def answered(wecom: WeComEmulator, req_id: str, cmd: str) -> Any:
    frame = await wecom.wait_for_frame(cmd, req_id=req_id, timeout=5)
    assert frame.errcode == 0, frame
    return frame


async def card_in_wecom_group(wecom: WeComEmulator, userid: str) -> dict[str, Any]:
    for _ in range(100):
        cards = [seen.card for seen in wecom.world.seen_by(userid, WECOM_GROUP) if seen.card]
        if cards:
            return cards[-1]
        await asyncio.sleep(0.05)
    raise AssertionError("no card reached the WeCom group")


async def with_a_wecom_building(h: Harness, wecom: WeComEmulator) -> None:
    """社区, 网格 and 1号楼 on Telegram (tests/auxil/world.py), 3号楼's group on WeCom."""
    await community(h)
    issued = await h.say(GRID_CHAT, GRID_WORKER, "/newbuilding 3号楼")
    bind = await wecom.mention("zhangsan", WECOM_BUILDING, f"/bind {code_in(issued.text)}")
    await answered(wecom, bind.req_id, "aibot_respond_msg")


async def a_grid_topic_card(h: Harness, wecom: WeComEmulator) -> dict[str, Any]:
    """With a WeCom building, the grid's topic for every building published on Telegram: the
    vote card the WeCom group got."""
    await with_a_wecom_building(h, wecom)
    await h.say(GRID_CHAT, GRID_WORKER, "/topic 统一更换门禁 范围=all 期限=2天")
    await h.settle()
    return await card_in_wecom_group(wecom, "lisi")
