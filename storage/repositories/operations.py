"""What an operator watches, read in a few cheap aggregate queries (indexed columns).

The health endpoint, ``/metrics`` and ``yishi status`` read these at the moment they are
asked, never on the vote path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, false, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import WAITING_STATES
from storage.tables import escalations, inbox, nodes, outbox, timers


@dataclass(frozen=True, slots=True)
class EscalationCounts:
    level: str  # the level the matter waits at: grid, community
    open: int
    overdue: int  # past its SLA


@dataclass(frozen=True, slots=True)
class OperationalFacts:
    outbox_backlog: int  # announcements not yet delivered (and not given up)
    outbox_oldest: datetime | None  # when the oldest of them was written
    due_pending: int  # due work whose time has come and that has not run
    due_oldest: datetime | None  # the due time of the oldest of those
    escalations: tuple[EscalationCounts, ...]
    last_update_handled: datetime | None


class OperationsRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def facts(self, now: datetime) -> OperationalFacts:
        backlog = (
            await self._db.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(
                    outbox.c.sent_at.is_(None), outbox.c.failed == false()
                )
            )
        ).one()
        due = (
            await self._db.execute(
                select(func.count(), func.min(timers.c.due_at)).where(
                    timers.c.done_at.is_(None), timers.c.due_at <= now
                )
            )
        ).one()
        overdue = case(
            (and_(escalations.c.sla_due_at.is_not(None), escalations.c.sla_due_at < now), 1),
            else_=0,
        )
        waiting = await self._db.execute(
            select(nodes.c.level, func.count(), func.sum(overdue))
            .select_from(escalations.join(nodes, nodes.c.id == escalations.c.to_node_id))
            .where(escalations.c.state.in_(WAITING_STATES))
            .group_by(nodes.c.level)
            .order_by(nodes.c.level)
        )
        handled = await self._db.execute(select(func.max(inbox.c.handled_at)))
        return OperationalFacts(
            outbox_backlog=int(backlog[0]),
            outbox_oldest=backlog[1],
            due_pending=int(due[0]),
            due_oldest=due[1],
            escalations=tuple(
                EscalationCounts(str(level), int(count), int(late or 0))
                for level, count, late in waiting
            ),
            last_update_handled=handled.scalar_one_or_none(),
        )
