"""The escalation aggregate: hops up the tree, the resolution, progress and ratings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import (
    WAITING_STATES,
    Escalation,
    EscalationReason,
    EscalationState,
    ProgressUpdate,
    Rating,
    Resolution,
)
from storage.tables import escalations, progress_updates, ratings, resolutions
from storage.upsert import upsert

# Run for every escalation (a sweep of ties makes thousands): built once (storage/upsert.py).
_ADD = escalations.insert().returning(*escalations.c)
_ADD_MANY = escalations.insert().returning(*escalations.c, sort_by_parameter_order=True)
_OF_TOPIC = (
    select(escalations)
    .where(escalations.c.topic_id == bindparam("topic_id"))
    .order_by(escalations.c.id)
)


def _escalation(row: Any) -> Escalation:
    return Escalation(
        id=row.id,
        topic_id=row.topic_id,
        from_node_id=row.from_node_id,
        to_node_id=row.to_node_id,
        reason=EscalationReason(row.reason),
        note=row.note,
        escalated_by=row.escalated_by,
        created_at=row.created_at,
        sla_due_at=row.sla_due_at,
        state=EscalationState(row.state),
        accepted_by=row.accepted_by,
        closed_at=row.closed_at,
        card_chat_id=row.card_chat_id,
        card_message_id=row.card_message_id,
        card_hash=row.card_hash,
    )


def _resolution(row: Any) -> Resolution:
    return Resolution(
        topic_id=row.topic_id,
        node_id=row.node_id,
        decision=row.decision,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        done_at=row.done_at,
    )


class EscalationRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def add(self, **values: Any) -> Escalation:
        result = await self._db.execute(_ADD, {"state": EscalationState.OPEN, **values})
        return _escalation(result.one())

    async def get(self, escalation_id: int) -> Escalation | None:
        row = (
            await self._db.execute(select(escalations).where(escalations.c.id == escalation_id))
        ).first()
        return _escalation(row) if row else None

    async def of_topic(self, topic_id: int) -> list[Escalation]:
        rows = await self._db.execute(_OF_TOPIC, {"topic_id": topic_id})
        return [_escalation(row) for row in rows]

    async def current(self, topic_id: int) -> Escalation | None:
        """The latest hop of a matter."""
        hops = await self.of_topic(topic_id)
        return hops[-1] if hops else None

    async def current_of(self, topic_ids: Iterable[int]) -> dict[int, Escalation]:
        """The latest hop of each matter that has one."""
        latest = (
            select(func.max(escalations.c.id))
            .where(escalations.c.topic_id.in_(sorted(set(topic_ids))))
            .group_by(escalations.c.topic_id)
        )
        rows = await self._db.execute(select(escalations).where(escalations.c.id.in_(latest)))
        return {row.topic_id: _escalation(row) for row in rows}

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> list[Escalation]:
        """New open hops, in one statement; returned in the order given."""
        if not rows:
            return []
        result = await self._db.execute(
            _ADD_MANY, [{"state": EscalationState.OPEN, **row} for row in rows]
        )
        return [_escalation(row) for row in result]

    async def transition(
        self,
        escalation_id: int,
        *,
        from_states: tuple[EscalationState, ...],
        to_state: EscalationState,
        **values: Any,
    ) -> bool:
        """Move the hop to ``to_state`` if it is in one of ``from_states``: one winner only.

        The card then needs a render (``card_hash`` cleared): after a restart too, should the
        process stop before the edit (``ids_needing_cards``).
        """
        result = await self._db.execute(
            update(escalations)
            .where(escalations.c.id == escalation_id, escalations.c.state.in_(from_states))
            .values(state=to_state, card_hash=None, **values)
        )
        return bool(result.rowcount)

    async def set_vote(self, escalation_id: int, vote_topic_id: int) -> None:
        """The vote the receiving node opened on the matter (the board's 网格表决中)."""
        await self._db.execute(
            update(escalations)
            .where(escalations.c.id == escalation_id)
            .values(vote_topic_id=vote_topic_id, card_hash=None)
        )

    async def set_card(
        self, escalation_id: int, *, chat_id: int, message_id: int | None, card_hash: str | None
    ) -> None:
        values: dict[str, Any] = {"card_chat_id": chat_id, "card_hash": card_hash}
        if message_id is not None:
            values["card_message_id"] = message_id
        await self._db.execute(
            update(escalations).where(escalations.c.id == escalation_id).values(**values)
        )

    async def at_nodes(
        self, node_ids: list[int], *, states: tuple[EscalationState, ...] | None = None
    ) -> list[Escalation]:
        query = select(escalations).where(escalations.c.to_node_id.in_(node_ids))
        if states is not None:
            query = query.where(escalations.c.state.in_(states))
        rows = await self._db.execute(query.order_by(escalations.c.id))
        return [_escalation(row) for row in rows]

    async def ids_needing_cards(self) -> list[int]:
        rows = await self._db.execute(
            select(escalations.c.id).where(
                escalations.c.card_message_id.is_(None)
                | escalations.c.card_hash.is_(None)
                | escalations.c.state.in_(WAITING_STATES)
            )
        )
        return [int(row[0]) for row in rows]

    # Resolution, progress, ratings ---------------------------------------------------------

    async def resolve(self, **values: Any) -> bool:
        """Record the decision once; False if the matter was already resolved."""
        existing = await self.resolution(int(values["topic_id"]))
        if existing is not None:
            return False
        await self._db.execute(resolutions.insert().values(**values))
        return True

    async def resolution(self, topic_id: int) -> Resolution | None:
        row = (
            await self._db.execute(select(resolutions).where(resolutions.c.topic_id == topic_id))
        ).first()
        return _resolution(row) if row is not None else None

    async def resolutions(self, topic_ids: list[int]) -> dict[int, Resolution]:
        """The resolutions of these topics (those that have one), in one query."""
        if not topic_ids:
            return {}
        rows = await self._db.execute(
            select(resolutions).where(resolutions.c.topic_id.in_(sorted(set(topic_ids))))
        )
        return {row.topic_id: _resolution(row) for row in rows}

    async def mark_done(self, topic_id: int, now: datetime) -> bool:
        result = await self._db.execute(
            update(resolutions)
            .where(resolutions.c.topic_id == topic_id, resolutions.c.done_at.is_(None))
            .values(done_at=now)
        )
        return bool(result.rowcount)

    async def add_progress(self, *, topic_id: int, text: str, posted_by: int, now: datetime) -> int:
        result = await self._db.execute(
            progress_updates.insert()
            .values(topic_id=topic_id, text=text, posted_by=posted_by, posted_at=now)
            .returning(progress_updates.c.id)
        )
        return int(result.scalar_one())

    async def progress(self, topic_id: int) -> list[ProgressUpdate]:
        rows = await self._db.execute(
            select(progress_updates)
            .where(progress_updates.c.topic_id == topic_id)
            .order_by(progress_updates.c.id)
        )
        return [
            ProgressUpdate(
                id=row.id,
                topic_id=row.topic_id,
                text=row.text,
                posted_by=row.posted_by,
                posted_at=row.posted_at,
            )
            for row in rows
        ]

    async def rate(self, *, topic_id: int, user_id: int, rating: Rating, now: datetime) -> None:
        await upsert(
            self._db,
            ratings,
            {"topic_id": topic_id, "user_id": user_id, "rating": rating, "rated_at": now},
            conflict=["topic_id", "user_id"],
            update=["rating", "rated_at"],
        )

    async def rating_of(self, topic_id: int, user_id: int) -> str | None:
        result = await self._db.execute(
            select(ratings.c.rating).where(
                ratings.c.topic_id == topic_id, ratings.c.user_id == user_id
            )
        )
        value: str | None = result.scalar_one_or_none()
        return value

    async def rating_counts(self, topic_ids: list[int]) -> dict[str, int]:
        if not topic_ids:
            return {}
        rows = await self._db.execute(
            select(ratings.c.rating, func.count())
            .where(ratings.c.topic_id.in_(topic_ids))
            .group_by(ratings.c.rating)
        )
        return {rating: int(count) for rating, count in rows}
