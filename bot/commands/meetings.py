"""/meetings, /agenda, /minutes (its text), /cancelmeeting: reading meetings, and an
officer's moves on a meeting by its number.

``/meeting`` itself answers with the meeting's message (Telegram's living message, WeCom's
card) and stays in each channel; so do what only one channel can do: minutes given as a reply
to the meeting's message or with a photo (Telegram), and the question with buttons a series'
``/cancelmeeting 3`` gets on Telegram. Those handlers use the pieces here.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.commands.base import Asked, Reply, UsageError, lines, said
from bot.services.announcement_texts import Said, Spans, Told, meeting_when
from bot.services.meetings import said as meeting_said
from bot.services.meetings.minutes import Attachment, Recorded
from bot.services.meetings.service import Cancelled, Scheduled
from bot.services.topics.eligibility import parse_topic_id
from storage.records import Scope

MEETING_NUMBER = re.compile(r"[#＃]?(\d{1,9})(?:\s+|$)")
# The second word of /cancelmeeting for a series: this occurrence only, or the whole series.
_ONE = frozenset({"本次", "这次", "once", "this", "one"})
_SERIES = frozenset({"全部", "系列", "series", "all"})


def scheduled_notes(scheduled: Scheduled, zone: ZoneInfo) -> tuple[Said, ...]:
    """What the officer is told besides the meeting's message once it is scheduled: the
    reminders too late to send, where it was announced, a year the holiday data lacks."""
    notes: list[Said] = []
    if scheduled.skipped:
        skipped = Spans(tuple(timedelta(seconds=seconds) for seconds in scheduled.skipped))
        notes.append(Said("meetings.reminders_skipped", {"offsets": skipped}))
    if scheduled.meeting.scope == Scope.ALL:
        announced = {"id": scheduled.meeting.id, "count": scheduled.chats}
        notes.append(Said("meetings.announced_all", announced))
    if scheduled.holiday_unknown:
        year = scheduled.occurrence.planned_at.astimezone(zone).year
        notes.append(Said("meetings.holiday_gap", {"year": year}))
    return tuple(notes)


async def meetings(asked: Asked) -> Reply:
    """``/meetings``: what is coming up here; ``/meetings <编号>``: one meeting in detail (an
    officer asking in private also sees who answered what)."""
    words = asked.args("meetings.usage_meetings", at_least=0, at_most=1)
    service, zone = asked.services.meetings, asked.services.settings.zone
    if words:
        found = await service.detail(asked.actor, asked.place, parse_topic_id(words[0]))
        return Reply(Told(tuple(meeting_said.detail(found, zone, asked.locale))))
    views = await service.listing(asked.place)
    if not views:
        return said("meetings.list_none")
    listed = [line for view in views for line in meeting_said.listing_line(view)]
    return Reply(Told((Said("meetings.list_title"), *listed)))


async def agenda(asked: Asked) -> Reply:
    parts = asked.text.split(maxsplit=1)
    if len(parts) != 2:
        raise UsageError("meetings.usage_agenda")
    meetings = asked.services.meetings
    occurrence = await meetings.add_agenda_item(
        asked.actor, asked.place, parse_topic_id(parts[0]), parts[1]
    )
    view = await meetings.view(occurrence.id)
    assert view is not None
    return said("meetings.agenda_added", id=view.meeting.id, count=len(view.agenda))


def minutes_number(text: str, *, replying: bool, usage: str) -> tuple[int | None, str]:
    """``/minutes 3 内容`` -> (3, "内容"); as a reply to a meeting's message (``replying``)
    the number may be left out: (None, text). Without either: the usage line."""
    number = MEETING_NUMBER.match(text)
    if number is not None and (not replying or text[number.end() :].strip()):
        return int(number.group(1)), text[number.end() :]
    if not replying:
        raise UsageError(usage)
    return None, text


async def record_minutes(
    asked: Asked,
    meeting_id: int | None,
    text: str,
    *,
    replied_to: int | None = None,
    attachment: Attachment | None = None,
) -> Reply:
    recorded: Recorded = await asked.services.meetings.minutes.record(
        asked.actor,
        asked.place,
        meeting_id=meeting_id,
        replied_to=replied_to,
        text=text,
        attachment=attachment,
    )
    return said("meetings.minutes_recorded", id=recorded.meeting.id, count=recorded.chats)


async def minutes(asked: Asked) -> Reply:
    """``/minutes <编号> <内容>``: recorded and published where the meeting was announced."""
    meeting_id, text = minutes_number(
        asked.text, replying=False, usage="meetings.usage_minutes_text"
    )
    return await record_minutes(asked, meeting_id, text)


def cancelled(done: Cancelled) -> Reply:
    """What the officer is told once a meeting, or one date of a series, is cancelled."""
    if done.whole:
        return said("meetings.cancelled_series", id=done.meeting.id, title=done.meeting.title)
    one = Said(
        "meetings.cancelled_one",
        {"id": done.meeting.id, "when": meeting_when(done.occurrence.starts_at)},
    )
    if done.next is None:
        return lines(one)
    return lines(one, Said("meetings.next_one", {"when": meeting_when(done.next.starts_at)}))


async def cancel_meeting(asked: Asked) -> Reply:
    """``/cancelmeeting <编号>`` cancels a one-off meeting; a series needs the second word:
    ``本次`` (this date only) or ``全部`` (the whole series)."""
    words = asked.args("meetings.usage_cancel", at_least=1, at_most=2)
    meetings = asked.services.meetings
    found, occurrence = await meetings.cancellable(
        asked.actor, asked.place, parse_topic_id(words[0])
    )
    choice = words[1].lower() if len(words) == 2 else None
    if choice is not None and choice not in _ONE | _SERIES:
        raise UsageError(
            "meetings.usage_cancel_series" if found.recurring else "meetings.usage_cancel"
        )
    if found.recurring and choice is None:
        return said(
            "meetings.cancel_which_typed",
            id=found.id,
            title=found.title,
            when=meeting_when(occurrence.starts_at),
        )
    done = await meetings.cancel(
        asked.actor,
        asked.place,
        found.id,
        occurrence.id,
        whole=not found.recurring or choice in _SERIES,
    )
    return cancelled(done)


COMMANDS = {
    "meetings": meetings,
    "agenda": agenda,
    "minutes": minutes,
    "cancelmeeting": cancel_meeting,
}
