"""The durable inbox: each update as it was fetched, until its handlers have run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import InboxUpdate
from storage.tables import inbox
from storage.upsert import insert_ignore


class InboxRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def receive(self, update_id: int, payload: str, now: datetime) -> bool:
        """Store a fetched update; False if it was received before (a redelivery)."""
        return await insert_ignore(
            self._db,
            inbox,
            {"update_id": update_id, "payload": payload, "received_at": now},
            conflict=["update_id"],
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
        await self._db.execute(
            update(inbox)
            .where(inbox.c.update_id == update_id, inbox.c.handled_at.is_(None))
            .values(handled_at=now, payload=None)
        )

    async def prune(self, handled_before: datetime) -> int:
        """Forget updates handled before then (Telegram redelivers for 24 hours at most)."""
        result = await self._db.execute(delete(inbox).where(inbox.c.handled_at < handled_before))
        return int(result.rowcount)
