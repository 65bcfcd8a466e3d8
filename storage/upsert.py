"""INSERT ... ON CONFLICT for the two dialects we run on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def _insert(connection: AsyncConnection, table: Table) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def upsert(
    connection: AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert ``values``; on a conflict over ``conflict`` columns, overwrite ``update`` ones."""
    statement = _insert(connection, table).values(**values)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=list(conflict),
            set_={name: statement.excluded[name] for name in update},
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
    await connection.execute(statement)


async def insert_ignore(
    connection: AsyncConnection, table: Table, values: Mapping[str, Any], *, conflict: Sequence[str]
) -> bool:
    """Insert unless a row with the same ``conflict`` columns exists; True if inserted."""
    statement = _insert(connection, table).values(**values)
    statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
    result = await connection.execute(statement)
    return bool(result.rowcount)
