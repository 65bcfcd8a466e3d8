"""Telegram and WeCom in one process with WeCom in callback mode (``yishi run --channel both
--wecom-callback``): the grid's topic for every building, published on Telegram, reaches the
WeCom group that wrote to the bot within the hour (its details and its card through the
response_urls of two messages there, as callback mode cannot write first); a vote there is
answered passively with the new tally."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from bot.settings import Settings
from channels.telegram.app import Companion
from channels.wecom.callback_server import PATH
from channels.wecom.channel import WeComBeside
from channels.wecom.crypto import WeComCrypto
from emulators.wecom.callback_client import CallbackClient
from emulators.wecom.server import WeComEmulator
from locales import Translator
from tests.auxil.harness import Harness
from tests.auxil.world import GRID_CHAT, GRID_WORKER
from tests.e2e_mixed.conftest import (
    BOT_ID,
    WECOM_BUILDING,
    WECOM_GROUP,
    answered,
    card_in_wecom_group,
    running_both,
    started_wecom,
    with_a_wecom_building,
)

TOKEN = "yishiCallbackToken2026"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


def wecom_by_callback(settings: Settings) -> Sequence[Companion]:
    return [WeComBeside(settings, Translator(settings.locale), callback=True)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
async def both_channels(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Harness, WeComEmulator]]:
    wecom = await started_wecom()
    port = free_port()
    settings = {
        "YISHI_WECOM_TOKEN": TOKEN,
        "YISHI_WECOM_AES_KEY": AES_KEY,
        "YISHI_WECOM_LISTEN": f"127.0.0.1:{port}",
    }
    client = CallbackClient(f"http://127.0.0.1:{port}{PATH}", WeComCrypto(TOKEN, AES_KEY))
    wecom.attach_callback(BOT_ID, client)
    try:
        async with running_both(request.param, tmp_path, settings, wecom_by_callback) as h:
            yield h, wecom
    finally:
        await wecom.stop()


async def test_a_grid_topic_reaches_a_wecom_group_in_callback_mode_and_is_voted_on(
    both_channels: tuple[Harness, WeComEmulator],
) -> None:
    h, wecom = both_channels
    await with_a_wecom_building(h, wecom)  # its /bind's response_url: one message out
    asked = await wecom.mention("lisi", WECOM_BUILDING, "/help")  # and a second one
    await answered(wecom, asked.req_id, "aibot_respond_msg")
    await h.say(GRID_CHAT, GRID_WORKER, "/topic 统一更换门禁 范围=all 期限=2天")
    await h.settle()
    card = await card_in_wecom_group(
        wecom, "lisi"
    )  # after the topic's details  # by the /bind's response_url
    assert "统一更换门禁" in card["main_title"]["title"]
    options = {option["text"]: option["id"] for option in card["checkbox"]["option_list"]}
    pressed = await wecom.submit_vote("wangwu", card["task_id"], [options["同意"]])
    frame = await answered(wecom, pressed.req_id, "aibot_respond_update_msg")
    assert frame.via == "callback"
    shown = wecom.world.seen_by("lisi", WECOM_GROUP)[-1].card
    assert shown is not None and "同意：1" in shown["main_title"]["desc"], shown
