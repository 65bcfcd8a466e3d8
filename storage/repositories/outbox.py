"""Messages that must be delivered, written with the change they announce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import OutboxMessage
from storage.tables import outbox

# Marked for every message delivered: built once (storage/upsert.py says why).
_SENT = (
    update(outbox)
    .where(outbox.c.id == bindparam("b_id"))
    .values(sent_at=bindparam("b_at"), message_id=bindparam("b_telegram"))
)


class Storable(Protocol):
    """An announcement as the outbox stores it: its type's stable name and its fields
    (JSON values). The domain's announcements (bot/services/announcements.py) are these."""

    @property
    def kind(self) -> str: ...

    def fields(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Queued:
    """One message of ``add_many``: the announcement, its chat, what it replies to and the
    forum thread it goes in."""

    chat_id: int
    announcement: Storable
    reply_to: int | None = None
    thread_id: int | None = None


class OutboxRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def add(
        self,
        *,
        chat_id: int,
        announcement: Storable,
        now: datetime,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> int:
        result = await self._db.execute(
            outbox.insert()
            .values(
                chat_id=chat_id,
                kind=announcement.kind,
                payload=announcement.fields(),
                reply_to=reply_to,
                message_thread_id=thread_id,
                created_at=now,
                next_attempt_at=now,
            )
            .returning(outbox.c.id)
        )
        return int(result.scalar_one())

    async def add_many(self, messages: list[Queued], *, now: datetime) -> None:
        """Several messages in one statement."""
        if messages:
            await self._db.execute(
                outbox.insert(),
                [
                    {
                        "chat_id": message.chat_id,
                        "kind": message.announcement.kind,
                        "payload": message.announcement.fields(),
                        "reply_to": message.reply_to,
                        "message_thread_id": message.thread_id,
                        "created_at": now,
                        "next_attempt_at": now,
                    }
                    for message in messages
                ],
            )

    async def pending(self, now: datetime, limit: int = 50) -> list[OutboxMessage]:
        rows = await self._db.execute(
            select(outbox)
            .where(
                outbox.c.sent_at.is_(None),
                outbox.c.failed.is_(False),
                outbox.c.next_attempt_at <= now,
            )
            .order_by(outbox.c.id)
            .limit(limit)
        )
        return [
            OutboxMessage(
                id=row.id,
                chat_id=row.chat_id,
                kind=row.kind,
                payload=dict(row.payload),
                reply_to=row.reply_to,
                attempts=row.attempts,
                thread_id=row.message_thread_id,
            )
            for row in rows
        ]

    async def sent(self, message_id: int, *, telegram_id: int, now: datetime) -> None:
        await self._db.execute(_SENT, {"b_id": message_id, "b_at": now, "b_telegram": telegram_id})

    async def retry_later(self, message_id: int, *, at: datetime, error: str) -> None:
        await self._db.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(next_attempt_at=at, attempts=outbox.c.attempts + 1, last_error=error[:2000])
        )

    async def give_up(self, message_id: int, *, error: str) -> None:
        await self._db.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(failed=True, attempts=outbox.c.attempts + 1, last_error=error[:2000])
        )

    async def telegram_id(self, message_id: int) -> int | None:
        result = await self._db.execute(
            select(outbox.c.message_id).where(outbox.c.id == message_id)
        )
        value: int | None = result.scalar_one_or_none()
        return value
