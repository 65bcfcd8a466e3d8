"""Telegram and WeCom in one process (``yishi run --channel both``): one community whose
staff, grid and a building group are on Telegram and another building's group on WeCom.
The grid's topic for every building reaches both: a ballot message on Telegram, a vote card
on WeCom; votes from both count in one tally, and the outcome reaches both. Telegram is never
asked to post into the WeCom chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from channels.telegram.app import Companion
from channels.wecom.channel import WeComBeside
from emulators.wecom.server import WeComEmulator
from emulators.wecom.world import Place as WeComPlace
from locales import Translator
from storage.records import FIRST_FOREIGN_ID
from tests.auxil.harness import Harness
from tests.auxil.world import GRID_CHAT, GRID_WORKER, RESIDENT, code_in, community
from tests.conftest import fresh_postgres_database

BOT_ID, SECRET = "aib_yishi", "s3cret-long-connection"
WECOM_BUILDING = "wrBuilding0003"
WECOM_PEOPLE = {"zhangsan": "张三", "lisi": "李四", "wangwu": "王五"}
WECOM_GROUP = WeComPlace("group", WECOM_BUILDING)


def wecom_beside(settings: Settings) -> Sequence[Companion]:
    return [WeComBeside(settings, Translator(settings.locale))]


@pytest.fixture(params=["sqlite", "postgresql"])
async def both_channels(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Harness, WeComEmulator]]:
    wecom = WeComEmulator()
    wecom.add_bot(BOT_ID, SECRET)
    for userid, name in WECOM_PEOPLE.items():
        wecom.add_person(userid, name)
    wecom.add_group(WECOM_BUILDING, "3号楼居民群", list(WECOM_PEOPLE))
    await wecom.start()
    wecom_settings = {
        "YISHI_WECOM_BOT_ID": BOT_ID,
        "YISHI_WECOM_SECRET": SECRET,
        "YISHI_WECOM_WS_URL": wecom.ws_url,
    }
    try:
        if request.param == "sqlite":
            h = Harness(tmp_path, settings=wecom_settings, companions=wecom_beside)
            await h.start()
            try:
                yield h, wecom
            finally:
                await h.stop()
        else:
            async with fresh_postgres_database() as url:
                h = Harness(
                    tmp_path, database_url=url, settings=wecom_settings, companions=wecom_beside
                )
                await h.start()
                try:
                    yield h, wecom
                finally:
                    await h.stop()
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


async def test_a_grid_topic_for_every_building_is_voted_on_in_telegram_and_wecom(
    both_channels: tuple[Harness, WeComEmulator],
) -> None:
    h, wecom = both_channels
    await community(h)  # 社区, 网格 and 1号楼 on Telegram
    issued = await h.say(GRID_CHAT, GRID_WORKER, "/newbuilding 3号楼")
    bind = await wecom.mention("zhangsan", WECOM_BUILDING, f"/bind {code_in(issued.text)}")
    await answered(wecom, bind.req_id, "aibot_respond_msg")
    said = wecom.world.seen_by("lisi", WECOM_GROUP)[-1].text or ""
    assert "3号楼" in said and "第一网格" in said, said

    await h.say(GRID_CHAT, GRID_WORKER, "/topic 统一更换门禁 范围=all 期限=2天")
    await h.settle()
    card = await card_in_wecom_group(wecom, "lisi")
    assert card["card_type"] == "vote_interaction"
    assert "统一更换门禁" in card["main_title"]["title"]
    options = {option["text"]: option["id"] for option in card["checkbox"]["option_list"]}

    pressed = await wecom.submit_vote("lisi", card["task_id"], [options["同意"]])
    await answered(wecom, pressed.req_id, "aibot_respond_update_msg")
    ballot = next(
        m for m in h.emu.bot_messages(-1003) if "统一更换门禁" in (m.text or "") and m.reply_markup
    )
    await h.press(-1003, ballot.message_id, RESIDENT, "同意")
    await h.settle()

    await h.pass_time(timedelta(days=2, minutes=1))
    await h.settle()
    await asyncio.sleep(0.2)  # the WeCom outcome goes out through the outbox
    wecom_texts = [seen.text or "" for seen in wecom.world.seen_by("lisi", WECOM_GROUP)]
    assert any("统一更换门禁" in text and "同意：2" in text for text in wecom_texts), wecom_texts
    telegram_texts = [m.text or "" for m in h.emu.bot_messages(-1003)]
    assert any("统一更换门禁" in text and "同意：2" in text for text in telegram_texts)
    # Telegram was never asked to post into (or ask about) the WeCom chat.
    assert not [
        call
        for call in h.emu.calls
        if isinstance(call.params.get("chat_id"), int | str)
        and int(call.params["chat_id"]) >= FIRST_FOREIGN_ID
    ]
