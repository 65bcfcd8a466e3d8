"""Yishi on WeCom in callback mode, end to end: the emulated WeCom POSTs encrypted, signed
callbacks over HTTP to the channel's callback server (emulators/wecom/callback_client.py) and
shows the passive replies; the same adapter answers as on the long connection.

A building group binds, publishes a topic and gets its vote card, presses update it; a callback
with a wrong signature is refused (403) and changes nothing; one sent twice acts once; one
encrypted with another key is refused with a reason; an announcement, which callback mode
cannot push, goes out through the response_url of the chat's next message.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Table, func, select

from bot.clock import ManualClock
from bot.services.actors import ChatKind, Place
from channels.wecom.callback_server import PATH, CallbackServer
from channels.wecom.channel import CallbackMode, WeComChannel
from channels.wecom.crypto import WeComCrypto
from emulators.wecom.callback_client import CallbackClient, CallbackRefused
from locales import Translator
from storage.database import Database
from storage.tables import chats, topics
from tests.e2e_wecom.conftest import (
    BOT_ID,
    BUILDING_GROUP,
    GRID_CHAT,
    START,
    SUPERADMIN,
    World,
    services_over_a_grid,
    started_emulator,
)
from tests.e2e_wecom.test_topic_on_wecom import (
    GROUP,
    answered,
    bound_with_a_building_head,
    last_seen,
)

TOKEN = "yishiCallbackToken2026"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
OTHER_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@dataclass
class CallbackWorld(World):
    client: CallbackClient  # WeCom's side of the callback URL


@pytest.fixture
async def world(database: Database) -> AsyncIterator[CallbackWorld]:
    emu = await started_emulator()
    clock = ManualClock(START)
    services, building_code = await services_over_a_grid(database, clock, emu)
    channel = WeComChannel(services, Translator("zh_CN"), callback=CallbackMode(TOKEN, AES_KEY))
    await channel.start(wait=5)
    server = channel.connection
    assert isinstance(server, CallbackServer)
    client = CallbackClient(f"http://127.0.0.1:{server.port}{PATH}", WeComCrypto(TOKEN, AES_KEY))
    emu.attach_callback(BOT_ID, client)
    try:
        yield CallbackWorld(emu, services, channel, clock, building_code, client)
    finally:
        await channel.stop()
        await services.outbox.close()
        await emu.stop()


async def the_card(world: World, userid: str) -> dict[str, Any]:
    """The vote card a /topic's answer brings: its details go back in the reply to WeCom's
    POST, the card after them through that message's response_url."""

    def card() -> dict[str, Any] | None:
        return last_seen(world, userid).card

    found: dict[str, Any] = await world.emu.wait_for(card)
    return found


async def count(world: World, table: Table) -> int:
    async with world.services.database.transaction() as repos:
        query = select(func.count()).select_from(table)
        return int((await repos.connection.execute(query)).scalar_one())


async def test_the_url_check_is_answered_with_the_plaintext(world: CallbackWorld) -> None:
    assert await world.client.verify_url("1616140317555161061") == "1616140317555161061"
    world.client.crypto = WeComCrypto("anotherToken", AES_KEY)
    with pytest.raises(CallbackRefused, match="403"):
        await world.client.verify_url()


async def test_a_topic_gets_its_vote_card_and_each_press_updates_it(world: CallbackWorld) -> None:
    await bound_with_a_building_head(world)
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, "/topic 加装电梯 期限=3d")
    frame = await answered(world, issued)
    assert frame.via == "callback"  # the passive reply to WeCom's POST
    card = await the_card(world, "wangwu")
    assert card["card_type"] == "vote_interaction"
    assert card["main_title"]["title"].endswith("加装电梯")
    options = {o["text"]: o["id"] for o in card["checkbox"]["option_list"]}

    for userid, choice, tally in (
        ("lisi", "同意", "同意：1 · 反对：0 · 弃权：0"),
        ("zhaoliu", "反对", "同意：1 · 反对：1 · 弃权：0"),
    ):
        pressed = await world.emu.submit_vote(userid, card["task_id"], [options[choice]])
        update = await answered(world, pressed, "aibot_respond_update_msg")
        assert update.via == "callback"
        seen = last_seen(world, "zhangsan").card  # everyone sees the new tally
        assert seen is not None and tally in seen["main_title"]["desc"], seen


