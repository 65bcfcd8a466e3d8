"""What a meeting's timers do, each inside the transaction that claims it (exactly once).

- ``meeting.remind``: post the reminder (a living message with RSVP buttons) in every chat
  the meeting is announced in. Sent late (the bot was down) it says so and gives the start
  time plainly; if the meeting has started meanwhile it is skipped with a note instead. When
  several reminders fell due while the bot was down, only the last of them is sent.
- ``meeting.start``: the occurrence is held; a series plans its next occurrence.
- ``meeting.minutes``: 24 hours after the start, no minutes yet: remind the officers once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.announcements import MeetingMissed, MinutesDue
from bot.services.events import MeetingChanged, OutboxQueued
from bot.services.meetings.plan import (
    MINUTES_AFTER,
    MINUTES_TIMER,
    REMIND_TIMER,
    START_TIMER,
    latest_posts,
    meeting_thread,
    parse_reminder_ref,
    plan_next,
    target_chats,
    tell_chats,
)
from bot.services.unit_of_work import Work
from bot.timers import LATE_AFTER, TimerEngine
from storage.records import DueTimer, Meeting, MeetingOccurrence, MeetingStatus, OccurrenceStatus
from storage.repositories import Repositories

# After an outage, the dates of a series missed within this time are caught up on (each
# gets its note); older ones are passed over.
CATCH_UP = timedelta(days=31)


class MeetingTimers:
    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone

    def register(self, engine: TimerEngine) -> None:
        engine.on(REMIND_TIMER, self.on_reminder_due)
        engine.on(START_TIMER, self.on_start_due)
        engine.on(MINUTES_TIMER, self.on_minutes_due)

    @staticmethod
    async def _scheduled(
        repos: Repositories, occurrence_id: int
    ) -> tuple[Meeting, MeetingOccurrence] | None:
        occurrence = await repos.meetings.occurrence(occurrence_id)
        if occurrence is None or occurrence.status != OccurrenceStatus.SCHEDULED:
            return None
        meeting = await repos.meetings.get(occurrence.meeting_id)
        assert meeting is not None
        return meeting, occurrence

    async def on_reminder_due(self, repos: Work, timer: DueTimer, now: datetime) -> None:
        occurrence_id, seconds = parse_reminder_ref(timer.ref)
        found = await self._scheduled(repos, occurrence_id)
        if found is None:
            return
        meeting, occurrence = found
        if _superseded(meeting, occurrence, seconds, now):
            return
        targets = await target_chats(repos, meeting)
        if now >= occurrence.starts_at:
            also = [chat for chat, _ in targets]
            missed = MeetingMissed(occurrence_id=occurrence.id)
            await tell_chats(repos, occurrence.id, missed, now, also=also)
            repos.record(OutboxQueued())
            return
        late = now - timer.due_at > LATE_AFTER
        for chat_id, node_id in targets:
            await repos.meetings.add_post(
                occurrence_id=occurrence.id,
                slot=seconds,
                chat_id=chat_id,
                node_id=node_id,
                created_at=now,
                late=late,
                message_thread_id=meeting_thread(meeting, chat_id),
            )
        repos.record(MeetingChanged(occurrence.id))

    async def on_start_due(self, repos: Work, timer: DueTimer, now: datetime) -> None:
        found = await self._scheduled(repos, int(timer.ref))
        if found is None:
            return
        meeting, occurrence = found
        await repos.meetings.transition(
            occurrence.id, from_status=OccurrenceStatus.SCHEDULED, to_status=OccurrenceStatus.HELD
        )
        await repos.timers.schedule(
            MINUTES_TIMER, str(occurrence.id), occurrence.starts_at + MINUTES_AFTER
        )
        if meeting.recurring and meeting.is_active:
            # From this start on, as if the bot had been up; after a long outage only the
            # last weeks are caught up on.
            await plan_next(
                repos,
                meeting,
                after=max(occurrence.planned_at, now - CATCH_UP),
                now=now,
                zone=self._zone,
                since=occurrence.starts_at,
            )
        elif not meeting.recurring:
            await repos.meetings.set_status(meeting.id, MeetingStatus.ENDED)
        repos.record(MeetingChanged(occurrence.id))

    async def on_minutes_due(self, repos: Work, timer: DueTimer, now: datetime) -> None:
        occurrence = await repos.meetings.occurrence(int(timer.ref))
        if occurrence is None or occurrence.status != OccurrenceStatus.HELD:
            return
        if await repos.meetings.minutes(occurrence.id):
            return
        meeting = await repos.meetings.get(occurrence.meeting_id)
        assert meeting is not None
        binding = await repos.orgs.binding_of_node(meeting.node_id)
        if binding is None or not binding.active:
            return
        latest = latest_posts(await repos.meetings.posts(occurrence.id)).get(binding.chat_id)
        await repos.outbox.add(
            chat_id=binding.chat_id,
            announcement=MinutesDue(occurrence_id=occurrence.id),
            now=now,
            reply_to=latest.message_id if latest else None,
            thread_id=latest.thread_id if latest else meeting_thread(meeting, binding.chat_id),
        )
        repos.record(OutboxQueued())


def _superseded(
    meeting: Meeting, occurrence: MeetingOccurrence, seconds: int, now: datetime
) -> bool:
    """A shorter reminder is due too (the bot was down through both): it speaks for both.

    Timers run in order of ``due_at``, so the shorter one has not run yet; it exists if it
    was due after ``reminders_after`` when the occurrence was planned.
    """
    for shorter in meeting.reminders:
        due = occurrence.starts_at - timedelta(seconds=shorter)
        if shorter < seconds and occurrence.reminders_after < due <= now:
            return True
    return False
