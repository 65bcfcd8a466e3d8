"""Due work: rows with ``due_at``; claiming one and doing its effect share a transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import DueTimer
from storage.tables import timers
from storage.upsert import upsert


def _timer(row: Any) -> DueTimer:
    return DueTimer(
        id=row.id,
        kind=row.kind,
        ref=row.ref,
        due_at=row.due_at,
        payload=dict(row.payload),
        attempts=row.attempts,
    )


class TimerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def schedule(
        self, kind: str, ref: str, due_at: datetime, payload: dict[str, Any] | None = None
    ) -> None:
        """Create or move the (kind, ref) timer to ``due_at``, pending again."""
        await upsert(
            self._db,
            timers,
            {
                "kind": kind,
                "ref": ref,
                "due_at": due_at,
                "done_at": None,
                "payload": payload or {},
                "attempts": 0,
                "last_error": None,
            },
            conflict=["kind", "ref"],
            update=["due_at", "done_at", "payload", "attempts", "last_error"],
        )

    async def cancel(self, kind: str, ref: str, now: datetime) -> None:
        await self._db.execute(
            update(timers)
            .where(timers.c.kind == kind, timers.c.ref == ref, timers.c.done_at.is_(None))
            .values(done_at=now, last_error="cancelled")
        )

    async def due(self, now: datetime, limit: int = 50) -> list[DueTimer]:
        rows = await self._db.execute(
            select(timers)
            .where(timers.c.done_at.is_(None), timers.c.due_at <= now)
            .order_by(timers.c.due_at, timers.c.id)
            .limit(limit)
        )
        return [_timer(row) for row in rows]

    async def claim(self, timer_id: int, now: datetime) -> bool:
        """Mark done if still pending; False if another worker got there first."""
        result = await self._db.execute(
            update(timers)
            .where(timers.c.id == timer_id, timers.c.done_at.is_(None))
            .values(done_at=now)
        )
        return bool(result.rowcount)

    async def postpone(self, timer_id: int, due_at: datetime, error: str) -> None:
        await self._db.execute(
            update(timers)
            .where(timers.c.id == timer_id)
            .values(due_at=due_at, attempts=timers.c.attempts + 1, last_error=error[:2000])
        )

    async def next_due(self) -> datetime | None:
        # The first pending row in the (done_at, due_at) index's own order. PostgreSQL answers
        # MIN(due_at), or ORDER BY due_at alone, by reading every pending timer (it does not
        # treat "done_at IS NULL" as fixing the index's first column).
        result = await self._db.execute(
            select(timers.c.due_at)
            .where(timers.c.done_at.is_(None))
            .order_by(timers.c.done_at, timers.c.due_at)
            .limit(1)
        )
        value: datetime | None = result.scalar_one_or_none()
        return value

    async def get(self, kind: str, ref: str) -> DueTimer | None:
        row = (
            await self._db.execute(select(timers).where(timers.c.kind == kind, timers.c.ref == ref))
        ).first()
        return _timer(row) if row else None

    async def is_done(self, kind: str, ref: str) -> bool:
        timer = (
            await self._db.execute(
                select(timers.c.done_at).where(timers.c.kind == kind, timers.c.ref == ref)
            )
        ).first()
        return timer is not None and timer.done_at is not None
