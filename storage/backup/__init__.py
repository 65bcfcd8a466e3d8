"""``yishi db backup`` and ``yishi db restore``: a consistent copy of the database while the
bot runs, and that copy put back into a database (docs/RELIABILITY.md, "Backup and restore").

A backup is written as ``PATH.partial`` and renamed when complete, so a file at ``PATH`` is
always a whole backup. A restore refuses a backup from a newer Yishi, refuses a database that
holds data unless told to replace it, refuses a database a bot is running on, and brings an
older backup up to this code's schema with the migrations ``yishi run`` would apply.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from storage import migrate
from storage.backup import postgres_dump, sqlite_file
from storage.backup.facts import (
    BackupRefused,
    capitalised,
    check_restorable,
    code_head,
    forget_lease,
    open_secret_topics,
    running_instance,
    shown,
    tables_with_data,
)
from storage.database import Database

__all__ = ["BackupMade", "BackupRefused", "Restored", "backup", "restore"]


@dataclass(frozen=True)
class BackupMade:
    path: Path
    revision: str
    # Open secret ballots when the backup was taken: the file holds their salts.
    open_secret_topics: list[int]


@dataclass(frozen=True)
class Restored:
    backup_revision: str
    revision: str  # the database's now, after the migrations an older backup needed
    # The tables that held data before, replaced (--force).
    replaced_tables: list[str] = field(default_factory=list)


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _destination(path: Path, url: str) -> Path:
    if path.is_dir():
        suffix = "sqlite3" if _is_sqlite(url) else "pgdump"
        path = path / f"yishi-{datetime.now(UTC):%Y%m%d-%H%M%S}.{suffix}"
    if path.exists():
        raise BackupRefused(
            f"{path} exists already; a backup never overwrites a file. Give a new name (e.g. "
            "one with the date), or a directory to put a dated file in."
        )
    if not path.parent.is_dir():
        raise BackupRefused(f"The directory {path.parent} does not exist.")
    return path


async def backup(url: str, path: Path) -> BackupMade:
    destination = _destination(path, url)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)  # left by a backup that was killed
    try:
        if _is_sqlite(url):
            made = await _backup_sqlite(url, partial, destination)
        else:
            made = await _backup_postgres(url, partial, destination)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    return made


def _never_migrated(url: str) -> BackupRefused:
    return BackupRefused(
        f"{capitalised(shown(url))} has no schema revision: it is not a Yishi database, or "
        "was never migrated (`yishi db upgrade`). No backup was written."
    )


async def _backup_sqlite(url: str, partial: Path, destination: Path) -> BackupMade:
    await asyncio.to_thread(sqlite_file.copy_online, sqlite_file.database_path(url), partial)
    revision = await asyncio.to_thread(sqlite_file.revision_of, partial)
    if revision is None:
        raise _never_migrated(url)
    secret = await asyncio.to_thread(sqlite_file.open_secret_topics_in, partial)
    return BackupMade(destination, revision, secret)


async def _backup_postgres(url: str, partial: Path, destination: Path) -> BackupMade:
    database = Database(url)
    try:
        async with database.connection() as connection:
            version = (await connection.execute(text("SHOW server_version_num"))).scalar_one()
            secret = await open_secret_topics(connection)
    finally:
        await database.close()
    await postgres_dump.dump(url, partial, int(version) // 10000)
    revision = await postgres_dump.revision_in(partial)
    if revision is None:
        raise _never_migrated(url)
    return BackupMade(destination, revision, secret)


async def restore(url: str, path: Path, *, force: bool = False) -> Restored:
    _require_file(path)
    if _is_sqlite(url):
        revision = await asyncio.to_thread(sqlite_file.revision_of, path)
    else:
        await postgres_dump.check_readable(path)
        revision = await postgres_dump.revision_in(path)
    check_restorable(revision, str(path))
    assert revision is not None
    replaced = await _check_target(url, force=force)
    if _is_sqlite(url):
        await asyncio.to_thread(sqlite_file.copy_into, path, sqlite_file.database_path(url))
    else:
        await postgres_dump.restore(url, path, first=_dropping(replaced))
    database = Database(url)
    try:
        if revision != code_head():
            await migrate.upgrade(database)
        async with database.engine.begin() as connection:
            await forget_lease(connection)
        now = await migrate.current_revision(database)
    finally:
        await database.close()
    assert now is not None
    return Restored(revision, now, replaced)


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise BackupRefused(f"There is no backup file at {path}.")


async def _check_target(url: str, *, force: bool) -> list[str]:
    """The target's tables, when it holds data; refuses a running one, and one with data
    unless forced."""
    if _is_sqlite(url) and not sqlite_file.database_path(url).exists():
        return []
    database = Database(url)
    try:
        async with database.connection() as connection:
            holder = await running_instance(connection)
            tables = await tables_with_data(connection)
    finally:
        await database.close()
    if holder is not None:
        raise BackupRefused(
            f"A Yishi instance is running on {shown(url)} ({holder}): stop it before "
            "restoring into this database (--force does not override this). Nothing was changed."
        )
    if tables and not force:
        listed = ", ".join(tables[:6]) + (", ..." if len(tables) > 6 else "")
        raise BackupRefused(
            f"The target, {shown(url)}, already holds data (tables {listed}): a restore would "
            "replace it. To replace it with the backup, run again with --force; to keep it, "
            "restore into a new, empty database (another DATABASE_URL). Nothing was changed."
        )
    if not tables:
        return []
    database = Database(url)
    try:
        async with database.connection() as connection:
            return await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await database.close()


def _dropping(tables: list[str]) -> str:
    """SQL that empties the database being replaced: its tables with what depends on them
    (their sequences and constraints), including tables the backup does not have (added by a
    later migration), which the migrations creating them again would find there."""
    if not tables:
        return ""
    quoted = ", ".join('"{}"'.format(name.replace('"', '""')) for name in tables)
    return f"DROP TABLE IF EXISTS {quoted} CASCADE"
