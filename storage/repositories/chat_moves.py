"""A group that became a supergroup: every row that addresses it follows it to its new id.

Telegram gives the supergroup a new chat id and keeps the old group's messages out of reach
(a send or an edit there is answered "group chat was upgraded"). So what is still live moves
with a fresh start: the ballot messages of open topics, the active escalation cards, the
pending-registrations card and the messages of meetings still to come are posted again in the
new chat (their message ids are cleared), and queued announcements lose their ``reply_to``
(a message id of the old chat). The record of what happened there (opinions, audit rows,
closed topics' posts) stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.schema import Table

from storage.records import WAITING_STATES, OccurrenceStatus, ProposalStatus, TopicStatus
from storage.tables import (
    chat_members,
    digests_sent,
    escalations,
    meeting_occurrences,
    meeting_posts,
    meeting_rsvps,
    meetings,
    outbox,
    proposals,
    registration_cards,
    subscriptions,
    topic_posts,
    topics,
)


@dataclass
class MovedChat:
    """What moved: the living messages to post again in the new chat, and queued mail."""

    topic_ids: list[int] = field(default_factory=list)
    escalation_ids: list[int] = field(default_factory=list)
    occurrence_ids: list[int] = field(default_factory=list)
    registration_nodes: list[int] = field(default_factory=list)
    queued: bool = False


class ChatMoveRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def move(self, old_chat_id: int, new_chat_id: int) -> MovedChat:
        """Move every live row of ``old_chat_id`` to ``new_chat_id`` (chats and bindings:
        ``ChatRepository.move`` and ``OrgRepository.move_binding``). Idempotent."""
        moved = MovedChat()
        open_topics = select(topics.c.id).where(topics.c.status == TopicStatus.OPEN)
        moved.topic_ids = await self._move_keyed(
            topic_posts,
            "topic_id",
            old_chat_id,
            new_chat_id,
            topic_posts.c.topic_id.in_(open_topics),
            {"message_id": None, "rendered_hash": None},
        )
        coming = select(meeting_occurrences.c.id).where(
            meeting_occurrences.c.status == OccurrenceStatus.SCHEDULED
        )
        moved.occurrence_ids = sorted(
            set(
                await self._move_keyed(
                    meeting_posts,
                    "occurrence_id",
                    old_chat_id,
                    new_chat_id,
                    meeting_posts.c.occurrence_id.in_(coming),
                    {"message_id": None, "rendered_hash": None},
                    also=("slot",),
                )
            )
        )
        await self._move_keyed(chat_members, "user_id", old_chat_id, new_chat_id)
        await self._move_keyed(digests_sent, "period", old_chat_id, new_chat_id)
        # One subscription per chat: the new chat's own, if it has one, wins.
        await self._move_keyed(subscriptions, "chat_id", old_chat_id, new_chat_id, renamed=True)
        cards = await self._db.execute(
            update(escalations)
            .where(
                escalations.c.card_chat_id == old_chat_id,
                escalations.c.state.in_(WAITING_STATES),
            )
            .values(card_chat_id=new_chat_id, card_message_id=None, card_hash=None)
            .returning(escalations.c.id)
        )
        moved.escalation_ids = sorted(cards.scalars())
        pending = await self._db.execute(
            update(registration_cards)
            .where(registration_cards.c.chat_id == old_chat_id)
            .values(chat_id=new_chat_id, message_id=None, rendered_hash=None, pending_shown=0)
            .returning(registration_cards.c.node_id)
        )
        moved.registration_nodes = sorted(pending.scalars())
        mail = await self._db.execute(
            update(outbox)
            .where(
                outbox.c.chat_id == old_chat_id,
                outbox.c.sent_at.is_(None),
                outbox.c.failed.is_(False),
            )
            .values(chat_id=new_chat_id, reply_to=None)
        )
        moved.queued = bool(mail.rowcount)
        for table in (meetings, meeting_rsvps):
            await self._db.execute(
                update(table).where(table.c.chat_id == old_chat_id).values(chat_id=new_chat_id)
            )
        await self._db.execute(
            update(proposals)
            .where(proposals.c.chat_id == old_chat_id, proposals.c.status == ProposalStatus.OPEN)
            .values(chat_id=new_chat_id)
        )
        return moved

    async def _move_keyed(
        self,
        table: Table,
        key: str,
        old_chat_id: int,
        new_chat_id: int,
        only: ColumnElement[bool] | None = None,
        values: dict[str, object] | None = None,
        *,
        also: tuple[str, ...] = (),
        renamed: bool = False,
    ) -> list[int]:
        """Move the rows of a table keyed by (chat, ``key``, ``also``...); a row the new chat
        has already (written since the upgrade) wins over the old one. Returns the moved
        rows' ``key`` values. ``renamed``: the chat alone is the key."""
        columns = () if renamed else (key, *also)
        new = table.alias("new")
        taken = exists().where(
            new.c.chat_id == new_chat_id, *(new.c[name] == table.c[name] for name in columns)
        )
        mine = [table.c.chat_id == old_chat_id] + ([only] if only is not None else [])
        await self._db.execute(delete(table).where(and_(*mine), taken))
        result = await self._db.execute(
            update(table)
            .where(*mine)
            .values(chat_id=new_chat_id, **(values or {}))
            .returning(table.c[key])
        )
        return sorted(result.scalars())
