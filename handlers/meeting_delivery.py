"""Delivery of the outbox's meeting announcements (``meeting.*``); anything else goes on to
the announcer it wraps. Minutes with a photo or a document are sent as that photo or document,
their text in the caption (or, when too long for a caption, in a message just before it)."""

from __future__ import annotations

import html
import re

from telegram import Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from bot.outbox import Announcer
from bot.services import Services
from handlers.meeting_render import MeetingRenderer
from handlers.ports import delivered
from handlers.threads import in_thread
from locales import Html, escape
from storage.records import OutboxMessage

CAPTION_LIMIT = 1000  # Telegram's is 1024 characters after parsing; keep clear of it


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

    async def deliver(self, message: OutboxMessage) -> int:
        if not message.kind.startswith("meeting."):
            return await self._inner.deliver(message)
        locale = await self._services.people.chat_locale(message.chat_id)
        sent = await delivered(self._deliver(locale, message))
        return sent.message_id if sent is not None else 0

    async def _deliver(self, locale: str, message: OutboxMessage) -> Message | None:
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
            first = None
            if _plain_length(text) > CAPTION_LIMIT:
                first = await self._send(message, text)
                text = head
            media = await self._send_file(message, minutes.file_kind, minutes.file_id, text)
            return first or media
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
        self, message: OutboxMessage, kind: str, file_id: str, caption: Html
    ) -> Message:
        send = self._bot.send_photo if kind == "photo" else self._bot.send_document
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
