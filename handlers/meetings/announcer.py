"""Delivery of the outbox's meeting announcements (``meeting.*``); anything else goes on to
the announcer it wraps. Minutes with a photo or a document are sent as that photo or document,
their text in the caption (or, when too long for a caption, in a message just before it: two
parts, each sent once, bot/outbox_parts.py)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from telegram import Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from bot.outbox import Announcer
from bot.outbox_parts import PartsDelivery
from bot.services import Services
from handlers.delivery.ports import delivered
from handlers.delivery.threads import in_thread
from handlers.meetings.render import MeetingRenderer
from locales import Html, escape
from storage.records import FileKind, OutboxMessage, OutboxPart, PartKind

CAPTION_LIMIT = 1000  # Telegram's is 1024 characters after parsing; keep clear of it


@dataclass(frozen=True)
class Parts:
    """Minutes sent as two messages: rendered now, then sent part by part."""

    parts: list[OutboxPart]


class MeetingAnnouncer:
    def __init__(
        self,
        bot: ExtBot[None],
        services: Services,
        renderer: MeetingRenderer,
        inner: Announcer,
    ) -> None:
        self._bot = bot
        self._services = services
        self._renderer = renderer
        self._inner = inner
        self._parts = PartsDelivery(services.database, services.clock, services.outbox)

    async def deliver(self, message: OutboxMessage) -> int:
        if not message.kind.startswith("meeting."):
            return await self._inner.deliver(message)
        locale = await self._services.people.chat_locale(message.chat_id)
        sent = await delivered(self._deliver(locale, message))
        if isinstance(sent, Parts):
            return await self._deliver_parts(message, sent)
        return sent.message_id if sent is not None else 0

    async def _deliver_parts(self, message: OutboxMessage, parts: Parts) -> int:
        async def render() -> list[OutboxPart]:
            return parts.parts

        async def send(part: OutboxPart) -> int:
            text = Html(part.text or "")
            if part.kind == PartKind.TEXT:
                sending = self._send(message, text)
            else:
                sending = self._send_file(message, FileKind(part.kind), part.file_id or "", text)
            return (await delivered(sending)).message_id

        return await self._parts.deliver(message, render, send)

    async def _deliver(self, locale: str, message: OutboxMessage) -> Message | Parts | None:
        payload, render = message.payload, self._renderer
        if "minutes_id" in payload:
            entry = await self._services.meetings.minutes.entry(int(payload["minutes_id"]))
            if entry is None:
                return None
            if message.kind == "meeting.minutes_topic":
                text = render.minutes_topic(locale, entry, int(payload["topic_id"]))
                return await self._send(message, text)
            head = render.minutes_head(locale, entry)
            body = escape(entry.minutes.text)
            text = Html(f"{head}\n\n{body}") if entry.minutes.text else head
            minutes = entry.minutes
            if minutes.file_kind is None or minutes.file_id is None:
                return await self._send(message, text)
            if _plain_length(text) > CAPTION_LIMIT:  # the text, then the file under its head
                return Parts(
                    [
                        OutboxPart(seq=0, kind=PartKind.TEXT, text=text),
                        OutboxPart(
                            seq=1,
                            kind=PartKind(minutes.file_kind),
                            text=head,
                            file_id=minutes.file_id,
                        ),
                    ]
                )
            return await self._send_file(message, minutes.file_kind, minutes.file_id, text)
        view = await self._services.meetings.view(int(payload["occurrence_id"]))
        if view is None:
            return None
        if message.kind == "meeting.cancelled":
            return await self._send(message, render.cancelled(locale, view, bool(payload["whole"])))
        if message.kind == "meeting.missed":
            return await self._send(message, render.missed(locale, view))
        return await self._send(message, render.minutes_due(locale, view))

    def _reply(self, message: OutboxMessage) -> ReplyParameters | None:
        if not message.reply_to:
            return None
        return ReplyParameters(message_id=message.reply_to, allow_sending_without_reply=True)

    async def _send(self, message: OutboxMessage, text: Html) -> Message:
        return await in_thread(
            lambda thread: self._bot.send_message(
                message.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_parameters=self._reply(message),
                message_thread_id=thread,
            ),
            message.thread_id,
        )

    async def _send_file(
        self, message: OutboxMessage, kind: FileKind, file_id: str, caption: Html
    ) -> Message:
        send = self._bot.send_photo if kind == FileKind.PHOTO else self._bot.send_document
        return await in_thread(
            lambda thread: send(
                message.chat_id,
                file_id,
                caption=caption,
                parse_mode=ParseMode.HTML,
                reply_parameters=self._reply(message),
                message_thread_id=thread,
            ),
            message.thread_id,
        )


def _plain_length(text: str) -> int:
    return len(html.unescape(re.sub(r"<[^>]+>", "", text)))
