"""The engine and transactions: SQLite (aiosqlite, WAL) by default, PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage.changes import Changes, begin
from storage.group_commit import GroupCommit, Unit
from storage.repositories import Repositories

SQLITE_BUSY_TIMEOUT_MS = 10_000
# How every SQLite transaction begins: taking the write lock up front (see _on_begin).
BEGIN_STATEMENT = "BEGIN IMMEDIATE"
T = TypeVar("T")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        _run_statements_inline(dbapi_connection)
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: a deferred transaction (plain BEGIN) that reads and
        # then writes cannot upgrade its lock once another connection has written since its
        # read, and fails with "database is locked" at once, busy timeout or not. Another
        # process on the file (a second instance starting, `yishi db upgrade`) is such a
        # connection (tests/storage/test_group_commit.py shows both ways; the SQL the bot sends
        # is checked in tests/reliability/test_concurrency.py).
        connection.exec_driver_sql(BEGIN_STATEMENT)


def _run_statements_inline(dbapi_connection: Any) -> None:
    """Run SQLite calls in the event loop's thread instead of aiosqlite's worker thread.

    Handing each statement to the worker and waking the loop with its result costs ~0.2 ms of
    CPU, while our statements (indexed look-ups, single-row writes; WAL commits that do not
    sync) take tens of microseconds: the hand-off was most of the cost of a ballot. The loop
    is blocked while a statement runs, which is short here, as the GIL would have held it up
    for most of that time anyway.
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is None:
        return

    async def inline(function: Any, *args: Any, **kwargs: Any) -> Any:
        if not driver._running or driver._connection is None:
            raise ValueError("Connection closed")
        return function(*args, **kwargs)

    driver._execute = inline


def create_engine(url: str, *, schema: str | None = None) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # One connection: SQLite has one writer at a time and every transaction here takes the
        # write lock (BEGIN IMMEDIATE), so transactions wait their turn in the pool, in order,
        # instead of in SQLite's busy handler, which sleeps in steps of up to 100 ms.
        engine = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            pool_size=1,
            max_overflow=0,
        )
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(url, pool_size=10, max_overflow=10, connect_args=connect_args)


class Database:
    """Owns the engine; hands out transactions as bundles of repositories."""

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        self.url = url
        self.engine = create_engine(url, schema=schema)
        # What committed, for the caches of the web pages' reads (storage/changes.py).
        self.changes = Changes()
        self.changes.install(self.engine)
        # One transaction of units at a time on both databases: on PostgreSQL four at once
        # measured slower (smaller batches, more commits; docs/PERFORMANCE.md).
        self.group = GroupCommit(self)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repositories]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        async with self.connection_in_transaction() as connection:
            yield Repositories(connection)

    @asynccontextmanager
    async def connection_in_transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction's connection, for a caller that bundles its own repositories.
        Once it committed, the tables it wrote are reported to :attr:`changes`."""
        async with self.engine.begin() as connection:
            written = begin(connection)
            yield connection
        if written:
            self.changes.committed(written)

    async def batched(self, work: Unit[T]) -> T:
        """Run ``work`` in a transaction shared with concurrent short units (group commit);
        returns once that transaction committed. See storage/group_commit.py."""
        return await self.group.run(work)

    async def read(self, work: Unit[T]) -> T:
        """Run ``work``, which only reads, on committed data. On PostgreSQL in a transaction
        of its own from the pool, beside the group commit's: a batch runs its statements one
        after another on one connection, so a read queued behind the ballots would wait for
        all of theirs. On SQLite as a unit of the group commit (there is one connection)."""
        if self.dialect != "postgresql":
            return await self.group.run(work)
        async with self.connection_in_transaction() as connection:
            return await work(Repositories(connection))

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as connection:
            yield connection

    async def close(self) -> None:
        await self.group.close()
        await self.engine.dispose()
