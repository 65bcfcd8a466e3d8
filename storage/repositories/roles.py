"""Role grants: one role per user per node."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import RoleGrant, RoleName
from storage.tables import role_grants
from storage.upsert import upsert


def _grant(row: Any) -> RoleGrant:
    return RoleGrant(
        user_id=row.user_id,
        node_id=row.node_id,
        role=RoleName(row.role),
        granted_by=row.granted_by,
        granted_at=row.granted_at,
    )


class RoleRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def grant(
        self, *, user_id: int, node_id: int, role: RoleName, granted_by: int | None, now: datetime
    ) -> None:
        await upsert(
            self._db,
            role_grants,
            {
                "user_id": user_id,
                "node_id": node_id,
                "role": role,
                "granted_by": granted_by,
                "granted_at": now,
            },
            conflict=["user_id", "node_id"],
            update=["role", "granted_by", "granted_at"],
        )

    async def revoke(self, *, user_id: int, node_id: int) -> bool:
        result = await self._db.execute(
            delete(role_grants).where(
                role_grants.c.user_id == user_id, role_grants.c.node_id == node_id
            )
        )
        return bool(result.rowcount)

    async def of_user(self, user_id: int, node_ids: list[int]) -> list[RoleGrant]:
        if not node_ids:
            return []
        rows = await self._db.execute(
            select(role_grants).where(
                role_grants.c.user_id == user_id, role_grants.c.node_id.in_(node_ids)
            )
        )
        return [_grant(row) for row in rows]

    async def everywhere_of(self, user_id: int) -> list[RoleGrant]:
        """Every role the user holds, at any node (the staff home lists them)."""
        rows = await self._db.execute(
            select(role_grants)
            .where(role_grants.c.user_id == user_id)
            .order_by(role_grants.c.node_id)
        )
        return [_grant(row) for row in rows]

    async def at_nodes(self, node_ids: list[int]) -> list[RoleGrant]:
        if not node_ids:
            return []
        rows = await self._db.execute(
            select(role_grants)
            .where(role_grants.c.node_id.in_(node_ids))
            .order_by(role_grants.c.node_id, role_grants.c.granted_at)
        )
        return [_grant(row) for row in rows]

    async def get(self, user_id: int, node_id: int) -> RoleGrant | None:
        row = (
            await self._db.execute(
                select(role_grants).where(
                    role_grants.c.user_id == user_id, role_grants.c.node_id == node_id
                )
            )
        ).first()
        return _grant(row) if row else None
