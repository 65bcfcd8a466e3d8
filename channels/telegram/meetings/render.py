"""How meetings look in Telegram: the announcement and reminders (living messages with
参加 / 请假 buttons and counts), /meetings, and the outbox announcements about them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, assert_never
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.meetings import said
from bot.services.meetings.views import (
    Detail,
    MeetingAction,
    MeetingMessageView,
    MeetingMove,
    MeetingStatus,
    OccurrenceView,
)
from bot.services.web_links import Page
from channels.common.told import Writer, weekday
from channels.telegram.meetings.callbacks import MeetingAnswer, MeetingWho
from channels.telegram.page_buttons import PageButtons
from locales import Html, Translator, escape
from storage.records import Meeting


class MeetingRenderer:
    def __init__(
        self, translator: Translator, zone: ZoneInfo, pages: PageButtons | None = None
    ) -> None:
        self.t = translator
        self.zone = zone
        self.pages = pages  # the meeting's web page under its messages, when the web is on
        self.writer = Writer(translator, escape, zone, span=translator.duration)
        self.plain = Writer(_PlainTexts(translator), str, zone, span=translator.duration)

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
        return self.plain.said(locale, said.repeat(meeting))

    def repeat_of(self, locale: str, repeat: str, day: int | None, nth: int | None, at: str) -> str:
        """``每月15日 19:00`` / ``monthly on the first Wednesday at 19:00``."""
        return self.plain.said(locale, said.repeat_of(repeat, day, nth, at))

    def facts(self, locale: str, view: OccurrenceView) -> list[str]:
        """Time, repetition, place, link, note and agenda of an occurrence."""
        return [self.writer.line(locale, line) for line in said.facts(view, self.zone)]

    def counts(self, locale: str, view: OccurrenceView) -> Html:
        return Html(self.writer.said(locale, said.counts(view)))

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
        rows: list[Sequence[InlineKeyboardButton]] = list(
            self.buttons(locale, message.actions).inline_keyboard
        )
        if self.pages is not None:
            rows.extend(self.pages.row(locale, Page.MEETING, meeting.id, "meeting_button"))
        return Html("\n\n".join(parts)), InlineKeyboardMarkup(rows) if rows else None

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
        return Html(self.writer.lines(locale, tuple(said.listing_line(view))))

    def detail(self, locale: str, detail: Detail) -> Html:
        return Html(self.writer.lines(locale, tuple(said.detail(detail, self.zone, locale))))


class _PlainTexts:
    """The catalogue without markup, as a Writer's catalogue (a card, an alert)."""

    def __init__(self, translator: Translator) -> None:
        self._t = translator

    def __call__(self, locale: str, key: str, **values: Any) -> str:
        return self._t.plain(locale, key, **values)

    def plain(self, locale: str, key: str, **values: Any) -> str:
        return self._t.plain(locale, key, **values)
