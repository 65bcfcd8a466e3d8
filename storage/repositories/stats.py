"""Read-only figures for ``/stats`` and ``/audit``: aggregate queries over several aggregates.

Every figure is computed in SQL on both stores (SQLite and PostgreSQL); JSON fields of a
topic's ``outcome`` are read with SQLAlchemy's portable JSON index operators. The one thing
SQL cannot do portably, a median, is left to the caller (it gets the durations).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import WAITING_STATES, AuditEntry, Level, RoleName, TopicStatus
from storage.tables import (
    audit_log,
    chat_bindings,
    escalations,
    nodes,
    ratings,
    resolutions,
    role_grants,
    topics,
)


@dataclass(frozen=True, slots=True)
class TurnoutSum:
    """Ballots cast and eligible voters, summed over closed voting topics."""

    topics: int
    cast: int
    eligible: int


def _utc(value: Any) -> datetime:
    """Aggregates such as min() may bypass the column type on SQLite: make the time UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _in_window(column: Any, since: datetime, until: datetime) -> ColumnElement[bool]:
    """``since`` to ``until``, both included (``until`` is usually now)."""
    return and_(column >= since, column <= until)


class StatsRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    # /stats -------------------------------------------------------------------------------

    async def topics_published(self, node_ids: list[int], since: datetime, until: datetime) -> int:
        result = await self._db.execute(
            select(func.count())
            .select_from(topics)
            .where(topics.c.node_id.in_(node_ids), _in_window(topics.c.created_at, since, until))
        )
        return int(result.scalar_one())

    async def topics_open(self, node_ids: list[int]) -> int:
        result = await self._db.execute(
            select(func.count())
            .select_from(topics)
            .where(topics.c.node_id.in_(node_ids), topics.c.status == TopicStatus.OPEN)
        )
        return int(result.scalar_one())

    async def outcomes(
        self, node_ids: list[int], since: datetime, until: datetime
    ) -> dict[tuple[str, str | None], int]:
        """Topics closed (or cancelled) in the window, by (verdict, reason); ``cancelled``."""
        verdict = topics.c.outcome["verdict"].as_string()
        reason = topics.c.outcome["reason"].as_string()
        rows = await self._db.execute(
            select(topics.c.status, verdict, reason, func.count())
            .where(
                topics.c.node_id.in_(node_ids),
                topics.c.status.in_((TopicStatus.CLOSED, TopicStatus.CANCELLED)),
                _in_window(topics.c.closed_at, since, until),
            )
            .group_by(topics.c.status, verdict, reason)
        )
        found: dict[tuple[str, str | None], int] = {}
        for status, verdict_value, reason_value, number in rows:
            key = (
                ("cancelled", None)
                if status == TopicStatus.CANCELLED
                else (str(verdict_value), reason_value)
            )
            found[key] = found.get(key, 0) + int(number)
        return found

    async def turnout(self, node_ids: list[int], since: datetime, until: datetime) -> TurnoutSum:
        """Cast over eligible, summed over the voting topics closed in the window."""
        by_node = await self.turnout_by_node(node_ids, since, until)
        return TurnoutSum(
            topics=sum(part.topics for part in by_node.values()),
            cast=sum(part.cast for part in by_node.values()),
            eligible=sum(part.eligible for part in by_node.values()),
        )

    async def turnout_by_node(
        self, node_ids: list[int], since: datetime, until: datetime
    ) -> dict[int, TurnoutSum]:
        """``turnout`` for each of these nodes that had a voting topic closed in the window
        (the staff page's turnout by grid and building adds these up; /stats their sum)."""
        cast_ = topics.c.outcome["cast"].as_integer()
        eligible = topics.c.outcome["eligible"].as_integer()
        rows = await self._db.execute(
            select(topics.c.node_id, func.count(), func.sum(cast_), func.sum(eligible))
            .where(
                topics.c.node_id.in_(node_ids),
                topics.c.status == TopicStatus.CLOSED,
                topics.c.rule != "opinion",
                _in_window(topics.c.closed_at, since, until),
                eligible.is_not(None),
            )
            .group_by(topics.c.node_id)
        )
        return {
            int(node_id): TurnoutSum(topics=int(n), cast=int(c or 0), eligible=int(e or 0))
            for node_id, n, c, e in rows
        }

    async def categories(
        self, node_ids: list[int], since: datetime, until: datetime
    ) -> dict[str, int]:
        """Topics published in the window by category (``""``: none given)."""
        rows = await self._db.execute(
            select(topics.c.category, func.count())
            .where(topics.c.node_id.in_(node_ids), _in_window(topics.c.created_at, since, until))
            .group_by(topics.c.category)
        )
        return {str(category or ""): int(number) for category, number in rows}

    async def ratings(
        self, node_ids: list[int], since: datetime, until: datetime
    ) -> dict[str, int]:
        """Residents' ratings (满意 / 基本满意 / 不满意) given in the window on matters raised
        at these nodes."""
        rows = await self._db.execute(
            select(ratings.c.rating, func.count())
            .select_from(ratings.join(topics, topics.c.id == ratings.c.topic_id))
            .where(topics.c.node_id.in_(node_ids), _in_window(ratings.c.rated_at, since, until))
            .group_by(ratings.c.rating)
        )
        return {str(rating): int(number) for rating, number in rows}

    async def escalations_by_reason(
        self, node_ids: list[int], since: datetime, until: datetime
    ) -> dict[str, int]:
        """Hops sent up from these nodes in the window, by reason."""
        rows = await self._db.execute(
            select(escalations.c.reason, func.count())
            .where(
                escalations.c.from_node_id.in_(node_ids),
                _in_window(escalations.c.created_at, since, until),
            )
            .group_by(escalations.c.reason)
        )
        return {str(reason): int(number) for reason, number in rows}

    async def escalations_waiting(self, node_ids: list[int]) -> int:
        """Hops now waiting at one of these nodes (open or accepted, not yet handled)."""
        result = await self._db.execute(
            select(func.count())
            .select_from(escalations)
            .where(
                escalations.c.to_node_id.in_(node_ids),
                escalations.c.state.in_(WAITING_STATES),
            )
        )
        return int(result.scalar_one())

    async def resolution_times(
        self, node_ids: list[int], since: datetime, until: datetime
    ) -> list[timedelta]:
        """For matters raised at these nodes and resolved in the window: from the first hop's
        creation to the resolution."""
        first = (
            select(
                escalations.c.topic_id.label("topic_id"),
                func.min(escalations.c.created_at).label("first_at"),
            )
            .group_by(escalations.c.topic_id)
            .subquery()
        )
        rows = await self._db.execute(
            select(first.c.first_at, resolutions.c.resolved_at)
            .select_from(
                resolutions.join(first, first.c.topic_id == resolutions.c.topic_id).join(
                    topics, topics.c.id == resolutions.c.topic_id
                )
            )
            .where(
                topics.c.node_id.in_(node_ids),
                _in_window(resolutions.c.resolved_at, since, until),
            )
        )
        return [_utc(resolved) - _utc(first_at) for first_at, resolved in rows]

    # /audit -------------------------------------------------------------------------------

    async def audit(
        self,
        *,
        node_ids: list[int],
        chat_ids: list[int],
        user_id: int | None = None,
        limit: int = 50,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
    ) -> list[AuditEntry]:
        """The latest rows about these nodes (or, for rows without a node, these chats),
        newest first; with ``user_id``, only rows by that user or about them; with ``action``,
        only that action (or, ending in ``.``, those starting so); ``since``/``until`` bound
        the time; ``before_id`` pages on (rows older than that one)."""
        where: list[ColumnElement[bool]] = []
        place: ColumnElement[bool] = audit_log.c.node_id.in_(node_ids)
        if chat_ids:
            place = or_(
                place, and_(audit_log.c.node_id.is_(None), audit_log.c.chat_id.in_(chat_ids))
            )
        where.append(place)
        if user_id is not None:
            # Compared as text: a JSON number is an integer on SQLite and text on PostgreSQL.
            subject = cast(audit_log.c.details["user_id"].as_string(), String)
            where.append(or_(audit_log.c.actor_id == user_id, subject == str(user_id)))
        if action is not None:
            where.append(
                audit_log.c.action.startswith(action, autoescape=True)
                if action.endswith(".")
                else audit_log.c.action == action
            )
        if since is not None:
            where.append(audit_log.c.at >= since)
        if until is not None:
            where.append(audit_log.c.at <= until)
        if before_id is not None:
            where.append(audit_log.c.id < before_id)
        rows = await self._db.execute(
            select(audit_log).where(*where).order_by(audit_log.c.id.desc()).limit(limit)
        )
        return [
            AuditEntry(
                id=row.id,
                at=row.at,
                actor_id=row.actor_id,
                action=row.action,
                node_id=row.node_id,
                chat_id=row.chat_id,
                details=dict(row.details or {}),
            )
            for row in rows
        ]

    async def secret_topics(self, topic_ids: list[int]) -> set[int]:
        if not topic_ids:
            return set()
        rows = await self._db.execute(
            select(topics.c.id).where(topics.c.id.in_(topic_ids), topics.c.secret.is_(True))
        )
        return {int(row[0]) for row in rows}

    async def bound_chats(self, node_ids: list[int]) -> dict[int, int]:
        """The chats bound to these nodes: chat id -> node id."""
        if not node_ids:
            return {}
        rows = await self._db.execute(
            select(chat_bindings.c.chat_id, chat_bindings.c.node_id).where(
                chat_bindings.c.node_id.in_(node_ids)
            )
        )
        return {int(chat_id): int(node_id) for chat_id, node_id in rows}

    async def nodes_at_level(self, level: Level) -> list[int]:
        rows = await self._db.execute(
            select(nodes.c.id).where(nodes.c.level == level).order_by(nodes.c.id)
        )
        return [int(row[0]) for row in rows]

    async def nodes_with_role(self, user_id: int, role: RoleName) -> list[int]:
        """The nodes where the user holds exactly this role."""
        rows = await self._db.execute(
            select(role_grants.c.node_id)
            .where(role_grants.c.user_id == user_id, role_grants.c.role == role)
            .order_by(role_grants.c.node_id)
        )
        return [int(row[0]) for row in rows]
