"""The lease that lets one process at a time run the bot on a database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Lease
from storage.tables import instance_lease
from storage.upsert import insert_ignore


class LeaseRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def take(self, name: str, holder: str, now: datetime, expires_at: datetime) -> bool:
        """Take the lease if it is free, expired or already ours; False if someone holds it."""
        result = await self._db.execute(
            update(instance_lease)
            .where(
                instance_lease.c.name == name,
                or_(instance_lease.c.expires_at < now, instance_lease.c.holder == holder),
            )
            .values(holder=holder, acquired_at=now, heartbeat_at=now, expires_at=expires_at)
        )
        if result.rowcount:
            return True
        return await insert_ignore(
            self._db,
            instance_lease,
            {
                "name": name,
                "holder": holder,
                "acquired_at": now,
                "heartbeat_at": now,
                "expires_at": expires_at,
            },
            conflict=["name"],
        )

    async def renew(self, name: str, holder: str, now: datetime, expires_at: datetime) -> bool:
        """The heartbeat; False if another process has taken the lease over."""
        result = await self._db.execute(
            update(instance_lease)
            .where(instance_lease.c.name == name, instance_lease.c.holder == holder)
            .values(heartbeat_at=now, expires_at=expires_at)
        )
        return bool(result.rowcount)

    async def current(self, name: str) -> Lease | None:
        row = (
            await self._db.execute(select(instance_lease).where(instance_lease.c.name == name))
        ).one_or_none()
        if row is None:
            return None
        return Lease(row.name, row.holder, row.acquired_at, row.heartbeat_at, row.expires_at)

    async def release(self, name: str, holder: str) -> None:
        await self._db.execute(
            delete(instance_lease).where(
                instance_lease.c.name == name, instance_lease.c.holder == holder
            )
        )
