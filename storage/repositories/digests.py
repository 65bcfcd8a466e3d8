"""Digest subscriptions, the periods already sent, and per-node settings such as /sla."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import digests_sent, node_settings, subscriptions
from storage.upsert import insert_ignore, upsert


@dataclass(frozen=True, slots=True)
class Subscription:
    chat_id: int
    node_id: int


class DigestRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def subscribe(self, *, chat_id: int, node_id: int, by: int, now: datetime) -> bool:
        return await insert_ignore(
            self._db,
            subscriptions,
            {"chat_id": chat_id, "node_id": node_id, "subscribed_by": by, "subscribed_at": now},
            conflict=["chat_id"],
        )

    async def unsubscribe(self, chat_id: int) -> bool:
        result = await self._db.execute(
            delete(subscriptions).where(subscriptions.c.chat_id == chat_id)
        )
        return bool(result.rowcount)

    async def subscriptions(self) -> list[Subscription]:
        rows = await self._db.execute(select(subscriptions).order_by(subscriptions.c.chat_id))
        return [Subscription(chat_id=row.chat_id, node_id=row.node_id) for row in rows]

    async def subscription(self, chat_id: int) -> Subscription | None:
        row = (
            await self._db.execute(select(subscriptions).where(subscriptions.c.chat_id == chat_id))
        ).first()
        return Subscription(chat_id=row.chat_id, node_id=row.node_id) if row else None

    async def claim_period(
        self, *, chat_id: int, period: str, since: datetime, until: datetime, now: datetime
    ) -> bool:
        """Reserve this chat's digest for ``period``; False if it was already sent."""
        return await insert_ignore(
            self._db,
            digests_sent,
            {
                "chat_id": chat_id,
                "period": period,
                "since": since,
                "until": until,
                "queued_at": now,
            },
            conflict=["chat_id", "period"],
        )

    async def last_until(self, chat_id: int) -> datetime | None:
        """Where the previous digest of this chat ended."""
        result = await self._db.execute(
            select(func.max(digests_sent.c.until)).where(digests_sent.c.chat_id == chat_id)
        )
        value: datetime | None = result.scalar_one()
        if value is not None and value.tzinfo is None:  # max() bypasses the column type
            value = value.replace(tzinfo=UTC)
        return value

    async def sla_seconds(self, node_id: int) -> int | None:
        result = await self._db.execute(
            select(node_settings.c.escalation_sla_seconds).where(node_settings.c.node_id == node_id)
        )
        value: int | None = result.scalar_one_or_none()
        return value

    async def set_sla_seconds(self, node_id: int, seconds: int) -> None:
        await upsert(
            self._db,
            node_settings,
            {"node_id": node_id, "escalation_sla_seconds": seconds},
            conflict=["node_id"],
            update=["escalation_sla_seconds"],
        )
