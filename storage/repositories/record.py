"""The record (居务公开) as the staff pages search it: topics and meetings of a set of nodes by
text, node, category, state and date, a page at a time, newest first.

A city holds some 100k topics: every search is bounded by the node ids of the reader's scope
(``ix_topics_node_status``, ``ix_meetings_node_status``) and reads one page (``LIMIT``/
``OFFSET``) and one count; the text is matched with ``LIKE`` (its wildcards escaped)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import meetings, role_grants, topics


@dataclass(frozen=True, slots=True)
class TopicFound:
    id: int
    node_id: int
    title: str
    category: str | None
    status: str
    rule: str
    created_at: datetime
    closed_at: datetime | None
    outcome: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class MeetingFound:
    id: int
    node_id: int
    title: str
    status: str
    place: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """What a search asks; ``None``: any."""

    node_ids: tuple[int, ...]
    text: str | None = None
    category: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    oldest_first: bool = False


def _like(column: Any, text: str) -> ColumnElement[bool]:
    return column.contains(text, autoescape=True)  # type: ignore[no-any-return]


class RecordRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def topics(
        self, query: RecordQuery, *, limit: int, offset: int = 0
    ) -> tuple[list[TopicFound], int]:
        """One page of the topics found, newest (or oldest) first, and how many in all."""
        if not query.node_ids:
            return [], 0
        where: list[ColumnElement[bool]] = [topics.c.node_id.in_(query.node_ids)]
        if query.text:
            where.append(
                or_(_like(topics.c.title, query.text), _like(topics.c.description, query.text))
            )
        if query.category is not None:
            where.append(topics.c.category == query.category)
        if query.status is not None:
            where.append(topics.c.status == query.status)
        if query.since is not None:
            where.append(topics.c.created_at >= query.since)
        if query.until is not None:
            where.append(topics.c.created_at <= query.until)
        total = (
            await self._db.execute(select(func.count()).select_from(topics).where(*where))
        ).scalar_one()
        rows = await self._db.execute(
            select(
                topics.c.id,
                topics.c.node_id,
                topics.c.title,
                topics.c.category,
                topics.c.status,
                topics.c.rule,
                topics.c.created_at,
                topics.c.closed_at,
                topics.c.outcome,
            )
            .where(*where)
            .order_by(topics.c.id.asc() if query.oldest_first else topics.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        found = [
            TopicFound(
                id=int(row.id),
                node_id=int(row.node_id),
                title=row.title,
                category=row.category,
                status=row.status,
                rule=row.rule,
                created_at=row.created_at,
                closed_at=row.closed_at,
                outcome=dict(row.outcome) if row.outcome else None,
            )
            for row in rows
        ]
        return found, int(total)

    async def meetings(
        self, query: RecordQuery, *, limit: int, offset: int = 0
    ) -> tuple[list[MeetingFound], int]:
        """Meetings (议事会) found the same way: text in the title or note, node, date."""
        if not query.node_ids:
            return [], 0
        where: list[ColumnElement[bool]] = [meetings.c.node_id.in_(query.node_ids)]
        if query.text:
            where.append(
                or_(_like(meetings.c.title, query.text), _like(meetings.c.note, query.text))
            )
        if query.since is not None:
            where.append(meetings.c.created_at >= query.since)
        if query.until is not None:
            where.append(meetings.c.created_at <= query.until)
        total = (
            await self._db.execute(select(func.count()).select_from(meetings).where(*where))
        ).scalar_one()
        rows = await self._db.execute(
            select(
                meetings.c.id,
                meetings.c.node_id,
                meetings.c.title,
                meetings.c.status,
                meetings.c.place,
                meetings.c.created_at,
            )
            .where(*where)
            .order_by(meetings.c.id.asc() if query.oldest_first else meetings.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        found = [
            MeetingFound(
                id=int(row.id),
                node_id=int(row.node_id),
                title=row.title,
                status=row.status,
                place=row.place,
                created_at=row.created_at,
            )
            for row in rows
        ]
        return found, int(total)

    async def nodes_with_roles(self, user_id: int) -> list[int]:
        """Every node where the user holds a role (whatever it is)."""
        rows = await self._db.execute(
            select(role_grants.c.node_id)
            .where(role_grants.c.user_id == user_id)
            .order_by(role_grants.c.node_id)
        )
        return [int(row[0]) for row in rows]
