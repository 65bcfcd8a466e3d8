"""The Telegram side of the domain's ports: membership questions and outbox delivery."""

from __future__ import annotations

import logging

from telegram import ReplyParameters
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.outbox import DeliveryError
from bot.services import Services
from bot.services.errors import Refusal
from handlers.live import seconds
from handlers.topic_render import TopicRenderer
from locales import Html, Translator
from storage.records import OutboxMessage

log = logging.getLogger(__name__)

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
        try:
            return await self._bot.get_chat_member_count(chat_id)
        except TelegramError as error:
            log.warning("getChatMemberCount(%s) failed: %s", chat_id, error)
            return None


class TelegramAnnouncer:
    """Renders outbox announcements in the chat's language and sends them."""

    def __init__(
        self,
        bot: ExtBot[None],
        services: Services,
        renderer: TopicRenderer,
        translator: Translator,
    ) -> None:
        self._bot = bot
        self._services = services
        self._renderer = renderer
        self._t = translator

    async def deliver(self, message: OutboxMessage) -> int:
        locale = await self._services.people.chat_locale(message.chat_id)
        text = await self._render(locale, message)
        if text is None:
            return 0
        reply = (
            ReplyParameters(message_id=message.reply_to, allow_sending_without_reply=True)
            if message.reply_to
            else None
        )
        try:
            sent = await self._bot.send_message(
                message.chat_id, text, parse_mode=ParseMode.HTML, reply_parameters=reply
            )
        except RetryAfter as error:
            raise DeliveryError(str(error), retry_after=seconds(error.retry_after)) from error
        except (Forbidden, BadRequest) as error:
            raise DeliveryError(str(error), permanent=True) from error
        except TelegramError as error:
            raise DeliveryError(str(error)) from error
        return sent.message_id

    async def _render(self, locale: str, message: OutboxMessage) -> Html | None:
        payload = message.payload
        if message.kind in (
            "topic.closed",
            "topic.cancelled",
            "topic.nudge_group",
            "topic.nudge_private",
        ):
            snap = await self._services.topics.snapshot(int(payload["topic_id"]))
            if snap is None:
                return None
            topic = snap.topic
            if message.kind in ("topic.closed", "topic.cancelled"):
                return self._renderer.outcome(locale, topic)
            deadline = self._renderer.when(locale, topic)
            if message.kind == "topic.nudge_private":
                return self._t(
                    locale,
                    "topics.nudge_private",
                    id=topic.id,
                    title=topic.title,
                    deadline=deadline,
                )
            return self._t(
                locale,
                "topics.nudge_group",
                id=topic.id,
                title=topic.title,
                deadline=deadline,
                missing=payload.get("missing", 0),
            )
        if message.kind == "proposal.declined":
            proposal = await self._services.proposals.get(int(payload["proposal_id"]))
            entry = self._services.catalogue.find(proposal.reason or "") if proposal else None
            if proposal is None or entry is None:
                return None
            return self._t(
                locale,
                "proposals.declined_private",
                text=proposal.text[:200],
                name=entry.name(locale),
                reason=entry.reason(locale),
            )
        log.error("unknown outbox kind %r", message.kind)
        return None
