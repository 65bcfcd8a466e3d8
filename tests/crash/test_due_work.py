"""(b) deadlines, (c) escalation cards, (d) digests and reminders across kills."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.tables import audit_log, escalations
from tests.auxil.meetings import reminders, schedule
from tests.auxil.process import ProcessHarness, rows
from tests.auxil.topics import publish, tally
from tests.auxil.world import (
    BUILDING_CHAT,
    GRID_CHAT,
    NEIGHBOUR,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    community,
)


def closing_notes(h: ProcessHarness, ballot_id: int) -> list[str]:
    """The bot's announcements of an outcome, in reply to the ballot message."""
    return [
        m.text or ""
        for m in h.emu.bot_messages(BUILDING_CHAT)
        if "已结束" in (m.text or "") and m.reply_to_message_id == ballot_id
    ]


def shows_closed(h: ProcessHarness, ballot_id: int) -> bool:
    return "🔒 已结束" in (h.emu.message(BUILDING_CHAT, ballot_id).text or "")


async def test_a_deadline_closes_the_topic_exactly_once_across_kills(ph: ProcessHarness) -> None:
    h = ph
    await community(h)
    first = await publish(h, "更换单元门 期限=2h")
    second = await publish(h, "加装雨棚 期限=4h")
    for ballot in (first, second):
        await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
        await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "同意")
    # Killed before the first deadline, which passes while the bot is down.
    await h.kill_bot()
    h.move_clock(timedelta(hours=3))
    await h.start_bot()
    await h.emu.wait_until(lambda: len(closing_notes(h, first.message_id)) == 1)
    await h.emu.wait_until(lambda: shows_closed(h, first.message_id))
    # The second deadline passes while the bot runs; it dies after closing the topic, while
    # the edit and the announcement are on their way.
    h.emu.hold("sendMessage")
    h.emu.hold("editMessageText")
    h.move_clock(timedelta(hours=2))
    await h.held("sendMessage", BUILDING_CHAT)
    await h.kill_bot()
    h.emu.release("sendMessage")
    h.emu.release("editMessageText")
    assert closing_notes(h, second.message_id) == [] and not shows_closed(h, second.message_id)
    await h.start_bot()
    await h.emu.wait_until(lambda: len(closing_notes(h, second.message_id)) == 1)
    await h.emu.wait_until(lambda: shows_closed(h, second.message_id))
    # Once more, and an hour on: nothing is closed or announced again. (Killed between
    # Telegram's answer and the outbox's "sent" mark, the announcement would go out again:
    # docs/RELIABILITY.md. Here the marks are in.)
    await h.settle()
    await h.kill_bot()
    await h.start_bot()
    await h.pass_time(timedelta(hours=1))
    for ballot in (first, second):
        assert len(closing_notes(h, ballot.message_id)) == 1
        assert "🔒 已结束：通过" in (h.emu.message(BUILDING_CHAT, ballot.message_id).text or "")
        assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id)) == {
            "同意": 2,
            "反对": 0,
            "弃权": 0,
        }
    closed = rows(audit_log).where(audit_log.c.action == "topic.closed")
    assert await h.count(closed) == 2


def cards(h: ProcessHarness) -> list[str]:
    return [m.text or "" for m in h.emu.bot_messages(GRID_CHAT) if "⬆️ 上报 #" in (m.text or "")]


async def test_a_kill_between_an_escalation_and_its_card_posts_the_card_once(
    ph: ProcessHarness,
) -> None:
    h = ph
    await community(h)
    ballot = await publish(h, "楼道堆物 期限=1h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    # A tie at the deadline sends the matter up to the grid: the escalation is created with
    # the close; the card is posted after that commit. The bot dies while it is being posted.
    h.emu.hold("sendMessage")
    h.move_clock(timedelta(hours=1))
    await h.held("sendMessage", GRID_CHAT)
    await h.kill_bot()
    h.emu.release("sendMessage")
    assert cards(h) == []
    assert await h.count(rows(escalations)) == 1
    await h.start_bot()
    await h.emu.wait_until(lambda: len(cards(h)) == 1)
    await h.settle()
    await h.kill_bot()
    await h.start_bot()
    await h.settle()
    assert len(cards(h)) == 1
    assert await h.count(rows(escalations)) == 1
    sent_up = [m for m in h.emu.bot_messages(BUILDING_CHAT) if "未能在本级解决" in (m.text or "")]
    assert len(sent_up) == 1


def digests(h: ProcessHarness) -> list[str]:
    return [m.text or "" for m in h.emu.bot_messages(STAFF_CHAT) if (m.text or "").startswith("📊")]


async def test_a_digest_and_a_reminder_due_while_down_are_sent_once(ph: ProcessHarness) -> None:
    h = ph
    await community(h)
    await h.say(STAFF_CHAT, STAFF, "/subscribe")  # daily at 08:30
    await schedule(h, "2026-12-02 19:00 楼栋议事会 提醒=24h,1h")
    await h.kill_bot()
    # 09:00 on 2 December: the digest (08:30) and the 24-hour reminder (19:00 on 1 December)
    # fell due while the bot was down.
    h.set_time(datetime(2026, 12, 2, 1, 0, tzinfo=UTC))
    # The restarted bot does both and dies while they are being sent.
    h.emu.hold("sendMessage")
    await h.start_bot()
    await h.held("sendMessage", STAFF_CHAT)
    await h.kill_bot()
    h.emu.release("sendMessage")
    assert digests(h) == []
    await h.start_bot()
    await h.emu.wait_until(lambda: len(digests(h)) == 1)
    assert "这份汇总迟发了" in digests(h)[0]  # due at 08:30, sent at 09:00: the bot was down
    await h.emu.wait_until(lambda: len(reminders(h, BUILDING_CHAT)) == 1)
    (late,) = reminders(h, BUILDING_CHAT)
    assert "这条提醒迟发了" in (late.text or "")
    await h.settle()  # (killed between a send and its record, a message would go out again)
    await h.kill_bot()
    await h.start_bot()
    await h.pass_time(timedelta(minutes=30))
    assert len(digests(h)) == 1
    assert len(reminders(h, BUILDING_CHAT)) == 1
