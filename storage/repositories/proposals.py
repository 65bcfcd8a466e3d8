"""Resident proposals (/propose) and the officers' decisions on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Proposal, ProposalStatus
from storage.tables import proposals


def _proposal(row: Any) -> Proposal:
    return Proposal(
        id=row.id,
        node_id=row.node_id,
        chat_id=row.chat_id,
        user_id=row.user_id,
        text=row.text,
        status=ProposalStatus(row.status),
        topic_id=row.topic_id,
        decided_by=row.decided_by,
        reason=row.reason,
        created_at=row.created_at,
    )


class ProposalRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def add(
        self, *, node_id: int, chat_id: int, user_id: int, text: str, now: datetime
    ) -> Proposal:
        result = await self._db.execute(
            proposals.insert()
            .values(
                node_id=node_id,
                chat_id=chat_id,
                user_id=user_id,
                text=text,
                status=ProposalStatus.OPEN,
                created_at=now,
            )
            .returning(*proposals.c)
        )
        return _proposal(result.one())

    async def get(self, proposal_id: int) -> Proposal | None:
        row = (
            await self._db.execute(select(proposals).where(proposals.c.id == proposal_id))
        ).first()
        return _proposal(row) if row else None

    async def decide(
        self,
        proposal_id: int,
        *,
        status: ProposalStatus,
        decided_by: int,
        now: datetime,
        topic_id: int | None = None,
        reason: str | None = None,
    ) -> bool:
        """Open -> accepted/declined, once."""
        result = await self._db.execute(
            update(proposals)
            .where(proposals.c.id == proposal_id, proposals.c.status == ProposalStatus.OPEN)
            .values(
                status=status,
                decided_by=decided_by,
                decided_at=now,
                topic_id=topic_id,
                reason=reason,
            )
        )
        return bool(result.rowcount)

    async def reopen(self, proposal_id: int) -> None:
        await self._db.execute(
            update(proposals)
            .where(proposals.c.id == proposal_id)
            .values(status=ProposalStatus.OPEN, decided_by=None, decided_at=None)
        )

    async def link_topic(self, proposal_id: int, topic_id: int) -> None:
        await self._db.execute(
            update(proposals).where(proposals.c.id == proposal_id).values(topic_id=topic_id)
        )
