"""How meetings look in Telegram: the announcement and reminders (living messages with
参加 / 请假 buttons and counts), /meetings, and the outbox announcements about them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import assert_never
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.meetings.views import (
    AgendaLine,
    Detail,
    MeetingAction,
    MeetingMessageView,
    MeetingMove,
    MeetingStatus,
    OccurrenceView,
)
from channels.common.told import weekday
from channels.telegram.meetings.callbacks import MeetingAnswer, MeetingWho
from locales import Html, Translator
from storage.records import Meeting

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NTH_KEYS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
# What the agenda and the name lists may take of a message (Telegram's limit is 4096).
AGENDA_BUDGET, MAX_NAMES = 1500, 40


class MeetingRenderer:
    def __init__(self, translator: Translator, zone: ZoneInfo) -> None:
        self.t = translator
        self.zone = zone

    # Pieces -------------------------------------------------------------------------------

    def when(self, locale: str, moment: datetime) -> str:
        """``2026-12-15 19:00（周二）`` / ``2026-12-15 19:00 (Tue)``."""
        day = weekday(locale, moment, self.zone)
        return self.t.plain(
            locale, "meetings.when", at=self.t.datetime(locale, moment, self.zone), day=day
        )

    def span(self, locale: str, delta: timedelta) -> str:
        """A time ahead, to the minute: ``1天2小时`` / ``1 d 2 h``."""
        return self.t.duration(locale, delta)

    def offset(self, locale: str, seconds: int) -> str:
        return self.span(locale, timedelta(seconds=seconds))

    def repeat(self, locale: str, meeting: Meeting) -> str:
        return self.repeat_of(
            locale, meeting.repeat, meeting.repeat_day, meeting.repeat_nth, meeting.local_time
        )

    def repeat_of(self, locale: str, repeat: str, day: int | None, nth: int | None, at: str) -> str:
        """``每月15日 19:00`` / ``monthly on the first Wednesday at 19:00``."""
        t = self.t
        match repeat:
            case "weekly":
                weekday = t.plain(locale, f"meetings.weekday_{WEEKDAY_KEYS[day or 0]}")
                return t.plain(locale, "meetings.repeat_weekly", day=weekday, at=at)
            case "monthly_nth":
                weekday = t.plain(locale, f"meetings.weekday_{WEEKDAY_KEYS[day or 0]}")
                which = t.plain(locale, f"meetings.nth_{NTH_KEYS[nth or 1]}")
                return t.plain(locale, "meetings.repeat_monthly_nth", nth=which, day=weekday, at=at)
            case "monthly_day":
                key = "repeat_month_end" if (day or 0) > 28 else "repeat_monthly"
                return t.plain(locale, f"meetings.{key}", day=day, at=at)
        return t.plain(locale, "meetings.repeat_once")

    def _agenda(self, locale: str, lines: list[AgendaLine]) -> list[str]:
        if not lines:
            return []
        out: list[str] = [self.t(locale, "meetings.agenda_title")]
        used = 0
        for number, line in enumerate(lines, 1):
            key = f"meetings.agenda_{line.kind}"
            shown = self.t(
                locale,
                key,
                n=number,
                id=line.topic_id or "",
                text=line.text,
                origin=line.origin or "",
            )
            used += len(shown) + 1
            if used > AGENDA_BUDGET:  # the message must stay within Telegram's 4096
                out.append(self.t(locale, "meetings.agenda_more", count=len(lines) - number + 1))
                break
            out.append(shown)
        return out

    def facts(self, locale: str, view: OccurrenceView) -> list[str]:
        """Time, repetition, place, link, note and agenda of an occurrence."""
        t, meeting, occurrence = self.t, view.meeting, view.occurrence
        lines: list[str] = [
            t(locale, "meetings.time", when=self.when(locale, occurrence.starts_at))
        ]
        if occurrence.starts_at != occurrence.planned_at:
            planned = occurrence.planned_at.astimezone(self.zone)
            lines.append(t(locale, "meetings.shifted", date=f"{planned:%m-%d}"))
        if meeting.recurring:
            lines.append(t(locale, "meetings.repeats", rule=self.repeat(locale, meeting)))
        if meeting.place:
            lines.append(t(locale, "meetings.place", place=meeting.place))
        if meeting.link:
            lines.append(t(locale, "meetings.link", link=meeting.link))
        if meeting.note:
            lines.append(t(locale, "meetings.note", note=meeting.note))
        lines.extend(self._agenda(locale, view.agenda))
        return lines

    def counts(self, locale: str, view: OccurrenceView) -> Html:
        return self.t(locale, "meetings.counts", yes=view.attending, no=view.absent)

    # The living message --------------------------------------------------------------------

    def post(
        self, locale: str, message: MeetingMessageView
    ) -> tuple[Html, InlineKeyboardMarkup | None]:
        """One announcement or reminder: the facts, its status, the answers so far (on the
        live one, or once it was held or cancelled) and the buttons (on the live one)."""
        t, view = self.t, message.occurrence
        meeting, occurrence = view.meeting, view.occurrence
        key = "meetings.reminder_title" if message.reminder else "meetings.announce_title"
        parts: list[str] = [t(locale, key, id=meeting.id, title=meeting.title)]
        if message.late:
            parts.append(t(locale, "meetings.late", when=self.when(locale, occurrence.starts_at)))
        elif message.starts_in is not None:
            parts.append(t(locale, "meetings.starts_in", span=self.span(locale, message.starts_in)))
        parts.append("\n".join(self.facts(locale, view)))
        if message.status is not MeetingStatus.AHEAD:
            parts.append(t(locale, f"meetings.status_{message.status.value}"))
        if message.shows_counts:
            parts.append(self.counts(locale, view))
        markup = self.buttons(locale, message.actions) if message.actions else None
        return Html("\n\n".join(parts)), markup

    def _status(self, locale: str, view: OccurrenceView) -> Html | None:
        if view.occurrence.status == "cancelled":
            key = (
                "meetings.status_series_cancelled"
                if view.meeting.status == "cancelled"
                else ("meetings.status_cancelled")
            )
            return self.t(locale, key)
        if view.occurrence.status == "held":
            return self.t(locale, "meetings.status_held")
        return None

    def buttons(self, locale: str, actions: tuple[MeetingAction, ...]) -> InlineKeyboardMarkup:
        """The answers on one row, who answered on the next."""
        answers: list[InlineKeyboardButton] = []
        rest: list[InlineKeyboardButton] = []
        for action in actions:
            occurrence = action.occurrence_id
            match action.move:
                case MeetingMove.ATTEND:
                    data = MeetingAnswer(occurrence, "y").encode()
                    answers.append(self._button(locale, "button_yes", data))
                case MeetingMove.EXCUSE:
                    data = MeetingAnswer(occurrence, "n").encode()
                    answers.append(self._button(locale, "button_no", data))
                case MeetingMove.WHO:
                    rest.append(self._button(locale, "button_who", MeetingWho(occurrence).encode()))
                case _:
                    assert_never(action.move)
        return InlineKeyboardMarkup([row for row in (answers, rest) if row])

    def _button(self, locale: str, key: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(self.t.plain(locale, f"meetings.{key}"), callback_data=data)

    # Lists and details ---------------------------------------------------------------------

    def listing_line(self, locale: str, view: OccurrenceView) -> Html:
        meeting = view.meeting
        rule = self.repeat(locale, meeting) if meeting.recurring else ""
        line = self.t(
            locale,
            "meetings.list_item",
            id=meeting.id,
            title=meeting.title,
            when=self.when(locale, view.occurrence.starts_at),
            rule=self.t.plain(locale, "meetings.list_rule", rule=rule) if rule else "",
            yes=view.attending,
            no=view.absent,
        )
        if view.holiday_gap is not None:
            line = Html(line + "\n" + self.t(locale, "meetings.holiday_gap", year=view.holiday_gap))
        return line

    def detail(self, locale: str, detail: Detail) -> Html:
        view = detail.view
        parts = [
            self.t(locale, "meetings.detail_title", id=view.meeting.id, title=view.meeting.title),
            "\n".join(self.facts(locale, view)),
        ]
        reminders = [self.offset(locale, seconds) for seconds in view.meeting.reminders]
        if reminders:
            parts.append(self.t(locale, "meetings.reminders", offsets=", ".join(reminders)))
        status = self._status(locale, view)
        if status is not None:
            parts.append(status)
        if view.holiday_gap is not None:
            parts.append(self.t(locale, "meetings.holiday_gap", year=view.holiday_gap))
        parts.append(self.counts(locale, view))
        if detail.answers is not None:
            parts.append(self.answers(locale, detail.answers))
        return Html("\n\n".join(parts))

    def answers(self, locale: str, answers: list[tuple[str, str]]) -> Html:
        lines: list[str] = []
        for answer in ("yes", "no"):
            names = [name[:40] for name, given in answers if given == answer]
            separator = "、" if locale == "zh_CN" else ", "
            shown = separator.join(names[:MAX_NAMES]) or "—"
            if len(names) > MAX_NAMES:
                more = self.t.plain(locale, "meetings.who_more", count=len(names) - MAX_NAMES)
                shown = f"{shown}{separator}{more}"
            lines.append(self.t(locale, f"meetings.who_{answer}", count=len(names), names=shown))
        return Html("\n".join(lines))
