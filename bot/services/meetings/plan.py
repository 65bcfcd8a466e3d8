"""A meeting's dates and due work: the next occurrence, its reminders, where it is announced.

A series keeps one scheduled occurrence at a time. Each occurrence has one timer per reminder
offset (``meeting.remind``, ref ``<occurrence>:<seconds>``) and one at its start
(``meeting.start``), which makes the series' next occurrence; 24 hours after the start
``meeting.minutes`` reminds the officers if no minutes were recorded. Timers are rows, so
each runs exactly once, also after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.services.announcements import Announcement
from bot.services.meetings.recurrence import Recurrence, next_start
from storage.records import Meeting, MeetingOccurrence, MeetingPost, Repeat, Scope
from storage.repositories import Repositories

REMIND_TIMER = "meeting.remind"
START_TIMER = "meeting.start"
MINUTES_TIMER = "meeting.minutes"
MINUTES_AFTER = timedelta(hours=24)
ANNOUNCEMENT = 0  # the slot of the message posted when a meeting is scheduled
# A post on a platform that gives the bot no message to edit later (WeCom): once tried, its
# message_id is NO_MESSAGE and its rendered_hash says how it went.
NO_MESSAGE = 0
SENT = "sent"
UNREACHABLE = "unreachable"  # the platform refused the chat (WeCom: it never wrote to the bot)


@dataclass(frozen=True, slots=True)
class Planned:
    occurrence: MeetingOccurrence
    skipped: tuple[int, ...]  # reminder offsets (seconds) already past when it was planned
    holiday_unknown: bool  # its year is not covered by the holiday data


def recurrence_of(meeting: Meeting) -> Recurrence:
    hour, minute = (int(part) for part in meeting.local_time.split(":"))
    return Recurrence(
        Repeat(meeting.repeat),
        time(hour, minute),
        day=meeting.repeat_day,
        nth=meeting.repeat_nth,
        once=date.fromisoformat(meeting.once_on) if meeting.once_on else None,
    )


def reminder_ref(occurrence_id: int, seconds: int) -> str:
    return f"{occurrence_id}:{seconds}"


def parse_reminder_ref(ref: str) -> tuple[int, int]:
    occurrence, _, seconds = ref.partition(":")
    return int(occurrence), int(seconds)


async def plan_next(
    repos: Repositories,
    meeting: Meeting,
    *,
    after: datetime,
    now: datetime,
    zone: ZoneInfo,
    since: datetime | None = None,
) -> Planned | None:
    """Store the first occurrence planned after ``after`` with its timers.

    Its reminders are those due after ``since`` (default: now). A series whose previous
    occurrence started while the bot was down passes that start: the reminders that fell
    due since then run at once, sent late or skipped with a note. A holiday shift never
    puts an occurrence at or before ``after``'s.
    """
    since = since or now
    recurrence = recurrence_of(meeting)
    start = next_start(recurrence, after, zone, holiday_shift=meeting.holiday_shift)
    while start is not None and start.starts <= after:  # two dates shifted onto one day
        start = next_start(recurrence, start.planned, zone, holiday_shift=meeting.holiday_shift)
    if start is None:
        return None
    occurrence = await repos.meetings.add_occurrence(
        meeting_id=meeting.id,
        planned_at=start.planned,
        starts_at=start.starts,
        reminders_after=since,
        now=now,
    )
    if occurrence is None:  # planned already (a retried timer): nothing more to do
        return None
    skipped: list[int] = []
    for seconds in meeting.reminders:
        due = occurrence.starts_at - timedelta(seconds=seconds)
        if due > since:
            await repos.timers.schedule(REMIND_TIMER, reminder_ref(occurrence.id, seconds), due)
        else:
            skipped.append(seconds)
    await repos.timers.schedule(START_TIMER, str(occurrence.id), occurrence.starts_at)
    return Planned(occurrence, tuple(skipped), start.holiday_unknown)


async def cancel_timers(
    repos: Repositories, meeting: Meeting, occurrence_id: int, now: datetime
) -> None:
    for seconds in meeting.reminders:
        await repos.timers.cancel(REMIND_TIMER, reminder_ref(occurrence_id, seconds), now)
    await repos.timers.cancel(START_TIMER, str(occurrence_id), now)
    await repos.timers.cancel(MINUTES_TIMER, str(occurrence_id), now)


async def target_chats(repos: Repositories, meeting: Meeting) -> list[tuple[int, int]]:
    """(chat, node) for every chat the meeting is announced in: its node's, and for scope
    ``all`` every bound chat below it."""
    nodes = [meeting.node_id]
    if meeting.scope == Scope.ALL:
        nodes.extend(node.id for node in await repos.orgs.descendants(meeting.node_id))
    targets: list[tuple[int, int]] = []
    for node_id in nodes:
        binding = await repos.orgs.binding_of_node(node_id)
        if binding is not None and binding.active:
            targets.append((binding.chat_id, node_id))
    return targets


def meeting_thread(meeting: Meeting, chat_id: int) -> int | None:
    """The forum topic the meeting's messages go to in ``chat_id``: the one it was scheduled
    in, in its own chat; General in the chats below (scope ``all``)."""
    return meeting.thread_id if chat_id == meeting.chat_id else None


def latest_posts(posts: list[MeetingPost]) -> dict[int, MeetingPost]:
    """The newest message of the occurrence in each chat: the one with live buttons."""
    latest: dict[int, MeetingPost] = {}
    for post in posts:
        current = latest.get(post.chat_id)
        if current is None or (post.created_at, -post.slot) >= (current.created_at, -current.slot):
            latest[post.chat_id] = post
    return latest


async def tell_chats(
    repos: Repositories,
    occurrence_id: int,
    announcement: Announcement,
    now: datetime,
    *,
    also: list[int] | None = None,
) -> int:
    """An announcement in every chat that has a message of the occurrence (as a reply to
    the newest), and in ``also``; returns how many chats."""
    latest = latest_posts(await repos.meetings.posts(occurrence_id))
    chats = {chat: (post.message_id, post.thread_id) for chat, post in latest.items()}
    if any(chat not in chats for chat in also or []):
        occurrence = await repos.meetings.occurrence(occurrence_id)
        meeting = await repos.meetings.get(occurrence.meeting_id) if occurrence else None
        for chat in also or []:
            thread = meeting_thread(meeting, chat) if meeting is not None else None
            chats.setdefault(chat, (None, thread))
    for chat, (reply_to, thread) in chats.items():
        await repos.outbox.add(
            chat_id=chat,
            announcement=announcement,
            now=now,
            reply_to=reply_to,
            thread_id=thread,
        )
    return len(chats)
