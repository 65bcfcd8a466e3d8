"""Reminders are sent exactly once, also when the bot was down at their time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from storage.tables import meeting_posts, timers
from tests.auxil.harness import Harness
from tests.auxil.meetings import answers, reminders, schedule, texts
from tests.auxil.world import BUILDING_CHAT, GRID_CHAT, GRID_WORKER, RESIDENT, community, count


async def pending_meeting_timers(h: Harness) -> int:
    query = (
        select(func.count())
        .select_from(timers)
        .where(timers.c.kind.like("meeting.%"), timers.c.done_at.is_(None))
    )
    return await count(h, query)


async def test_reminders_due_while_down_are_sent_once_late_with_the_time(h: Harness) -> None:
    await community(h)
    await schedule(h, "2026-12-03 19:00 楼栋议事会 提醒=3d,24h,1h")  # 3d is past already
    await h.stop_bot()
    h.clock.set(datetime(2026, 12, 3, 10, 30, tzinfo=UTC))  # 18:30: both reminders passed
    await h.start_bot()
    await h.settle()
    (late,) = reminders(h, BUILDING_CHAT)
    text = late.text or ""
    assert "这条提醒迟发了" in text and "会议时间是 2026-12-03 19:00（周四）" in text
    assert late.button_texts() == ["参加", "请假", "👥 回复名单"]
    await h.restart()
    await h.settle()
    assert len(reminders(h, BUILDING_CHAT)) == 1
    await h.pass_time(timedelta(hours=1))  # it starts
    assert await pending_meeting_timers(h) == 1  # only the minutes reminder is left
    assert len(reminders(h, BUILDING_CHAT)) == 1


async def test_a_reminder_after_the_start_is_skipped_with_a_note(h: Harness) -> None:
    await community(h)
    note = await schedule(h, "2026-12-02 19:00 楼栋议事会")
    await h.stop_bot()
    h.clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))  # 20:00: it started an hour ago
    await h.start_bot()
    await h.settle()
    assert reminders(h, BUILDING_CHAT) == []
    (missed,) = texts(h, BUILDING_CHAT, "没能按时发出")
    assert "会议 #1 楼栋议事会 原定 2026-12-02 19:00（周三） 开始" in (missed.text or "")
    assert missed.reply_to_message_id == note.message_id
    assert "会议已经开始" in (h.emu.message(BUILDING_CHAT, note.message_id).text or "")
    await h.restart()
    await h.pass_time(timedelta(minutes=5))
    assert len(texts(h, BUILDING_CHAT, "没能按时发出")) == 1


async def test_a_series_plans_its_next_date_once_across_a_restart(h: Harness) -> None:
    await community(h)
    await schedule(h, "每周五 19:30 网格周会 提醒=1h", chat=GRID_CHAT, by=GRID_WORKER)
    await h.pass_time(timedelta(days=3, hours=9, minutes=30))  # Fri 2026-12-04 18:30
    await h.stop_bot()
    h.clock.advance(timedelta(days=7, hours=1))  # down through that meeting and the next
    await h.start_bot()
    await h.settle()
    await h.restart()
    listed = await h.say(GRID_CHAT, GRID_WORKER, "/meetings")
    assert "2026-12-18 19:30（周五）" in (listed.text or ""), listed.text
    assert len(reminders(h, GRID_CHAT)) == 1
    assert len(texts(h, GRID_CHAT, "没能按时发出")) == 1  # the 12-11 one
    await h.pass_time(timedelta(days=6, hours=23))  # 12-18 18:30
    assert len(reminders(h, GRID_CHAT)) == 2


async def test_answers_edit_the_reminder_coalesced(tmp_path: Path) -> None:
    h = Harness(tmp_path, tally_interval=0.6)
    await h.start()
    try:
        await community(h)
        note = await schedule(h, "2026-12-03 19:00 楼栋议事会")
        people = [100 + i for i in range(10)]
        for person in people:
            h.user(person, f"居民{person}")
            h.emu.add_member(BUILDING_CHAT, person)
        edits_before = len(h.emu.calls_of("editMessageText"))
        queries = [
            h.emu.press_button(BUILDING_CHAT, note.message_id, person, "参加") for person in people
        ]
        queries.append(h.emu.press_button(BUILDING_CHAT, note.message_id, RESIDENT, "请假"))
        await asyncio.gather(*(h.emu.wait_for_answer(query) for query in queries))
        await h.settle()
        edits = [
            call
            for call in h.emu.calls_of("editMessageText")[edits_before:]
            if call.params.get("message_id") == note.message_id
        ]
        assert 1 <= len(edits) <= 3, len(edits)  # 11 presses, at most one edit per 0.6 s
        assert answers(h.emu.message(BUILDING_CHAT, note.message_id)) == (10, 1)
        assert h.app is not None
        h.app.bot_data.runtime.reminders.touch(1)  # nothing changed: no edit at all
        await h.settle()
        assert len(h.emu.calls_of("editMessageText")) == edits_before + len(edits)
        assert await count(h, select(func.count()).select_from(meeting_posts)) == 1
    finally:
        await h.stop()