async def test_a_callback_with_a_wrong_signature_is_refused_and_changes_nothing(
    world: CallbackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    wecom = world.client.crypto
    known = await count(world, chats)
    world.client.crypto = WeComCrypto("notTheBotsToken", AES_KEY)
    with caplog.at_level(logging.WARNING), pytest.raises(CallbackRefused, match="403"):
        await world.emu.mention("zhangsan", BUILDING_GROUP, f"/bind {world.building_code}")
    assert "YISHI_WECOM_TOKEN" in caplog.text
    assert await count(world, chats) == known  # the WeCom group not even recorded
    assert [s.sender for s in world.emu.world.seen_by("lisi")] == ["zhangsan"]  # no answer
    world.client.crypto = wecom
    await bound_with_a_building_head(world)  # the bind code was not used up


async def test_a_callback_sent_twice_acts_once(world: CallbackWorld) -> None:
    await bound_with_a_building_head(world)
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, "/topic 更换门禁 期限=3d")
    await answered(world, issued)
    await the_card(world, "lisi")
    first_answer = world.client.replies[-1]
    again = await world.client.post(issued.body)  # WeCom's retry: the same msgid
    assert again == first_answer  # the first one's answer, nothing run again
    assert await count(world, topics) == 1
    cards = [s.card for s in world.emu.world.seen_by("lisi") if s.card is not None]
    assert len(cards) == 1

    task_id = cards[0]["task_id"]
    yes = await world.emu.submit_vote("lisi", task_id, ["o0"])
    await answered(world, yes, "aibot_respond_update_msg")
    no = await world.emu.submit_vote("lisi", task_id, ["o1"])
    await answered(world, no, "aibot_respond_update_msg")
    await world.client.post(yes.body)  # the first press again: lisi's vote stays 反对
    probe = await world.emu.submit_vote("wangwu", task_id, ["o2"])
    await answered(world, probe, "aibot_respond_update_msg")
    seen = last_seen(world, "zhangsan").card
    assert seen is not None and "同意：0 · 反对：1 · 弃权：1" in seen["main_title"]["desc"], seen


