"""What meetings say, once for every channel, as locale keys and values (``Said`` lines,
bot/services/announcement_texts.py): an occurrence's facts, a series' rule, a line of
/meetings, one meeting in detail, who answered what. Telegram's messages and WeCom's answers
write these lines in their markup (channels/common/told.py)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.services.announcement_texts import Line, Said, Spans, meeting_when
from bot.services.meetings.views import AgendaLine, Detail, OccurrenceView
from storage.records import Meeting

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NTH_KEYS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
# What the agenda may take of a message, counted on its items' text (Telegram's limit is 4096).
AGENDA_BUDGET = 1500
AGENDA_LINE_OVERHEAD = 30  # a number, an icon, the words around an item
MAX_NAMES = 40


def repeat_of(repeat: str, day: int | None, nth: int | None, at: str) -> Said:
    """``每月15日 19:00`` / ``monthly on the first Wednesday at 19:00``."""
    match repeat:
        case "weekly":
            weekday = Said(f"meetings.weekday_{WEEKDAY_KEYS[day or 0]}")
            return Said("meetings.repeat_weekly", {"day": weekday, "at": at})
        case "monthly_nth":
            weekday = Said(f"meetings.weekday_{WEEKDAY_KEYS[day or 0]}")
            which = Said(f"meetings.nth_{NTH_KEYS[nth or 1]}")
            return Said("meetings.repeat_monthly_nth", {"nth": which, "day": weekday, "at": at})
        case "monthly_day":
            key = "repeat_month_end" if (day or 0) > 28 else "repeat_monthly"
            return Said(f"meetings.{key}", {"day": day or 0, "at": at})
    return Said("meetings.repeat_once")


def repeat(meeting: Meeting) -> Said:
    return repeat_of(meeting.repeat, meeting.repeat_day, meeting.repeat_nth, meeting.local_time)


def agenda(lines: list[AgendaLine]) -> list[Line]:
    if not lines:
        return []
    out: list[Line] = [Said("meetings.agenda_title")]
    used = 0
    for number, line in enumerate(lines, 1):
        used += len(line.text) + len(line.origin or "") + AGENDA_LINE_OVERHEAD
        if used > AGENDA_BUDGET:  # the message must stay within Telegram's 4096
            out.append(Said("meetings.agenda_more", {"count": len(lines) - number + 1}))
            break
        out.append(
            Said(
                f"meetings.agenda_{line.kind}",
                {
                    "n": number,
                    "id": line.topic_id or "",
                    "text": line.text,
                    "origin": line.origin or "",
                },
            )
        )
    return out


def facts(view: OccurrenceView, zone: ZoneInfo) -> list[Line]:
    """Time, repetition, place, link, note and agenda of an occurrence."""
    meeting, occurrence = view.meeting, view.occurrence
    lines: list[Line] = [Said("meetings.time", {"when": meeting_when(occurrence.starts_at)})]
    if occurrence.starts_at != occurrence.planned_at:
        planned = occurrence.planned_at.astimezone(zone)
        lines.append(Said("meetings.shifted", {"date": f"{planned:%m-%d}"}))
    if meeting.recurring:
        lines.append(Said("meetings.repeats", {"rule": repeat(meeting)}))
    if meeting.place:
        lines.append(Said("meetings.place", {"place": meeting.place}))
    if meeting.link:
        lines.append(Said("meetings.link", {"link": meeting.link}))
    if meeting.note:
        lines.append(Said("meetings.note", {"note": meeting.note}))
    lines.extend(agenda(view.agenda))
    return lines


def counts(view: OccurrenceView) -> Said:
    return Said("meetings.counts", {"yes": view.attending, "no": view.absent})


def status(view: OccurrenceView) -> Said | None:
    if view.occurrence.status == "cancelled":
        if view.meeting.status == "cancelled":
            return Said("meetings.status_series_cancelled")
        return Said("meetings.status_cancelled")
    if view.occurrence.status == "held":
        return Said("meetings.status_held")
    return None


def listing_line(view: OccurrenceView) -> list[Line]:
    """One meeting of /meetings (and the holiday data's gap, if its year has one)."""
    meeting = view.meeting
    rule: Said | str = (
        Said("meetings.list_rule", {"rule": repeat(meeting)}) if meeting.recurring else ""
    )
    line: list[Line] = [
        Said(
            "meetings.list_item",
            {
                "id": meeting.id,
                "title": meeting.title,
                "when": meeting_when(view.occurrence.starts_at),
                "rule": rule,
                "yes": view.attending,
                "no": view.absent,
            },
        )
    ]
    if view.holiday_gap is not None:
        line.append(Said("meetings.holiday_gap", {"year": view.holiday_gap}))
    return line


def detail(found: Detail, zone: ZoneInfo, locale: str) -> list[Line]:
    """One meeting: its facts, reminders, status, answers so far (and, for an officer in
    private, who answered what); parts apart by a blank line."""
    view = found.view
    parts: list[list[Line]] = [
        [Said("meetings.detail_title", {"id": view.meeting.id, "title": view.meeting.title})],
        facts(view, zone),
    ]
    if view.meeting.reminders:
        offsets = Spans(tuple(timedelta(seconds=s) for s in view.meeting.reminders))
        parts.append([Said("meetings.reminders", {"offsets": offsets})])
    said = status(view)
    if said is not None:
        parts.append([said])
    if view.holiday_gap is not None:
        parts.append([Said("meetings.holiday_gap", {"year": view.holiday_gap})])
    parts.append([counts(view)])
    if found.answers is not None:
        parts.append(answers(found.answers, locale))
    lines: list[Line] = []
    for part in parts:
        lines.extend(["", *part] if lines else part)
    return lines


def answers(given: list[tuple[str, str]], locale: str) -> list[Line]:
    """``参加（2）：张三、李四`` and ``请假（0）：—``; past MAX_NAMES, how many more. The
    names are people's own, joined as the language joins a list."""
    separator = "、" if locale == "zh_CN" else ", "
    lines: list[Line] = []
    for answer in ("yes", "no"):
        names = [name[:40] for name, chosen in given if chosen == answer]
        shown: Said | str = separator.join(names[:MAX_NAMES]) or "—"
        if len(names) > MAX_NAMES:
            more = Said("meetings.who_more", {"count": len(names) - MAX_NAMES})
            shown = Said("meetings.who_names_more", {"names": shown, "more": more})
        lines.append(Said(f"meetings.who_{answer}", {"count": len(names), "names": shown}))
    return lines
