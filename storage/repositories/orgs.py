"""The organisation aggregate: nodes of the tree, their chat bindings and bind codes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import BindCode, Binding, Level, Node
from storage.tables import bind_codes, chat_bindings, nodes

# Read on every escalation and many commands: built once (see storage/upsert.py for why).
_NODE = select(nodes).where(nodes.c.id == bindparam("node_id"))
_BINDING_OF_NODE = select(chat_bindings).where(chat_bindings.c.node_id == bindparam("node_id"))


def _node(row: Any) -> Node:
    return Node(
        id=row.id,
        level=Level(row.level),
        name=row.name,
        parent_id=row.parent_id,
        requires_approval=row.requires_approval,
        created_at=row.created_at,
    )


def _binding(row: Any) -> Binding:
    return Binding(
        node_id=row.node_id, chat_id=row.chat_id, active=row.active, bound_at=row.bound_at
    )


def _code(row: Any) -> BindCode:
    return BindCode(
        code=row.code,
        parent_id=row.parent_id,
        level=Level(row.level),
        name=row.name,
        node_id=row.node_id,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


class OrgRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def create_node(
        self,
        *,
        level: Level,
        name: str,
        parent_id: int | None,
        created_by: int | None,
        now: datetime,
        requires_approval: bool = True,
    ) -> Node:
        result = await self._db.execute(
            nodes.insert()
            .values(
                level=level,
                name=name,
                parent_id=parent_id,
                created_by=created_by,
                created_at=now,
                requires_approval=requires_approval,
            )
            .returning(*nodes.c)
        )
        return _node(result.one())

    async def node(self, node_id: int) -> Node | None:
        row = (await self._db.execute(_NODE, {"node_id": node_id})).first()
        return _node(row) if row else None

    async def children(self, node_id: int) -> list[Node]:
        rows = await self._db.execute(
            select(nodes).where(nodes.c.parent_id == node_id).order_by(nodes.c.id)
        )
        return [_node(row) for row in rows]

    async def child_named(self, parent_id: int, level: Level, name: str) -> Node | None:
        row = (
            await self._db.execute(
                select(nodes).where(
                    nodes.c.parent_id == parent_id, nodes.c.level == level, nodes.c.name == name
                )
            )
        ).first()
        return _node(row) if row else None

    async def nodes_with_ancestors(self, node_ids: Iterable[int]) -> dict[int, Node]:
        """The nodes and all their ancestors, by id: one query per level of the tree."""
        found: dict[int, Node] = {}
        wanted = set(node_ids)
        while wanted:
            rows = await self._db.execute(select(nodes).where(nodes.c.id.in_(sorted(wanted))))
            batch = [_node(row) for row in rows]
            found.update((node.id, node) for node in batch)
            wanted = {n.parent_id for n in batch if n.parent_id is not None} - found.keys()
        return found

    async def ancestry(self, node_id: int) -> list[Node]:
        """The node and its ancestors, nearest first."""
        chain: list[Node] = []
        current: int | None = node_id
        while current is not None and len(chain) < 16:
            node = await self.node(current)
            if node is None:
                break
            chain.append(node)
            current = node.parent_id
        return chain

    async def roots(self) -> list[Node]:
        """The nodes at the top of the tree (the communities, or what a deployment put above)."""
        rows = await self._db.execute(
            select(nodes).where(nodes.c.parent_id.is_(None)).order_by(nodes.c.id)
        )
        return [_node(row) for row in rows]

    async def descendants(self, node_id: int) -> list[Node]:
        found: list[Node] = []
        frontier = [node_id]
        while frontier:
            rows = await self._db.execute(select(nodes).where(nodes.c.parent_id.in_(frontier)))
            level = [_node(row) for row in rows]
            found.extend(level)
            frontier = [node.id for node in level]
        return found

    # Bindings -----------------------------------------------------------------------------

    async def bind(
        self, *, node_id: int, chat_id: int, bound_by: int | None, now: datetime
    ) -> None:
        await self._db.execute(
            chat_bindings.insert().values(
                node_id=node_id, chat_id=chat_id, active=True, bound_by=bound_by, bound_at=now
            )
        )

    async def unbind(self, node_id: int) -> None:
        await self._db.execute(chat_bindings.delete().where(chat_bindings.c.node_id == node_id))

    async def binding_of_chat(self, chat_id: int) -> Binding | None:
        row = (
            await self._db.execute(select(chat_bindings).where(chat_bindings.c.chat_id == chat_id))
        ).first()
        return _binding(row) if row else None

    async def bindings_of_nodes(self, node_ids: Iterable[int]) -> dict[int, Binding]:
        rows = await self._db.execute(
            select(chat_bindings).where(chat_bindings.c.node_id.in_(sorted(set(node_ids))))
        )
        return {row.node_id: _binding(row) for row in rows}

    async def binding_of_node(self, node_id: int) -> Binding | None:
        row = (await self._db.execute(_BINDING_OF_NODE, {"node_id": node_id})).first()
        return _binding(row) if row else None

    async def node_of_chat(self, chat_id: int) -> Node | None:
        row = (
            await self._db.execute(
                select(nodes)
                .join(chat_bindings, chat_bindings.c.node_id == nodes.c.id)
                .where(chat_bindings.c.chat_id == chat_id)
            )
        ).first()
        return _node(row) if row else None

    async def set_binding_active(self, chat_id: int, active: bool) -> bool:
        result = await self._db.execute(
            update(chat_bindings)
            .where(chat_bindings.c.chat_id == chat_id, chat_bindings.c.active != active)
            .values(active=active)
        )
        return bool(result.rowcount)

    async def move_binding(self, old_chat_id: int, new_chat_id: int) -> bool:
        result = await self._db.execute(
            update(chat_bindings)
            .where(chat_bindings.c.chat_id == old_chat_id)
            .values(chat_id=new_chat_id)
        )
        return bool(result.rowcount)

    # Bind codes ---------------------------------------------------------------------------

    async def add_code(
        self,
        *,
        code: str,
        parent_id: int,
        level: Level,
        name: str,
        node_id: int | None,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        await self._db.execute(
            bind_codes.insert().values(
                code=code,
                parent_id=parent_id,
                level=level,
                name=name,
                node_id=node_id,
                created_by=created_by,
                created_at=now,
                expires_at=expires_at,
            )
        )

    async def code(self, code: str) -> BindCode | None:
        row = (await self._db.execute(select(bind_codes).where(bind_codes.c.code == code))).first()
        return _code(row) if row else None

    async def use_code(self, code: str, *, user_id: int, chat_id: int, now: datetime) -> bool:
        """Mark the code used; False if someone used it first (single use under concurrency)."""
        result = await self._db.execute(
            update(bind_codes)
            .where(bind_codes.c.code == code, bind_codes.c.used_at.is_(None))
            .values(used_at=now, used_by=user_id, used_chat_id=chat_id)
        )
        return bool(result.rowcount)
