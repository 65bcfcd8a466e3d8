"""The Telegram side of the domain's ports: membership questions and outbox delivery."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import datetime
from typing import TypeVar

from telegram import InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.outbox import DeliveryError
from bot.outbox_parts import PartsDelivery
from bot.ratelimit import Priority, sending_as
from bot.services import Services
from bot.services.errors import Refusal
from bot.services.organisation.service import CHILD_LOST_BOT
from handlers.delivery.coalesce import seconds
from handlers.delivery.refused import gone_status
from handlers.delivery.threads import in_thread
from handlers.escalation.render import EscalationRenderer
from handlers.reports.digest import digest_parts, send_part
from handlers.reports.digest_render import DigestRenderer
from handlers.topics.render import TopicRenderer
from locales import Html, Translator
from storage.records import OutboxMessage, OutboxPart, Topic

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


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


class TelegramAnnouncer:
    """Renders outbox announcements in the chat's language and sends them."""

    def __init__(
        self,
        bot: ExtBot[None],
        services: Services,
        renderer: TopicRenderer,
        escalation_renderer: EscalationRenderer,
        digest_renderer: DigestRenderer,
        translator: Translator,
    ) -> None:
        self._bot = bot
        self._services = services
        self._renderer = renderer
        self._escalation_renderer = escalation_renderer
        self._digest_renderer = digest_renderer
        self._t = translator
        self._parts = PartsDelivery(services.database, services.clock, services.outbox)

    async def deliver(self, message: OutboxMessage) -> int:
        # What the bot tells on its own goes after the answers people are waiting for.
        with sending_as(Priority.ANNOUNCEMENT):
            return await self._deliver(message)

    async def _deliver(self, message: OutboxMessage) -> int:
        locale = await self._services.people.chat_locale(message.chat_id)
        if message.kind == "digest":
            return await self._deliver_digest(message, locale)
        rendered = await self._render(locale, message)
        if rendered is None:
            return 0
        text, markup = rendered
        reply = (
            ReplyParameters(message_id=message.reply_to, allow_sending_without_reply=True)
            if message.reply_to
            else None
        )
        sent = await delivered(
            in_thread(
                lambda thread: self._bot.send_message(
                    message.chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_parameters=reply,
                    reply_markup=markup,
                    message_thread_id=thread,
                ),
                message.thread_id,
            )
        )
        return sent.message_id

    async def _deliver_digest(self, message: OutboxMessage, locale: str) -> int:
        """Each of the digest's messages, its CSV and its chart a part of its own: a restart
        between them sends only what was not sent (bot/outbox_parts.py)."""
        payload = message.payload

        async def render() -> list[OutboxPart]:
            digest = await self._services.digest.compose(
                int(payload["node_id"]),
                datetime.fromisoformat(str(payload["since"])),
                datetime.fromisoformat(str(payload["until"])),
                weekly=bool(payload.get("weekly")),
                late_since=_moment(payload.get("late_since")),
            )
            return await digest_parts(locale, digest, self._digest_renderer, self._t)

        async def send(part: OutboxPart) -> int:
            return await delivered(
                in_thread(
                    lambda thread: send_part(self._bot, message.chat_id, part, thread),
                    message.thread_id,
                )
            )

        return await self._parts.deliver(message, render, send)

    async def _render(
        self, locale: str, message: OutboxMessage
    ) -> tuple[Html, InlineKeyboardMarkup | None] | None:
        if message.kind.startswith(("escalation.", "matter.")):
            return await self._render_matter(locale, message)
        text = await self._render_text(locale, message)
        return (text, None) if text is not None else None

    async def _render_matter(
        self, locale: str, message: OutboxMessage
    ) -> tuple[Html, InlineKeyboardMarkup | None] | None:
        payload, t = message.payload, self._t
        if "escalation_id" in payload:
            view = await self._services.escalation.card(int(payload["escalation_id"]))
            if view is None:
                return None
            topic, hop = view.topic, view.hop
            if message.kind == "escalation.sent_up":
                late = _moment(payload.get("late_since"))
                text = t(
                    locale,
                    "escalation.sent_up",
                    id=topic.id,
                    title=topic.title,
                    reason=t(locale, f"reasons.{hop.escalation.reason}"),
                    level=t(locale, f"levels.{hop.to_node.level}"),
                    name=hop.to_node.name,
                )
                if late is not None:  # the SLA ran out while the bot was down
                    when = self._escalation_renderer.when(locale, late)
                    text = Html(text + "\n" + t(locale, "escalation.sent_up_late", due=when))
                return text, None
            due = hop.escalation.sla_due_at
            level = view.parent.level if view.parent else hop.to_node.level
            text = t(
                locale,
                "escalation.reminder",
                id=topic.id,
                title=topic.title,
                due=self._escalation_renderer.when(locale, due) if due else "",
                level=t(locale, f"levels.{level}"),
            )
            return text, None
        matter = await self._services.escalation.matter(int(payload["topic_id"]))
        if matter is None:
            return None
        topic = matter.topic
        if message.kind == "matter.resolved":
            record = await self._services.escalation.history(topic.id)
            if record.resolution is None:
                return None
            node = matter.holder.name
            text = t(
                locale,
                "escalation.resolved",
                id=topic.id,
                title=topic.title,
                name=node,
                decision=record.resolution.decision,
            )
            if payload.get("rate"):
                text = Html(text + "\n\n" + t(locale, "escalation.resolved_rate"))
                return text, self._escalation_renderer.rating_buttons(locale, topic.id)
            return text, None
        if message.kind == "matter.progress":
            return t(
                locale,
                "escalation.progress",
                id=topic.id,
                title=topic.title,
                text=str(payload.get("text", "")),
            ), None
        return t(locale, "escalation.done", id=topic.id, title=topic.title), None

    async def _outcome(self, locale: str, topic: Topic) -> Html:
        """The outcome, and where the topic went if the close sent it up (the close tells
        that here rather than in a second message to the group)."""
        text = self._renderer.outcome(locale, topic)
        matter = await self._services.escalation.matter(topic.id)
        if matter is None or not matter.hops or matter.hops[0].from_node_id != topic.node_id:
            return text
        above = await self._services.orgs.node(matter.hops[0].to_node_id)
        if above is None:
            return text
        sent_up = self._t(
            locale,
            "escalation.sent_up_line",
            level=self._t(locale, f"levels.{above.level}"),
            name=above.name,
        )
        return Html(f"{text}\n{sent_up}")

    async def _render_text(self, locale: str, message: OutboxMessage) -> Html | None:
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
            if message.kind == "topic.closed":
                return await self._outcome(locale, topic)
            if message.kind == "topic.cancelled":
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
        if message.kind == CHILD_LOST_BOT:
            node = await self._services.orgs.node(int(payload["node_id"]))
            if node is None:
                return None
            return self._t(
                locale,
                "orgs.child_lost_bot",
                level=self._t(locale, f"levels.{node.level}"),
                name=node.name,
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
