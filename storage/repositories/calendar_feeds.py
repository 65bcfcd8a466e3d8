"""Calendar feeds (a node's .ics secret, by hash) and the communities whose record is public."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Node
from storage.repositories.orgs import _node
from storage.tables import calendar_feeds, nodes, public_pages, role_grants
from storage.upsert import upsert


class CalendarFeedRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def replace(self, *, node_id: int, token_hash: str, by: int, now: datetime) -> None:
        """The node's feed secret is now this one; the one before stops working."""
        await upsert(
            self._db,
            calendar_feeds,
            {"node_id": node_id, "token_hash": token_hash, "created_by": by, "created_at": now},
            conflict=["node_id"],
            update=["token_hash", "created_by", "created_at"],
        )

    async def node_of(self, token_hash: str) -> int | None:
        row = (
            await self._db.execute(
                select(calendar_feeds.c.node_id).where(calendar_feeds.c.token_hash == token_hash)
            )
        ).first()
        return int(row[0]) if row else None

    async def made(self, node_ids: list[int]) -> dict[int, tuple[int, datetime]]:
        """Who made each node's current feed link, and when."""
        rows = await self._db.execute(
            select(calendar_feeds).where(calendar_feeds.c.node_id.in_(node_ids))
        )
        return {int(row.node_id): (int(row.created_by), row.created_at) for row in rows}


class PublicPageRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def publish(self, *, node_id: int, by: int, now: datetime) -> bool:
        """On; False if it was on already."""
        if await self.is_public(node_id):
            return False
        await self._db.execute(
            public_pages.insert().values(node_id=node_id, published_by=by, published_at=now)
        )
        return True

    async def withdraw(self, node_id: int) -> bool:
        """Off; False if it was off already."""
        done = await self._db.execute(delete(public_pages).where(public_pages.c.node_id == node_id))
        return bool(done.rowcount)

    async def is_public(self, node_id: int) -> bool:
        row = (
            await self._db.execute(
                select(public_pages.c.node_id).where(public_pages.c.node_id == node_id)
            )
        ).first()
        return row is not None


class ReachRepository:
    """Where a person's roles are, and every community: where the staff pages start from."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def granted_nodes(self, user_id: int) -> list[int]:
        rows = await self._db.execute(
            select(role_grants.c.node_id).where(role_grants.c.user_id == user_id).distinct()
        )
        return sorted(int(row[0]) for row in rows)

    async def communities(self) -> list[Node]:
        rows = await self._db.execute(
            select(nodes).where(nodes.c.parent_id.is_(None)).order_by(nodes.c.id)
        )
        return [_node(row) for row in rows]
