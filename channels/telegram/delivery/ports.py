"""The Telegram side of the domain's ports: membership questions and outbox delivery."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from telegram import InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.outbox import DeliveryError
from bot.outbox_parts import PartsDelivery
from bot.services import Services
from bot.services.announcements import UnknownAnnouncement, decode, render
from bot.services.errors import Refusal
from channels.telegram.delivery.coalesce import seconds
from channels.telegram.delivery.refused import gone_status
from channels.telegram.delivery.renderers import File, Parts, Target, TelegramAnnouncements, Text
from channels.telegram.delivery.threads import in_thread
from channels.telegram.ratelimit import Priority, sending_as
from channels.telegram.reports.digest import send_part
from locales import Html
from storage.records import OutboxMessage, OutboxPart, on_telegram

log = logging.getLogger(__name__)
T = TypeVar("T")

_PRESENT = (
    ChatMemberStatus.OWNER,
    ChatMemberStatus.ADMINISTRATOR,
    ChatMemberStatus.MEMBER,
)


class TelegramMembership:
    """MembershipProbe over getChatMember / getChatMemberCount."""

    def __init__(self, bot: ExtBot[None]) -> None:
        self._bot = bot

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        if not on_telegram(chat_id):
            return True  # another platform's chat: its members reach the bot only from it
        try:
            member = await self._bot.get_chat_member(chat_id, user_id)
        except BadRequest:
            return False
        except TelegramError as error:
            log.warning("getChatMember(%s, %s) failed: %s", chat_id, user_id, error)
            raise Refusal("general.try_again") from error
        if member.status == ChatMemberStatus.RESTRICTED:
            return bool(getattr(member, "is_member", False))
        return member.status in _PRESENT

    async def member_count(self, chat_id: int) -> int | None:
        if not on_telegram(chat_id):
            return None  # not Telegram's to count
        try:
            return await self._bot.get_chat_member_count(chat_id)
        except TelegramError as error:
            log.warning("getChatMemberCount(%s) failed: %s", chat_id, error)
            return None


async def delivered(sending: Awaitable[T]) -> T:
    """Await a send, translating Telegram's errors into what the outbox understands."""
    try:
        return await sending
    except RetryAfter as error:
        raise DeliveryError(str(error), retry_after=seconds(error.retry_after)) from error
    except ChatMigrated as error:  # the group is a supergroup now: send there at once
        raise DeliveryError(str(error), migrated_to=error.new_chat_id) from error
    except (Forbidden, BadRequest) as error:
        raise DeliveryError(str(error), permanent=True, gone=gone_status(error)) from error
    except TelegramError as error:  # a network error, a timeout, a 5xx: try again later
        raise DeliveryError(str(error)) from error


class TelegramAnnouncer:
    """Delivers outbox rows: the stored announcement, rendered through Telegram's renderers
    (channels/telegram/delivery/renderers.py) in the chat's language of the moment, then sent."""

    def __init__(self, bot: ExtBot[None], services: Services, renderers: TelegramAnnouncements):
        self._bot = bot
        self._services = services
        self._renderers = renderers
        self._parts = PartsDelivery(services.database, services.clock, services.outbox)

    async def deliver(self, message: OutboxMessage) -> int:
        # What the bot tells on its own goes after the answers people are waiting for.
        with sending_as(Priority.ANNOUNCEMENT):
            return await self._deliver(message)

    async def _deliver(self, message: OutboxMessage) -> int:
        try:
            item = decode(message.kind, message.payload)
        except UnknownAnnouncement as error:  # a newer release wrote it: never deliverable
            raise DeliveryError(f"unknown announcement {error}", permanent=True) from None
        locale = await self._services.people.chat_locale(message.chat_id)
        rendered = await render(self._renderers, item, Target(locale, message))
        match rendered:
            case None:
                return 0
            case Text():
                sending = self._send_text(message, rendered.text, rendered.markup)
            case File():
                sending = self._send_file(
                    message, rendered.kind, rendered.file_id, rendered.caption
                )
            case Parts():
                return await self._parts.deliver(
                    message, rendered.render, lambda part: self._send_part(message, part)
                )
        return (await delivered(sending)).message_id

    async def _send_part(self, message: OutboxMessage, part: OutboxPart) -> int:
        if part.kind == "text":
            sending = self._send_text(message, Html(part.text or ""))
        elif part.file_id is not None:  # a file Telegram has (sent with the minutes)
            sending = self._send_file(message, part.kind, part.file_id, Html(part.text or ""))
        else:  # a file we made (a digest's CSV or chart)
            return await delivered(
                in_thread(
                    lambda thread: send_part(self._bot, message.chat_id, part, thread),
                    message.thread_id,
                )
            )
        return (await delivered(sending)).message_id

    @staticmethod
    def _reply(message: OutboxMessage) -> ReplyParameters | None:
        if not message.reply_to:
            return None
        return ReplyParameters(message_id=message.reply_to, allow_sending_without_reply=True)

    async def _send_text(
        self, message: OutboxMessage, text: Html, markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        return await in_thread(
            lambda thread: self._bot.send_message(
                message.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_parameters=self._reply(message),
                reply_markup=markup,
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
