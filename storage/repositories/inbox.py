"""The durable inbox: each update as it was fetched, until its handlers have run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import InboxUpdate
from storage.tables import inbox
from storage.upsert import insert_ignore_returning

# One statement for any number of ids (an expanding IN), built once.
_MARK_HANDLED = (
    update(inbox)
    .where(
        inbox.c.update_id.in_(bindparam("ids", expanding=True)),
        inbox.c.handled_at.is_(None),
    )
    .values(handled_at=bindparam("now"), payload=None)
)


class InboxRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def receive(self, update_id: int, payload: str, now: datetime) -> bool:
        """Store a fetched update; False if it was received before (a redelivery)."""
        return update_id in await self.receive_many([(update_id, payload)], now)

    async def receive_many(self, updates: Sequence[tuple[int, str]], now: datetime) -> set[int]:
        """Store fetched updates (id, JSON) in one statement; the ids not received before."""
        return await insert_ignore_returning(
            self._db,
            inbox,
            [
                {"update_id": update_id, "payload": payload, "received_at": now}
                for update_id, payload in updates
            ],
            conflict=["update_id"],
            returning="update_id",
        )

    async def unhandled(self) -> list[InboxUpdate]:
        """Updates received but not handled, oldest first."""
        result = await self._db.execute(
            select(inbox.c.update_id, inbox.c.payload)
            .where(inbox.c.handled_at.is_(None))
            .order_by(inbox.c.update_id)
        )
        return [InboxUpdate(row.update_id, row.payload) for row in result if row.payload]

    async def handled(self, update_id: int, now: datetime) -> None:
        """Mark the update handled and forget what it said; its id stays."""
        await self.handled_many([update_id], now)

    async def handled_many(self, update_ids: Sequence[int], now: datetime) -> None:
        """:meth:`handled` for several updates, in one statement."""
        await self._db.execute(_MARK_HANDLED, {"ids": list(update_ids), "now": now})

    async def prune(self, handled_before: datetime) -> int:
        """Forget updates handled before then (Telegram redelivers for 24 hours at most)."""
        result = await self._db.execute(delete(inbox).where(inbox.c.handled_at < handled_before))
        return int(result.rowcount)
