"""The append-only audit log: who did what, where and when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import AuditEntry
from storage.tables import audit_log


class AuditRow:
    """One entry to record: what happened, by whom, where, and the details."""

    __slots__ = ("action", "actor_id", "chat_id", "details", "node_id")

    def __init__(
        self,
        *,
        action: str,
        actor_id: int | None,
        node_id: int | None = None,
        chat_id: int | None = None,
        **details: Any,
    ) -> None:
        self.action = action
        self.actor_id = actor_id
        self.node_id = node_id
        self.chat_id = chat_id
        self.details = details


class AuditRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def record(
        self,
        *,
        action: str,
        actor_id: int | None,
        now: datetime,
        node_id: int | None = None,
        chat_id: int | None = None,
        **details: Any,
    ) -> None:
        await self.record_many(
            [
                AuditRow(
                    action=action, actor_id=actor_id, node_id=node_id, chat_id=chat_id, **details
                )
            ],
            now=now,
        )

    async def record_many(self, entries: Sequence[AuditRow], *, now: datetime) -> None:
        """Several entries in one statement (closing a batch of topics, say)."""
        if entries:
            await self._db.execute(
                audit_log.insert(),
                [
                    {
                        "at": now,
                        "actor_id": entry.actor_id,
                        "action": entry.action,
                        "node_id": entry.node_id,
                        "chat_id": entry.chat_id,
                        "details": entry.details,
                    }
                    for entry in entries
                ],
            )

    async def recent(
        self, *, node_ids: list[int] | None = None, limit: int = 50
    ) -> list[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if node_ids is not None:
            query = query.where(audit_log.c.node_id.in_(node_ids))
        rows = await self._db.execute(query)
        return [
            AuditEntry(
                id=row.id,
                at=row.at,
                actor_id=row.actor_id,
                action=row.action,
                node_id=row.node_id,
                chat_id=row.chat_id,
                details=dict(row.details),
            )
            for row in rows
        ]