async def test_a_callback_encrypted_with_another_key_is_refused_with_the_reason(
    world: CallbackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    wecom = world.client.crypto
    known = await count(world, chats)
    world.client.crypto = WeComCrypto(TOKEN, OTHER_AES_KEY)  # signed right, keyed wrong
    with caplog.at_level(logging.WARNING):
        with pytest.raises(CallbackRefused, match="400"):
            await world.client.verify_url()
        with pytest.raises(CallbackRefused, match="400"):
            await world.emu.mention("zhangsan", BUILDING_GROUP, f"/bind {world.building_code}")
    assert "YISHI_WECOM_AES_KEY is not the EncodingAESKey" in caplog.text
    assert await count(world, chats) == known
    world.client.crypto = wecom
    await bound_with_a_building_head(world)  # still serving, nothing was used up


async def test_an_announcement_goes_out_with_the_next_message_of_the_chat(
    world: CallbackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    await bound_with_a_building_head(world)
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, "/topic 楼道粉刷 期限=1d")
    await answered(world, issued)
    await the_card(world, "lisi")
    world.clock.advance(timedelta(days=1, minutes=1))  # its response_url is long expired
    with caplog.at_level(logging.WARNING):
        await world.services.timers.run_due()
        await world.channel.settle()
    assert "callback mode cannot send" in caplog.text
    assert last_seen(world, "lisi").card is not None  # no outcome posted yet

    asked = await world.emu.mention("wangwu", BUILDING_GROUP, "/help")
    await answered(world, asked)
    assert "/topic" in (last_seen(world, "lisi").text or "")
    world.clock.advance(timedelta(minutes=5))  # the outbox's next try
    await world.services.outbox.flush()
    outcome = last_seen(world, "lisi")
    assert outcome.msgtype == "markdown" and outcome.sender == f"bot:{BOT_ID}"
    assert "楼道粉刷" in (outcome.text or "") and "已结束" in (outcome.text or ""), outcome.text


async def test_a_decision_and_its_rating_card_each_go_out_once_as_the_chat_writes(
    world: CallbackWorld,
) -> None:
    await bound_with_a_building_head(world)
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, "/topic 停车位划线 期限=1d")
    await answered(world, issued)
    task_id = (await the_card(world, "lisi"))["task_id"]
    for userid, option in (("lisi", "o0"), ("zhaoliu", "o1")):  # a tie: it goes up to the grid
        pressed = await world.emu.submit_vote(userid, task_id, [option])
        await answered(world, pressed, "aibot_respond_update_msg")
    world.clock.advance(timedelta(days=1, minutes=1))
    await world.services.timers.run_due()
    await world.channel.settle()
    grid = Place(GRID_CHAT, ChatKind.GROUP, "第一网格群")
    await world.services.escalation.resolve(SUPERADMIN, grid, 1, "周末统一划线")
    await world.channel.settle()

    # Three messages wait for the group (the outcome; the decision, then its rating card), and
    # each message someone writes there lets one through: two let two through, the third later.
    for userid in ("wangwu", "zhaoliu"):
        asked = await world.emu.mention(userid, BUILDING_GROUP, "/help")
        await answered(world, asked)
    world.clock.advance(timedelta(minutes=20))  # past the outbox's next try
    await world.services.outbox.flush()
    so_far = last_seen(world, "lisi")  # the decision's text (after the outcome), not its card
    assert so_far.card is None and "周末统一划线" in (so_far.text or ""), so_far
    asked = await world.emu.mention("lisi", BUILDING_GROUP, "/help")
    await answered(world, asked)
    world.clock.advance(timedelta(minutes=20))
    await world.services.outbox.flush()
    from_bot = [
        seen.card["card_type"] if seen.card else (seen.text or "")
        for seen in world.emu.world.seen_by("wangwu", GROUP)
        if seen.sender == f"bot:{BOT_ID}" and "/topic" not in (seen.text or "")
    ]
    outcome, decision, rating = from_bot[-3:]
    assert "停车位划线" in outcome and "已结束" in outcome, outcome
    assert "周末统一划线" in decision, decision
    assert rating == "button_interaction"
    assert len([said for said in from_bot if "周末统一划线" in said]) == 1  # not sent again


async def test_a_guided_topic_is_published_in_its_group(world: CallbackWorld) -> None:
    """Built in the one-to-one chat, published in the group: callback mode has no way to write
    first, so the ballot message and card go out through the unused response_urls of the
    group's messages of the last hour (here `/bind` and `@议事 /topic`)."""
    from tests.e2e_wecom.test_topic_wizard_on_wecom import press, started, write

    await bound_with_a_building_head(world)
    await started(world)
    await write(world, "/topic")
    await write(world, "更换路灯")
    await press(world, "跳过")
    await press(world, "下一步")
    await press(world, "同意")
    await press(world, "3天")
    await press(world, "过半")
    await press(world, "下一步")
    card = await press(world, "发布")
    assert "已发布议题" in card["main_title"]["title"]

    def in_group() -> list[tuple[str, str]]:
        return [
            (s.msgtype, s.text or (s.card or {}).get("card_type", ""))
            for s in world.emu.world.seen_by("lisi", GROUP)
            if s.sender == f"bot:{BOT_ID}"
        ]

    await world.emu.wait_for(lambda: ("template_card", "vote_interaction") in in_group())
    assert any("更换路灯" in text for kind, text in in_group() if kind == "markdown")
