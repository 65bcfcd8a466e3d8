"""Telegram's renderers of the meeting announcements (part of TelegramAnnouncements,
channels/telegram/delivery/renderers.py). Minutes with a photo or a document are that photo or
document, their text in the caption (or, when too long for a caption, in a message just
before it: two parts, each sent once, bot/outbox_parts.py)."""

from __future__ import annotations

import html
import re

from bot.services import Services
from bot.services.announcements import (
    MeetingCancelled,
    MeetingMissed,
    MinutesDue,
    MinutesOfTopic,
    MinutesPublished,
)
from bot.services.meetings.views import OccurrenceView
from channels.telegram.delivery.renderers import File, Parts, Rendered, Target, Text
from channels.telegram.meetings.render import MeetingRenderer
from locales import Html, escape
from storage.records import OutboxPart, PartKind

CAPTION_LIMIT = 1000  # Telegram's is 1024 characters after parsing; keep clear of it


class MeetingAnnouncements:
    def __init__(self, services: Services, renderer: MeetingRenderer) -> None:
        self._services = services
        self._renderer = renderer

    async def _view(self, occurrence_id: int) -> OccurrenceView | None:
        return await self._services.meetings.view(occurrence_id)

    async def meeting_cancelled(self, item: MeetingCancelled, to: Target) -> Rendered:
        view = await self._view(item.occurrence_id)
        return Text(self._renderer.cancelled(to.locale, view, item.whole)) if view else None

    async def meeting_missed(self, item: MeetingMissed, to: Target) -> Rendered:
        view = await self._view(item.occurrence_id)
        return Text(self._renderer.missed(to.locale, view)) if view else None

    async def minutes_due(self, item: MinutesDue, to: Target) -> Rendered:
        view = await self._view(item.occurrence_id)
        return Text(self._renderer.minutes_due(to.locale, view)) if view else None

    async def minutes_of_topic(self, item: MinutesOfTopic, to: Target) -> Rendered:
        entry = await self._services.meetings.minutes.entry(item.minutes_id)
        if entry is None:
            return None
        return Text(self._renderer.minutes_topic(to.locale, entry, item.topic_id))

    async def minutes_published(self, item: MinutesPublished, to: Target) -> Rendered:
        entry = await self._services.meetings.minutes.entry(item.minutes_id)
        if entry is None:
            return None
        head = self._renderer.minutes_head(to.locale, entry)
        minutes = entry.minutes
        text = Html(f"{head}\n\n{escape(minutes.text)}") if minutes.text else head
        if minutes.file_kind is None or minutes.file_id is None:
            return Text(text)
        if _plain_length(text) <= CAPTION_LIMIT:
            return File(minutes.file_kind, minutes.file_id, text)
        parts = [  # the text, then the file under its head
            OutboxPart(seq=0, kind=PartKind.TEXT, text=text),
            OutboxPart(seq=1, kind=PartKind(minutes.file_kind), text=head, file_id=minutes.file_id),
        ]

        async def render() -> list[OutboxPart]:
            return parts

        return Parts(render)


def _plain_length(text: str) -> int:
    return len(html.unescape(re.sub(r"<[^>]+>", "", text)))
