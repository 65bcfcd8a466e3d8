"""Bot API faults (issue #7, item 2): flood control, 5xx, broken connections, slow answers.

Telegram, played by the emulator, answers some calls with 429 (retry after 1 s), 5xx, a
connection closed without an answer, or a late answer. What users see must not change:
every ballot, tally, announcement, card, reminder and reply arrives once, after the wait;
and the emulator's call log shows no loop hammering the API (each failed call is one that
was made to fail). Deleted messages and chats that removed the bot: test_faults_gone.py.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from emulators.telegram import EmuMessage
from emulators.telegram.world import ApiCall
from storage.tables import outbox
from tests.auxil.harness import Harness
from tests.auxil.meetings import reminders, schedule
from tests.auxil.topics import publish, tally, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    community,
    count,
    rows,
)


def calls_to(h: Harness, method: str, chat: int, *, since: int = 0) -> list[ApiCall]:
    """The calls of ``method`` into ``chat``, from the ``since``-th call of the log on."""
    return [
        call
        for call in h.emu.calls[since:]
        if call.method == method and int(call.params.get("chat_id", 0)) == chat
    ]


def with_text(h: Harness, chat: int, part: str) -> list[EmuMessage]:
    return [m for m in h.emu.bot_messages(chat) if part in (m.text or "")]


def no_repeats(h: Harness, chat: int) -> None:
    """No message of the bot's in the chat was posted twice."""
    texts = [m.text for m in h.emu.bot_messages(chat)]
    assert len(texts) == len(set(texts)), texts


async def test_flood_control_delays_sends_and_edits_but_loses_nothing(both: Harness) -> None:
    h = both
    await community(h)
    start = len(h.emu.calls)
    h.emu.fail_next("sendMessage", 429, retry_after=1)
    ballot = await publish(h, "东门加装快递柜 期限=1h")
    posts = calls_to(h, "sendMessage", BUILDING_CHAT, since=start)
    assert [call.error_code for call in posts] == [429, None]
    assert posts[1].time - posts[0].time >= 1.0  # the retry waited as Telegram asked

    h.emu.fail_next("editMessageText", 429, retry_after=1)
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    await h.settle()
    assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id)) == {
        "同意": 1,
        "反对": 1,
        "弃权": 0,
    }

    # The tie closes: the ballot's last edit, the outcome, "sent up" and the grid's card.
    h.emu.fail_next("sendMessage", 429, retry_after=1)
    h.emu.fail_next("editMessageText", 429, retry_after=1)
    await h.pass_time(timedelta(hours=1))
    closed = h.emu.message(BUILDING_CHAT, ballot.message_id)
    assert "🔒 已结束" in (closed.text or "") and closed.button_texts() == []
    assert len(with_text(h, BUILDING_CHAT, "结果：")) == 1
    assert len(with_text(h, BUILDING_CHAT, "已上报网格")) == 1
    assert len(with_text(h, GRID_CHAT, "⬆️ 上报")) == 1
    no_repeats(h, BUILDING_CHAT)
    no_repeats(h, GRID_CHAT)
    # No loop: the only failed calls are the four made to fail.
    failed = [call for call in h.emu.calls[start:] if call.ok is False]
    assert [call.error_code for call in failed] == [429] * 4


async def test_flood_control_on_replies_meetings_and_reminders(h: Harness) -> None:
    await community(h)
    await publish(h, "东门加装快递柜 期限=1d")
    h.emu.fail_next("sendMessage", 429, retry_after=1)
    listed = await h.say(BUILDING_CHAT, RESIDENT, "/topics")
    assert "东门加装快递柜" in (listed.text or "")
    h.emu.fail_next("sendMessage", 429, retry_after=1)
    await schedule(h, "2026-12-01 19:00 楼栋议事会 提醒=1h")
    h.emu.fail_next("sendMessage", 429, retry_after=1)
    await h.pass_time(timedelta(hours=9))  # 18:00 local: the reminder
    assert len(reminders(h, BUILDING_CHAT)) == 1
    assert len(with_text(h, BUILDING_CHAT, "📅")) == 1
    assert len(with_text(h, BUILDING_CHAT, "东门加装快递柜")) == 2  # the ballot, the listing
    no_repeats(h, BUILDING_CHAT)
    assert [c.error_code for c in h.emu.calls if c.ok is False] == [429] * 3


