"""The long connection against the WeCom emulator: subscribe, heartbeat, reconnect, refusals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from channels.wecom.connection import ConnectionLost, LongConnection, WeComRefused, _frame
from emulators.wecom.behaviour import Behaviour
from emulators.wecom.server import WeComEmulator
from tests.emulator_wecom.conftest import BOT_ID, GROUP, SECRET

MARKDOWN = {"msgtype": "markdown", "markdown": {"content": "**通知**"}}


class Received:
    def __init__(self) -> None:
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def __call__(self, frame: dict[str, Any]) -> None:
        await self.frames.put(frame)


def connection(emu: WeComEmulator, received: Received, **options: Any) -> LongConnection:
    options = {"backoff_first": 0.05, "backoff_max": 0.5} | options
    return LongConnection(emu.ws_url, BOT_ID, SECRET, received, **options)


async def the_group_wrote(emu: WeComEmulator, received: Received) -> None:
    """Someone @-mentioned the bot in GROUP (so the bot may send there), and it was read."""
    await emu.mention("zhangsan", GROUP, "你好")
    await received.frames.get()


@pytest.fixture
async def linked(emu: WeComEmulator) -> AsyncIterator[tuple[LongConnection, Received]]:
    received = Received()
    link = connection(emu, received)
    await link.start()
    await link.wait_subscribed(5)
    yield link, received
    await link.stop()


async def test_it_subscribes_and_receives_what_people_write(
    emu: WeComEmulator, linked: tuple[LongConnection, Received]
) -> None:
    link, received = linked
    assert BOT_ID in emu.live
    issued = await emu.mention("zhangsan", GROUP, "/help")
    frame = await asyncio.wait_for(received.frames.get(), 3)
    assert frame["cmd"] == "aibot_msg_callback"
    assert frame["headers"]["req_id"] == issued.req_id
    assert frame["body"]["text"]["content"] == "@议事 /help"
    await link.respond(issued.req_id, MARKDOWN)
    assert [seen.text for seen in emu.world.seen_by("lisi")][-1] == "**通知**"


async def test_a_proactive_send_reaches_a_group_that_wrote(
    emu: WeComEmulator, linked: tuple[LongConnection, Received]
) -> None:
    link, received = linked
    await the_group_wrote(emu, received)
    await link.send(GROUP, MARKDOWN)
    assert emu.world.seen_by("wangwu")[-1].text == "**通知**"


async def test_a_refused_frame_raises_with_its_errcode(
    emu: WeComEmulator, linked: tuple[LongConnection, Received]
) -> None:
    link, _ = linked
    with pytest.raises(WeComRefused) as refused:  # the group never wrote to the bot
        await link.send(GROUP, MARKDOWN)
    assert refused.value.errcode == 93006
    emu.refuse_next("aibot_send_msg", 45009, "api freq out of limit")
    await emu.mention("zhangsan", GROUP, "你好")
    with pytest.raises(WeComRefused) as limited:
        await link.send(GROUP, MARKDOWN)
    assert (limited.value.cmd, limited.value.errcode) == ("aibot_send_msg", 45009)
    await link.send(GROUP, MARKDOWN)  # the next one goes through
    assert emu.world.seen_by("lisi")[-1].text == "**通知**"


async def test_a_dropped_connection_is_made_again_within_seconds(
    emu: WeComEmulator, linked: tuple[LongConnection, Received]
) -> None:
    link, received = linked
    for _ in range(3):
        count = len(emu.connections)
        assert emu.drop_connection(BOT_ID)
        await emu.wait_for(lambda n=count: len(emu.connections) > n and BOT_ID in emu.live, 3)
    await link.wait_subscribed(3)
    assert link.connects == 4
    issued = await emu.mention("lisi", GROUP, "/help")  # callbacks arrive on the new one
    assert (await asyncio.wait_for(received.frames.get(), 3))["headers"]["req_id"] == (
        issued.req_id
    )
    await link.respond(issued.req_id, MARKDOWN)


async def test_a_bad_secret_is_tried_again_with_backoff_and_reported(
    emu: WeComEmulator,
) -> None:
    link = LongConnection(
        emu.ws_url, BOT_ID, "wrong", Received(), backoff_first=0.05, backoff_max=0.2
    )
    await link.start()
    try:
        await emu.wait_for(
            lambda: sum(frame.cmd == "aibot_subscribe" for frame in emu.frames) >= 3, 3
        )
        assert not link.subscribed and BOT_ID not in emu.live
        assert isinstance(link.last_error, WeComRefused)
        assert link.last_error.errcode == 853000
    finally:
        await link.stop()


async def test_the_heartbeat_keeps_the_connection_and_a_silent_one_is_dropped() -> None:
    emulator = WeComEmulator(behaviour=Behaviour(heartbeat_timeout=0.6))
    emulator.add_bot(BOT_ID, SECRET)
    await emulator.start()
    pinging = LongConnection(emulator.ws_url, BOT_ID, SECRET, Received(), ping_interval=0.15)
    try:
        await pinging.start()
        await pinging.wait_subscribed(3)
        await asyncio.sleep(1.5)  # more than twice the server's heartbeat timeout
        assert pinging.connects == 1 and len(emulator.connections) == 1
    finally:
        await pinging.stop()
    silent = LongConnection(
        emulator.ws_url, BOT_ID, SECRET, Received(), ping_interval=60, backoff_first=0.05
    )
    try:
        await silent.start()
        await silent.wait_subscribed(3)
        await emulator.wait_for(lambda: silent.connects >= 2, 4)  # dropped, made again
    finally:
        await silent.stop()
        await emulator.stop()


async def test_a_newer_instance_takes_the_bot_over_and_this_one_stops(
    emu: WeComEmulator, linked: tuple[LongConnection, Received]
) -> None:
    link, _ = linked
    newer = connection(emu, Received())
    await newer.start()
    try:
        await newer.wait_subscribed(3)
        await asyncio.wait_for(link.wait_stopped(), 3)
        assert link.kicked and not newer.kicked
        await asyncio.sleep(0.3)
        assert emu.live[BOT_ID].number == len(emu.connections)  # not kicked back
    finally:
        await newer.stop()


async def test_a_frame_whose_ack_does_not_come_in_time_is_lost_and_the_next_goes_on(
    emu: WeComEmulator,
) -> None:
    received = Received()
    link = connection(emu, received, ack_timeout=0.3)
    await link.start()
    try:
        await link.wait_subscribed(5)
        await the_group_wrote(emu, received)
        emu.ack_delay = 1.0  # every ack later than the bot waits for one
        started = asyncio.get_running_loop().time()
        with pytest.raises(ConnectionLost):
            await link.send(GROUP, MARKDOWN)
        assert 0.25 <= asyncio.get_running_loop().time() - started < 0.9
        emu.ack_delay = 0.0
        await link.send(GROUP, MARKDOWN)  # the connection stayed up: answered at once
        assert link.connects == 1
    finally:
        await link.stop()


async def test_a_frame_waiting_for_its_ack_when_the_connection_drops_fails_at_once(
    emu: WeComEmulator, linked: tuple[LongConnection, Received]
) -> None:
    link, received = linked
    await the_group_wrote(emu, received)
    emu.ack_delay = 3.0  # the ack would come long after the drop
    sending = asyncio.ensure_future(link.send(GROUP, MARKDOWN))
    await emu.wait_for(lambda: any(frame.cmd == "aibot_send_msg" for frame in emu.frames), 3)
    started = asyncio.get_running_loop().time()
    assert emu.drop_connection(BOT_ID)
    with pytest.raises(ConnectionLost):
        await sending
    # not at the ack's 5 s deadline: it cannot come on a connection that is gone
    assert asyncio.get_running_loop().time() - started < 1.0
    emu.ack_delay = 0.0
    await link.wait_subscribed(3)
    await link.send(GROUP, MARKDOWN)  # and the connection made again takes the next one
    assert link.connects == 2


def _markdown(text: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": text}}


async def test_frames_on_one_req_id_go_out_in_order_each_after_the_ack_before(
    emu: WeComEmulator, linked: tuple[LongConnection, Received]
) -> None:
    link, received = linked
    issued = await emu.mention("zhangsan", GROUP, "/help")
    await received.frames.get()
    emu.ack_delay = 0.15  # time between a frame and its ack, in which the next one must wait
    loop = asyncio.get_running_loop()
    started = loop.time()
    sending = [
        asyncio.ensure_future(link.respond(issued.req_id, _markdown(f"第{n}段"))) for n in range(3)
    ]
    other = await emu.mention("lisi", GROUP, "你好")  # another req_id does not wait for them
    await received.frames.get()
    await link.respond(other.req_id, _markdown("另一个"))
    assert not all(task.done() for task in sending)
    await asyncio.gather(*sending)
    on_it = [frame for frame in emu.frames if frame.req_id == issued.req_id]
    assert [frame.body["markdown"]["content"] for frame in on_it] == ["第0段", "第1段", "第2段"]
    assert loop.time() - started >= 3 * 0.15  # one after the other's ack, not at once


async def test_a_frame_cancelled_while_waiting_its_turn_leaves_the_req_id_to_the_others(
    emu: WeComEmulator, linked: tuple[LongConnection, Received]
) -> None:
    link, received = linked
    issued = await emu.mention("zhangsan", GROUP, "/help")
    await received.frames.get()
    emu.ack_delay = 0.2
    first = asyncio.ensure_future(link.respond(issued.req_id, _markdown("一")))
    second = asyncio.ensure_future(link.respond(issued.req_id, _markdown("二")))
    third = asyncio.ensure_future(link.respond(issued.req_id, _markdown("三")))
    await asyncio.sleep(0.05)
    second.cancel()  # waiting behind the first: never sent
    await asyncio.gather(first, third)
    assert second.cancelled()
    emu.ack_delay = 0.0
    async with asyncio.timeout(1):  # nothing is left holding the req_id
        await link.respond(issued.req_id, _markdown("四"))
    contents = [f.body["markdown"]["content"] for f in emu.frames if f.req_id == issued.req_id]
    assert contents == ["一", "三", "四"]


async def test_a_callback_that_fails_is_logged_and_the_next_is_handled(
    emu: WeComEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    handled: asyncio.Queue[str] = asyncio.Queue()

    async def on_callback(frame: dict[str, Any]) -> None:
        text = frame["body"]["text"]["content"]
        if "坏" in text:
            raise RuntimeError("the handler broke")
        await handled.put(text)

    link = LongConnection(emu.ws_url, BOT_ID, SECRET, on_callback)
    await link.start()
    try:
        await link.wait_subscribed(5)
        await emu.mention("zhangsan", GROUP, "坏的")
        await emu.mention("zhangsan", GROUP, "好的")
        assert await asyncio.wait_for(handled.get(), 3) == "@议事 好的"
        failed = [
            r
            for r in caplog.records
            if r.getMessage() == "WeCom callback aibot_msg_callback failed"
        ]
        assert len(failed) == 1 and failed[0].exc_info is not None
    finally:
        await link.stop()


def test_a_frame_is_utf8_json_with_its_words_unescaped_and_an_encoded_body_put_in_as_it_is() -> (
    None
):
    card = {"card_type": "vote_interaction", "main_title": {"title": "加装电梯"}, "task_id": "t1"}
    frame = json.loads(_frame("aibot_respond_msg", 'r"1', {"template_card": card, 7: "七"}))
    assert frame == {
        "cmd": "aibot_respond_msg",
        "headers": {"req_id": 'r"1'},
        "body": {"template_card": card, "7": "七"},  # a key json.dumps made a string, too
    }
    encoded = json.dumps({"template_card": card}, ensure_ascii=False).encode()
    data = _frame("aibot_respond_update_msg", "r2", encoded)
    assert "加装电梯".encode() in data and b"\\u" not in data
    assert json.loads(data) == {
        "cmd": "aibot_respond_update_msg",
        "headers": {"req_id": "r2"},
        "body": {"template_card": card},
    }


class Scripted(LongConnection):
    """Only the turns on a req_id: each frame is 'sent' (noted) and waits for the ack the test
    gives it."""

    def __init__(self) -> None:
        super().__init__("ws://127.0.0.1:9/", BOT_ID, SECRET, Received())
        self._subscribed.set()
        self.sent: list[str] = []
        self.acks: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def _exchange(
        self, cmd: str, req_id: str, body: dict[str, Any] | bytes | None
    ) -> dict[str, Any]:
        assert isinstance(body, dict)
        text = body["markdown"]["content"]
        self.sent.append(text)
        ack = self.acks[text] = asyncio.get_running_loop().create_future()
        return await ack


async def test_a_turn_handed_to_a_frame_just_cancelled_goes_on_to_the_next() -> None:
    link = Scripted()
    first, second, third = (
        asyncio.ensure_future(link.respond("r1", _markdown(text))) for text in ("一", "二", "三")
    )
    await asyncio.sleep(0)
    assert link.sent == ["一"]
    link.acks["一"].set_result({"errcode": 0})
    await asyncio.sleep(0)  # the first is done and handed the turn to the second, not yet running
    assert first.done() and link.sent == ["一"]
    second.cancel()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert second.cancelled() and link.sent == ["一", "三"]
    link.acks["三"].set_result({"errcode": 45009, "errmsg": "api freq out of limit"})
    with pytest.raises(WeComRefused):
        await third
    fourth = asyncio.ensure_future(link.respond("r1", _markdown("四")))
    await asyncio.sleep(0)
    assert link.sent == ["一", "三", "四"]  # nothing left holding r1
    link.acks["四"].set_result({"errcode": 0})
    await fourth
