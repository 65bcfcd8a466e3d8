"""Meetings on SQLite and PostgreSQL: occurrences planned once, answers, posts, timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.meetings.plan import REMIND_TIMER, START_TIMER, plan_next
from storage.database import Database
from storage.records import Meeting

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")


async def _meeting(database: Database, **overrides: object) -> Meeting:
    async with database.transaction() as repos:
        node = await repos.orgs.create_node(
            level="building", name="1号楼", parent_id=None, created_by=1, now=NOW
        )
        values: dict[str, object] = {
            "node_id": node.id,
            "chat_id": -100,
            "title": "议事会",
            "note": "",
            "repeat": "weekly",
            "repeat_day": 2,
            "local_time": "19:00",
            "reminders": [86400, 3600],
            "topic_ids": [],
            "scope": "here",
            "holiday_shift": False,
            "created_by": 1,
            "created_at": NOW,
        }
        values.update(overrides)
        return await repos.meetings.create(**values)


async def test_an_occurrence_is_planned_once_with_its_timers(database: Database) -> None:
    meeting = await _meeting(database, repeat_day=1)  # Tuesdays
    async with database.transaction() as repos:
        planned = await plan_next(repos, meeting, after=NOW, now=NOW, zone=ZONE)
        again = await plan_next(repos, meeting, after=NOW, now=NOW, zone=ZONE)
        assert planned is not None and again is None  # the same date is not planned twice
        occurrence = planned.occurrence
        assert occurrence.starts_at == datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # 19:00 today
        assert planned.skipped == (86400,)  # a day before is already past
        assert await repos.timers.get(REMIND_TIMER, f"{occurrence.id}:3600") is not None
        assert await repos.timers.get(REMIND_TIMER, f"{occurrence.id}:86400") is None
        assert await repos.timers.get(START_TIMER, str(occurrence.id)) is not None
        assert (await repos.meetings.scheduled(meeting.id)) == occurrence


async def test_two_dates_shifted_onto_one_day_become_one(database: Database) -> None:
    wednesday = await _meeting(database, holiday_shift=True)
    before = datetime(2025, 9, 25, tzinfo=UTC)
    async with database.transaction() as repos:
        first = await plan_next(repos, wednesday, after=before, now=before, zone=ZONE)
        assert first is not None
        assert first.occurrence.starts_at.astimezone(ZONE).date().isoformat() == "2025-10-09"
        # Wed Oct 8 is a holiday too and would also move to Thu Oct 9: the next is Oct 15.
        start = first.occurrence.starts_at
        second = await plan_next(repos, wednesday, after=start, now=start, zone=ZONE)
        assert second is not None
        assert second.occurrence.starts_at.astimezone(ZONE).date().isoformat() == "2025-10-15"


async def test_answers_posts_agenda_and_minutes(database: Database) -> None:
    meeting = await _meeting(database)
    async with database.transaction() as repos:
        planned = await plan_next(repos, meeting, after=NOW, now=NOW, zone=ZONE)
        assert planned is not None
        occurrence = planned.occurrence.id
        for user, answer in ((5, "yes"), (6, "no"), (5, "no"), (7, "yes")):
            await repos.meetings.answer(
                occurrence_id=occurrence, user_id=user, answer=answer, chat_id=-100, now=NOW
            )
        assert await repos.meetings.answer_counts(occurrence) == {"yes": 1, "no": 2}
        assert await repos.meetings.answer_of(occurrence, 5) == "no"
        added = await repos.meetings.add_post(
            occurrence_id=occurrence,
            slot=0,
            chat_id=-100,
            node_id=meeting.node_id,
            created_at=NOW,
            late=False,
        )
        twice = await repos.meetings.add_post(
            occurrence_id=occurrence,
            slot=0,
            chat_id=-100,
            node_id=meeting.node_id,
            created_at=NOW,
            late=False,
        )
        assert added and not twice
        assert await repos.meetings.ids_needing_refresh() == [occurrence]
        await repos.meetings.set_post_message(occurrence, 0, -100, 42)
        post = await repos.meetings.post_at_message(-100, 42)
        assert post is not None and post.occurrence_id == occurrence
        await repos.meetings.add_agenda_item(
            occurrence_id=occurrence, text="充电桩", added_by=4, now=NOW
        )
        assert [item.text for item in await repos.meetings.agenda(occurrence)] == ["充电桩"]
        entry = await repos.meetings.add_minutes(
            occurrence_id=occurrence,
            text="通过",
            file_kind="photo",
            file_id="AgAC1",
            file_name=None,
            recorded_by=4,
            recorded_at=NOW + timedelta(days=1),
        )
        assert await repos.meetings.minutes_entry(entry.id) == entry
        assert await repos.meetings.transition(
            occurrence, from_status="scheduled", to_status="held"
        )
        assert not await repos.meetings.transition(
            occurrence, from_status="scheduled", to_status="cancelled"
        )
        assert await repos.meetings.last_held(meeting.id) is not None
        assert await repos.meetings.ids_needing_refresh() == []
