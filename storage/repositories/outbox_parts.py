"""The parts of multi-part outbox messages: stored once, each marked sent on its own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import OutboxPart, PartKind
from storage.tables import outbox_parts


class OutboxPartRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def of(self, outbox_id: int) -> list[OutboxPart]:
        """The message's parts in order (none if it was never rendered)."""
        rows = await self._db.execute(
            select(outbox_parts)
            .where(outbox_parts.c.outbox_id == outbox_id)
            .order_by(outbox_parts.c.seq)
        )
        return [
            OutboxPart(
                seq=row.seq,
                kind=PartKind(row.kind),
                text=row.text,
                filename=row.filename,
                data=row.data,
                file_id=row.file_id,
                message_id=row.message_id,
                sent=row.sent_at is not None,
            )
            for row in rows
        ]

    async def add(self, outbox_id: int, parts: Sequence[OutboxPart]) -> None:
        if parts:
            await self._db.execute(
                outbox_parts.insert(),
                [
                    {
                        "outbox_id": outbox_id,
                        "seq": part.seq,
                        "kind": part.kind,
                        "text": part.text,
                        "filename": part.filename,
                        "data": part.data,
                        "file_id": part.file_id,
                    }
                    for part in parts
                ],
            )

    async def drop_files(self, outbox_id: int) -> None:
        """Once every part is sent, the files are not needed again (a chart is ~100 kB)."""
        await self._db.execute(
            update(outbox_parts)
            .where(outbox_parts.c.outbox_id == outbox_id, outbox_parts.c.data.is_not(None))
            .values(data=None)
        )

    async def sent(self, outbox_id: int, seq: int, *, telegram_id: int, now: datetime) -> None:
        await self._db.execute(
            update(outbox_parts)
            .where(outbox_parts.c.outbox_id == outbox_id, outbox_parts.c.seq == seq)
            .values(sent_at=now, message_id=telegram_id)
        )
