"""Opinions (意见): public replies to a ballot message, and private ones for officers only."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.events import TopicChanged
from bot.services.topics.eligibility import MembershipProbe
from bot.services.unit_of_work import UnitOfWork
from storage.records import Topic

MAX_OPINION_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class Recorded:
    topic: Topic
    public: bool


def _clean(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise Refusal("opinions.empty")
    if len(cleaned) > MAX_OPINION_LENGTH:
        raise Refusal("opinions.too_long", limit=MAX_OPINION_LENGTH, length=len(cleaned))
    return cleaned


class OpinionService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def reply(
        self, actor: Actor, chat_id: int, replied_message_id: int, message_id: int, text: str
    ) -> Recorded | None:
        """A reply to a ballot message is a public opinion; None if it replies to anything else."""
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            post = await repos.topics.post_at_message(chat_id, replied_message_id)
            if post is None:
                return None
            # Locked (shared): a close counts this opinion, or it finds the topic closed.
            topic = await repos.topics.get_locked(post.topic_id, shared=True)
            assert topic is not None
            if not topic.is_open:
                raise Refusal("opinions.closed", id=topic.id)
            await repos.topics.add_opinion(
                topic_id=topic.id,
                user_id=actor.user_id,
                public=True,
                text=_clean(text),
                chat_id=chat_id,
                message_id=message_id,
                created_at=now,
                updated_at=now,
            )
            repos.record(TopicChanged(topic.id))
        return Recorded(topic=topic, public=True)

    async def edited(self, chat_id: int, message_id: int, text: str) -> bool:
        """An edited reply updates its opinion (True if the message was one)."""
        async with self._uow.transaction() as repos:
            return await repos.topics.update_opinion_at(
                chat_id, message_id, _clean(text), self._clock.now()
            )

    async def record(
        self,
        actor: Actor,
        place: Place,
        topic_id: int,
        text: str,
        probe: MembershipProbe,
        *,
        message_id: int | None = None,
    ) -> Recorded:
        """``/opinion <id> <内容>``: private when sent to the bot, public in a group."""
        now = self._clock.now()
        body = _clean(text)
        async with self._uow.transaction() as repos:
            topic = await repos.topics.get(topic_id)
            if topic is None:
                raise Refusal("topics.unknown", id=topic_id)
            if not topic.is_open:
                raise Refusal("opinions.closed", id=topic.id)
            public = place.is_group
            if public and await repos.topics.post_in(topic.id, place.chat_id) is None:
                raise Refusal("topics.unknown", id=topic_id)
            chats = [post.chat_id for post in await repos.topics.posts(topic.id)]
        if not public and not await self._may_speak(actor, chats, probe):
            raise Refusal("opinions.not_member", id=topic_id)
        async with self._uow.transaction() as repos:
            # Telegram was asked meanwhile: the topic may have closed since.
            still = await repos.topics.get_locked(topic.id, shared=True)
            if still is None or not still.is_open:
                raise Refusal("opinions.closed", id=topic.id)
            await repos.topics.add_opinion(
                topic_id=topic.id,
                user_id=actor.user_id,
                public=public,
                text=body,
                chat_id=place.chat_id if public else None,
                message_id=message_id if public else None,
                created_at=now,
                updated_at=now,
            )
            repos.record(TopicChanged(topic.id))
        return Recorded(topic=topic, public=public)

    async def topic_for_private_opinion(self, topic_id: int) -> Topic:
        async with self._uow.transaction() as repos:
            topic = await repos.topics.get(topic_id)
        if topic is None:
            raise Refusal("topics.unknown", id=topic_id)
        if not topic.is_open:
            raise Refusal("opinions.closed", id=topic.id)
        return topic

    async def _may_speak(self, actor: Actor, chats: list[int], probe: MembershipProbe) -> bool:
        """Private opinions come from members of a chat the topic was posted in."""
        for chat_id in chats:
            async with self._uow.transaction() as repos:
                member = await repos.chats.membership(chat_id, actor.user_id)
            if member is None:
                member = await probe.is_member(chat_id, actor.user_id)
                async with self._uow.transaction() as repos:
                    await repos.chats.set_membership(
                        chat_id, actor.user_id, member, self._clock.now()
                    )
            if member:
                return True
        return actor.is_superadmin
