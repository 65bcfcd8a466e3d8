"""Faults a test switches on: dropped connections, refused frames, slow acks, dropped events."""

from __future__ import annotations

import asyncio
import time

import pytest

from emulators.wecom.server import WeComEmulator
from tests.emulator_wecom.conftest import BOT_ID, GROUP, BotClient, vote_card


def markdown(content: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": content}}


def group_texts(emu: WeComEmulator) -> list[str | None]:
    return [s.text for s in emu.world.seen_by("lisi") if s.sender.startswith("bot:")]


async def test_a_dropped_connection_loses_pushes_until_the_bot_subscribes_again(
    emu: WeComEmulator, bot: BotClient
):
    assert emu.drop_connection(BOT_ID)
    await asyncio.wait_for(bot.closed.wait(), 2.0)
    await emu.wait_for(lambda: BOT_ID not in emu.live)
    lost = await emu.mention("zhangsan", GROUP, "/topics")
    assert emu.undelivered == [lost] and not lost.delivered
    again = await BotClient.connect(emu.ws_url)
    assert (await again.subscribe())["errcode"] == 0
    issued = await emu.mention("zhangsan", GROUP, "/topics")
    assert (await again.next_push())["headers"]["req_id"] == issued.req_id
    await again.close()


async def test_a_connection_dropped_mid_burst_keeps_what_was_handled(
    emu: WeComEmulator, bot: BotClient
):
    presses = [await emu.mention("zhangsan", GROUP, f"/vote {i}") for i in range(3)]
    for _ in presses:
        await bot.next_push()
    emu.drop_connection_after(BOT_ID, frames=2)
    first = await bot.call("aibot_respond_msg", markdown("一"), presses[0].req_id)
    assert first["errcode"] == 0
    second = await bot.send("aibot_respond_msg", markdown("二"), presses[1].req_id)
    await asyncio.wait_for(bot.closed.wait(), 2.0)
    assert not bot._acks[second].done()  # handled, but its ack was lost with the connection
    assert group_texts(emu) == ["一", "二"]


async def test_nothing_sent_after_the_cut_arrives(emu: WeComEmulator, bot: BotClient):
    presses = [await emu.mention("zhangsan", GROUP, f"/vote {i}") for i in range(3)]
    for _ in presses:
        await bot.next_push()
    emu.drop_connection_after(BOT_ID, frames=1)
    for press, text in zip(presses, ["一", "二", "三"], strict=True):  # at once, no waiting
        await bot.send("aibot_respond_msg", markdown(text), press.req_id)
    await asyncio.wait_for(bot.closed.wait(), 2.0)
    assert group_texts(emu) == ["一"]
    assert [press.answered for press in presses] == [True, False, False]


async def test_a_refused_frame_changes_nothing_and_the_next_goes_through(
    emu: WeComEmulator, bot: BotClient
):
    issued = await emu.mention("zhangsan", GROUP, "/help")
    emu.refuse_next("aibot_respond_msg", 846601, "system busy")
    refused = await bot.call("aibot_respond_msg", markdown("帮助"), issued.req_id)
    assert (refused["errcode"], refused["errmsg"]) == (846601, "system busy")
    assert group_texts(emu) == []
    again = await bot.call("aibot_respond_msg", markdown("帮助"), issued.req_id)
    assert again["errcode"] == 0
    assert group_texts(emu) == ["帮助"]


async def test_a_slow_wecom_acks_late(emu: WeComEmulator, bot: BotClient):
    issued = await emu.mention("zhangsan", GROUP, "/help")
    emu.delay_acks(0.4)
    started = time.monotonic()
    req_id = await bot.send("aibot_respond_msg", markdown("帮助"), issued.req_id)
    await emu.wait_for(lambda: group_texts(emu) == ["帮助"])
    assert not bot._acks[req_id].done()  # done, not yet acknowledged
    ack = await bot.ack(req_id)
    assert ack["errcode"] == 0
    assert time.monotonic() - started >= 0.4
    emu.delay_acks(0)
    assert (await bot.call("ping"))["errcode"] == 0


async def test_an_unanswered_event_is_dropped_after_5_s(emu: WeComEmulator, bot: BotClient, clock):
    issued = await emu.mention("zhangsan", GROUP, "/topic")
    await bot.next_push()
    card = {"msgtype": "template_card", "template_card": vote_card()}
    await bot.call("aibot_respond_msg", card, issued.req_id)
    emu.drop_unanswered_events(after=5.0)
    press = await emu.submit_vote("lisi", "topic_12", ["o1"])
    await bot.next_push()
    clock.advance(4.0)
    await asyncio.sleep(0.2)
    assert emu.dropped_events == []
    clock.advance(1.1)
    await emu.wait_for(lambda: emu.dropped_events, timeout=2.0)
    assert emu.dropped_events == [press]
    clock.advance(-2.0)  # even an answer WeCom would have taken in time is too late now
    update = {"response_type": "update_template_card", "template_card": vote_card()}
    ack = await bot.call("aibot_respond_update_msg", update, press.req_id)
    assert ack["errcode"] == 846605


async def test_wait_answered_returns_the_first_frame_on_a_callback(
    emu: WeComEmulator, bot: BotClient
):
    issued = await emu.mention("zhangsan", GROUP, "/help")
    waiting = asyncio.ensure_future(emu.wait_answered(issued.req_id, timeout=2.0))
    await asyncio.sleep(0)
    assert not waiting.done()
    emu.refuse_next("aibot_respond_msg", 846601, "system busy")
    await bot.call("aibot_respond_msg", markdown("帮助"), issued.req_id)
    first = await waiting
    assert (first.req_id, first.errcode) == (issued.req_id, 846601)
    await bot.call("aibot_respond_msg", markdown("帮助"), issued.req_id)
    assert (await emu.wait_answered(issued.req_id)) is first  # the first, not the latest
    with pytest.raises(TimeoutError):
        await emu.wait_answered("aibot_msg_callback_never", timeout=0.05)


async def test_after_a_reconnect_unanswered_callbacks_come_again_if_switched_on(
    emu: WeComEmulator, bot: BotClient
):
    emu.behaviour.redeliver_after_reconnect = True
    answered = await emu.mention("zhangsan", GROUP, "/x 1")
    unanswered = await emu.mention("zhangsan", GROUP, "/x 2")
    await bot.next_push()
    await bot.next_push()
    await bot.call("aibot_respond_msg", markdown("一"), answered.req_id)
    assert emu.drop_connection(BOT_ID)
    await asyncio.wait_for(bot.closed.wait(), 2.0)
    await emu.wait_for(lambda: BOT_ID not in emu.live)
    meanwhile = await emu.mention("lisi", GROUP, "/y")  # nobody to push it to
    again = await BotClient.connect(emu.ws_url)
    assert (await again.subscribe())["errcode"] == 0
    pushed = [await again.next_push(), await again.next_push()]
    assert [p["headers"]["req_id"] for p in pushed] == [unanswered.req_id, meanwhile.req_id]
    assert [p["body"]["msgid"] for p in pushed] == [
        unanswered.body["msgid"],
        meanwhile.body["msgid"],
    ]
    assert emu.redelivered == [unanswered, meanwhile] and emu.undelivered == []
    assert (await again.call("aibot_respond_msg", markdown("二"), unanswered.req_id))[
        "errcode"
    ] == 0
    with pytest.raises(TimeoutError):  # nothing else: the answered one is not pushed again
        await again.next_push(timeout=0.2)
    await again.close()


async def test_after_a_reconnect_nothing_comes_again_by_default(emu: WeComEmulator, bot: BotClient):
    await emu.mention("zhangsan", GROUP, "/x")
    await bot.next_push()
    assert emu.drop_connection(BOT_ID)
    await asyncio.wait_for(bot.closed.wait(), 2.0)
    again = await BotClient.connect(emu.ws_url)
    assert (await again.subscribe())["errcode"] == 0
    with pytest.raises(TimeoutError):
        await again.next_push(timeout=0.2)
    assert emu.redelivered == []
    await again.close()


async def test_a_slow_wecom_pushes_late_and_the_window_counts_from_the_press(
    emu: WeComEmulator, bot: BotClient, clock
):
    issued = await emu.mention("zhangsan", GROUP, "/topic")
    await bot.next_push()
    card = {"msgtype": "template_card", "template_card": vote_card()}
    await bot.call("aibot_respond_msg", card, issued.req_id)
    emu.delay_pushes(0.3)
    press = await emu.submit_vote("lisi", "topic_12", ["o1"])
    assert not press.delivered
    with pytest.raises(TimeoutError):
        await bot.next_push(timeout=0.1)
    pushed = await bot.next_push(timeout=2.0)
    assert pushed["headers"]["req_id"] == press.req_id and press.delivered
    clock.advance(5.1)  # the 5 s ran from the press, not from the push
    update = {"response_type": "update_template_card", "template_card": vote_card()}
    ack = await bot.call("aibot_respond_update_msg", update, press.req_id)
    assert ack["errcode"] == 846605
