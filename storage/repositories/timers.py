"""Due work: rows with ``due_at``; claiming one and doing its effect share a transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import DueTimer
from storage.tables import timers
from storage.upsert import upsert_many


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
        await self.schedule_many([(kind, ref, due_at)], payload=payload)

    async def schedule_many(
        self, entries: Sequence[tuple[str, str, datetime]], payload: dict[str, Any] | None = None
    ) -> None:
        """:meth:`schedule` for several ``(kind, ref, due_at)`` in one statement."""
        await upsert_many(
            self._db,
            timers,
            [
                {
                    "kind": kind,
                    "ref": ref,
                    "due_at": due_at,
                    "done_at": None,
                    "payload": payload or {},
                    "attempts": 0,
                    "last_error": None,
                }
                for kind, ref, due_at in entries
            ],
            conflict=["kind", "ref"],
            update=["due_at", "done_at", "payload", "attempts", "last_error"],
        )

    async def cancel(self, kind: str, ref: str, now: datetime) -> None:
        await self.cancel_many((kind,), (ref,), now)

    async def cancel_many(self, kinds: Iterable[str], refs: Iterable[str], now: datetime) -> None:
        """Cancel the pending timers of any of ``kinds`` for any of ``refs``.

        A timer that ``run_due`` has claimed but not committed yet is left alone (PostgreSQL:
        SKIP LOCKED): its handler takes the topic's lock next, which the caller holds, so
        waiting for it here would deadlock; once the caller commits, the handler finds the
        new state and does nothing."""
        refs = sorted(set(refs))
        for kind in sorted(set(kinds)):  # one kind each: "kind = ? AND ref IN" walks the index
            pending = (
                select(timers.c.id)
                .where(timers.c.kind == kind, timers.c.ref.in_(refs), timers.c.done_at.is_(None))
                .with_for_update(skip_locked=True)
            )
            await self._db.execute(
                update(timers)
                .where(timers.c.id.in_(pending.scalar_subquery()))
                .values(done_at=now, last_error="cancelled")
            )

    async def lock(self, kind: str, ref: str) -> None:
        """Wait for a ``run_due`` that claimed this timer to commit, and keep others off it
        until this transaction ends (PostgreSQL: FOR UPDATE; SQLite needs no row lock). Take
        it before the rows its handler locks, in the order ``run_due`` does."""
        await self._db.execute(
            select(timers.c.id).where(timers.c.kind == kind, timers.c.ref == ref).with_for_update()
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
        """Mark done if still pending and due; False if another worker got there first, or
        the timer was moved meanwhile (``/extend``)."""
        result = await self._db.execute(
            update(timers)
            .where(timers.c.id == timer_id, timers.c.done_at.is_(None), timers.c.due_at <= now)
            .values(done_at=now)
        )
        return bool(result.rowcount)

    async def claim_many(self, timer_ids: Iterable[int], now: datetime) -> set[int]:
        """Mark done those still pending and due; returns their ids (the others were taken,
        or moved since ``due`` read them: an officer extended the topic meanwhile)."""
        result = await self._db.execute(
            update(timers)
            .where(
                timers.c.id.in_(sorted(set(timer_ids))),
                timers.c.done_at.is_(None),
                timers.c.due_at <= now,
            )
            .values(done_at=now)
            .returning(timers.c.id)
        )
        return {int(row[0]) for row in result}

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
