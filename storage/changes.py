"""What committed, by table: a version number per watched set of tables, raised after each
commit that wrote one of them.

An in-process cache (the web pages' reads: channels/web/, bot/services/web/) keeps what it
read with the version it saw *before* reading, and serves it while that version stands. The
version is raised only once the writing transaction committed, so a read that raced the write
(it may or may not have seen it) is stored under the old version and is already stale:

    version = watched.version          # before the read
    value = await read()               # committed data, maybe including a concurrent write
    cache[key] = (version, value)      # usable while watched.version == version

Every INSERT, UPDATE and DELETE of SQLAlchemy's Core (what the repositories use) marks its
table written on the transaction's connection; the transaction's owner (storage/database.py)
reports the tables to :meth:`Changes.committed` after the commit, and forgets them on a
rollback. A write no cache depends on says so with the execution option ``UNTRACKED`` (a web
session's last-seen time, a person's sighting): it raises nothing. A write in raw SQL
(``text()``) is not seen; only sightings are written that way. Changes made by another process
on the same database are not seen either: Yishi runs one process per database (the instance
lease), and its command-line tools that write (``yishi db``, a restore) run while it is
stopped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

WRITTEN = "yishi_written"  # connection.info: the tables this transaction wrote
UNTRACKED = "yishi_untracked"  # execution option: a write no cache depends on


class Watched:
    """A set of tables and how many commits wrote any of them so far (in this process)."""

    __slots__ = ("tables", "version")

    def __init__(self, tables: frozenset[str]) -> None:
        self.tables = tables
        self.version = 0


class Changes:
    def __init__(self) -> None:
        self._watched: list[Watched] = []

    def watch(self, *tables: str) -> Watched:
        watched = Watched(frozenset(tables))
        self._watched.append(watched)
        return watched

    def committed(self, written: set[str]) -> None:
        for watched in self._watched:
            if not watched.tables.isdisjoint(written):
                watched.version += 1

    def install(self, engine: AsyncEngine) -> None:
        """Mark every Core write on ``engine``'s connections (see the module's docstring)."""

        @event.listens_for(engine.sync_engine, "after_execute")
        def _written(
            connection: Connection,
            statement: Any,
            _multiparams: Any,
            _params: Any,
            options: Any,
            _result: Any,
        ) -> None:
            if getattr(statement, "is_dml", False) and not options.get(UNTRACKED):
                written = connection.info.get(WRITTEN)
                if written is not None:
                    written.add(statement.table.name)


def begin(connection: AsyncConnection) -> set[str]:
    """The set ``connection``'s writes are noted in from now on, for this transaction."""
    written: set[str] = set()
    connection.sync_connection.info[WRITTEN] = written  # type: ignore[union-attr]
    return written
