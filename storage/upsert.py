"""INSERT ... ON CONFLICT for the two dialects we run on.

Statements are built once per shape (table, conflict target, columns) and executed with the
row as parameters: building and caching a fresh statement for every row cost more than
running it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.changes import UNTRACKED


@lru_cache(maxsize=256)
def _statement(
    dialect: str,
    table: Table,
    conflict: tuple[str, ...],
    update: tuple[str, ...] | None,
    returning: tuple[str, ...] = (),
) -> Any:
    """``update``: columns to overwrite on conflict; None: do nothing on conflict.
    ``returning``: columns of the row as it is afterwards, inserted or updated."""
    statement = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    if update:
        upserting = statement.on_conflict_do_update(
            index_elements=list(conflict),
            set_={name: statement.excluded[name] for name in update},
        )
    elif conflict:
        upserting = statement.on_conflict_do_nothing(index_elements=list(conflict))
    else:  # any conflict, over whichever unique constraint
        upserting = statement.on_conflict_do_nothing()
    return upserting.returning(*(table.c[name] for name in returning)) if returning else upserting


async def upsert(
    connection: AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert ``values``; on a conflict over ``conflict`` columns, overwrite ``update`` ones."""
    await upsert_many(connection, table, [values], conflict=conflict, update=update)


async def upsert_many_returning(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
    returning: Sequence[str],
    untracked: bool = False,
) -> list[Any]:
    """:func:`upsert_many`, returning ``returning`` columns of each row as it is afterwards
    (in no particular order: return the key too). No two rows may share a key.
    ``untracked``: a write no in-process cache depends on (storage/changes.py)."""
    assert update, "with DO NOTHING a conflicting row returns nothing"
    if not rows:
        return []
    statement = _statement(
        connection.dialect.name, table, tuple(conflict), tuple(update), tuple(returning)
    )
    options = {UNTRACKED: True} if untracked else None
    return list(
        await connection.execute(statement, [dict(row) for row in rows], execution_options=options)
    )


async def upsert_many(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """:func:`upsert` of several rows in one statement (an executemany)."""
    if not rows:
        return
    statement = _statement(connection.dialect.name, table, tuple(conflict), tuple(update) or None)
    await connection.execute(
        statement, [dict(row) for row in rows] if len(rows) > 1 else dict(rows[0])
    )


async def insert_ignore_returning(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
    returning: str,
) -> set[Any]:
    """Insert the rows that do not conflict over ``conflict`` columns, in one statement;
    the ``returning`` column of those inserted."""
    if not rows:
        return set()
    statement = _statement(connection.dialect.name, table, tuple(conflict), None, (returning,))
    result = await connection.execute(statement, [dict(row) for row in rows])
    return set(result.scalars())


async def insert_ignore(
    connection: AsyncConnection, table: Table, values: Mapping[str, Any], *, conflict: Sequence[str]
) -> bool:
    """Insert unless a row with the same ``conflict`` columns exists; True if inserted."""
    statement = _statement(connection.dialect.name, table, tuple(conflict), None)
    result = await connection.execute(statement, dict(values))
    return bool(result.rowcount)


async def insert_or_nothing(
    connection: AsyncConnection, table: Table, values: Mapping[str, Any], *, returning: str
) -> bool:
    """Insert unless the row conflicts with any unique constraint (its key or another);
    True if inserted."""
    statement = _statement(connection.dialect.name, table, (), None, (returning,))
    result = await connection.execute(statement, dict(values))
    return result.first() is not None
