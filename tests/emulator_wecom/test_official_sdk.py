"""WeCom's own Python SDK (wecom-aibot-python-sdk, WecomTeam) against the emulator: the fake
takes the official client as the real server does (subscribe, a card answer, a press's card
update), and the WeCom benchmark's stock baseline (benchmarks/sdk_wecom.py) is a working bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from benchmarks.sdk_wecom import SdkBot
from emulators.wecom.server import WeComEmulator
from emulators.wecom.world import Place
from tests.emulator_wecom.conftest import BOT_ID, GROUP, SECRET


@pytest.fixture
async def sdk_bot(emu: WeComEmulator) -> AsyncIterator[SdkBot]:
    bot = SdkBot(emu.ws_url, BOT_ID, SECRET)
    await bot.client.connect()
    await emu.wait_for(lambda: BOT_ID in emu.live, timeout=5)
    yield bot
    bot.client.disconnect()
    await asyncio.sleep(0.05)  # the SDK closes its socket in a task of its own


async def test_the_official_sdk_subscribes_answers_with_a_card_and_updates_it_on_a_press(
    emu: WeComEmulator, sdk_bot: SdkBot
) -> None:
    issued = await emu.mention("zhangsan", GROUP, "/topic 加装电梯")
    answer = await emu.wait_answered(issued.req_id)
    assert (answer.cmd, answer.errcode) == ("aibot_respond_msg", 0)
    cards = [b.card for b in emu.world.in_place(Place("group", GROUP)) if b.card is not None]
    assert cards[-1]["main_title"]["title"] == "加装电梯"
    task_id = str(cards[-1]["task_id"])

    pressed = await emu.submit_vote("lisi", task_id, ["o1"])
    update = await emu.wait_answered(pressed.req_id)
    assert (update.cmd, update.errcode) == ("aibot_respond_update_msg", 0)
    assert update.at - pressed.at < 5.0  # within WeCom's window for a card update
    assert update.body["template_card"]["task_id"] == task_id