async def test_5xx_and_broken_connections_deliver_each_message_once(both: Harness) -> None:
    h = both
    await community(h)
    start = len(h.emu.calls)
    h.emu.fail_next("sendMessage", 502, "Bad Gateway")
    h.emu.reset_next("sendMessage")  # then the connection breaks before an answer
    ballot = await publish(h, "楼道加装感应灯 期限=1h")
    posts = calls_to(h, "sendMessage", BUILDING_CHAT, since=start)
    assert [(call.ok, call.error_code) for call in posts] == [
        (False, 502),
        (False, None),
        (True, None),
    ]

    # The tally edit is made, but its answer is lost: the retry finds nothing to change
    # ("message is not modified", which is success), and nothing is edited again.
    h.emu.reset_next("editMessageText", after=True)
    h.emu.reset_next("answerCallbackQuery")
    answer = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    assert answer["text"] == "已记录：同意"
    await h.settle()
    assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id))["同意"] == 1
    edits = calls_to(h, "editMessageText", BUILDING_CHAT, since=start)
    assert [call.ok for call in edits] == [True, False]  # made; "not modified"

    # The outcome's announcement meets an outage longer than the transport's retries: the
    # outbox tries again a second later, waking up by itself (the test only moves the clock).
    h.emu.fail_next("sendMessage", 502, "Bad Gateway")
    h.emu.reset_next("sendMessage")
    h.emu.fail_next("sendMessage", 503, "Service Unavailable")
    await h.pass_time(timedelta(hours=1))
    assert with_text(h, BUILDING_CHAT, "结果：") == []
    assert await count(h, rows(outbox).where(outbox.c.attempts == 1)) == 1
    h.clock.advance(timedelta(seconds=1))
    outcome = await h.emu.wait_for_bot_message(
        BUILDING_CHAT, predicate=lambda m: "结果：通过" in (m.text or ""), timeout=10
    )
    assert outcome.reply_to_message_id == ballot.message_id
    await h.settle()
    assert len(with_text(h, BUILDING_CHAT, "结果：")) == 1
    no_repeats(h, BUILDING_CHAT)
    failed = [call for call in h.emu.calls[start:] if call.ok is False]
    assert len(failed) == 7  # the 502, reset, reset, "not modified", 502, reset, 503


async def test_slow_answers_are_waited_for_not_sent_twice(h: Harness) -> None:
    await community(h)
    grid_topic = await publish(h, "网格统一更换路灯 期限=1d", chat=GRID_CHAT, by=GRID_WORKER)
    start = len(h.emu.calls)
    # Slower than python-telegram-bot's default timeout of 5 s: a ballot's post in the
    # building, and at the same time a tally edit in the grid.
    h.emu.slow_next("sendMessage", 5.5)
    h.emu.slow_next("editMessageText", 5.5)
    sent = h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, "/topic 更换单元门禁 期限=1d")
    press = h.emu.press_button(GRID_CHAT, grid_topic.message_id, GRID_WORKER, "同意")
    assert (await h.emu.wait_for_answer(press))["text"] == "已记录：同意"
    ballot = await h.emu.wait_for_bot_message(BUILDING_CHAT, after=sent.message_id, timeout=15)
    assert "更换单元门禁" in (ballot.text or "")
    tallied = h.emu.message(GRID_CHAT, grid_topic.message_id)
    await h.emu.wait_until(lambda: tallied.edit_date is not None, timeout=15)
    await h.settle()
    assert tally(h.emu.message(GRID_CHAT, grid_topic.message_id))["同意"] == 1
    assert len(with_text(h, BUILDING_CHAT, "更换单元门禁")) == 1
    assert len(calls_to(h, "sendMessage", BUILDING_CHAT, since=start)) == 1
    assert [c.ok for c in calls_to(h, "editMessageText", GRID_CHAT, since=start)] == [True]


async def test_a_ballot_that_outlasts_the_retries_is_posted_later(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await community(h)
    start = len(h.emu.calls)
    for code in (502, 500, 504):
        h.emu.fail_next("sendMessage", code)
    sent = h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, "/topic 小区门口装减速带 期限=1d")
    ballot = await h.emu.wait_for_bot_message(BUILDING_CHAT, after=sent.message_id, timeout=10)
    assert "小区门口装减速带" in (ballot.text or "")
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"topic {topic_id(ballot)}" in m and "trying again" in m for m in warned)
    answer = await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    assert answer["text"] == "已记录：反对"
    await h.settle()
    assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id))["反对"] == 1
    assert len(with_text(h, BUILDING_CHAT, "小区门口装减速带")) == 1
    posts = calls_to(h, "sendMessage", BUILDING_CHAT, since=start)
    assert [call.error_code for call in posts] == [502, 500, 504, None]


async def test_a_broken_connection_on_a_read_is_retried_transparently(h: Harness) -> None:
    """The known flake: "Server disconnected" when checking a first voter's membership."""
    await community(h)
    ballot = await publish(h, "楼下增设晾衣架 期限=1d")
    start = len(h.emu.calls)
    h.emu.reset_next("getChatMember", count=2)
    answer = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    assert answer["text"] == "已记录：同意"
    checks = [call for call in h.emu.calls[start:] if call.method == "getChatMember"]
    assert [call.ok for call in checks] == [False, False, True]
    await h.settle()
    assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id))["同意"] == 1
