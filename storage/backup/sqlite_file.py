"""SQLite: an online backup through SQLite's backup API, and a restore through the same API.

The bot keeps its database in WAL mode: a reader never blocks it, and a reader sees the
database as of the moment its read transaction began. ``Connection.backup`` with all pages
in one step (``pages=-1``) copies them inside one read transaction, so the copy is that
moment's database, whatever the bot commits meanwhile. (In several steps, SQLite would start
over whenever another connection wrote in between, which a busy bot does all the time.)
These functions block: run them in a thread.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.backup.facts import BackupRefused

BUSY_TIMEOUT_S = 10.0


def database_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupRefused(
            f"DATABASE_URL {url} names no SQLite file (an in-memory or URI database): "
            "`yishi db backup` and `restore` work on a database file."
        )
    return Path(database)


def copy_online(source: Path, destination: Path) -> None:
    """A consistent copy of ``source`` (which a bot may be writing) as the one file
    ``destination`` (rollback-journal mode: no -wal file to carry along)."""
    if not source.is_file():
        raise BackupRefused(f"There is no SQLite database at {source}: nothing to back up.")
    with (
        closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)) as reading,
        closing(sqlite3.connect(destination)) as written,
    ):
        try:
            reading.backup(written, pages=-1)
        except sqlite3.Error as error:  # not a database; locked beyond the busy timeout
            raise BackupRefused(f"SQLite could not read {source}: {error}.") from None
        written.execute("PRAGMA journal_mode=DELETE")
        _check_integrity(written, destination)


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    try:
        verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as error:  # "file is not a database"
        raise BackupRefused(f"{path} is not an SQLite database ({error}).") from None
    if verdict != "ok":
        raise BackupRefused(f"{path} is damaged (SQLite's quick_check says: {verdict}).")


def revision_of(path: Path) -> str | None:
    """The schema revision an SQLite backup file is at (None: not a Yishi database)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        _check_integrity(connection, path)
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:  # no such table
            return None
    return None if row is None else str(row[0])


def open_secret_topics_in(path: Path) -> list[int]:
    """The open secret ballots in a backup file (their salts are in it)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        try:
            rows = connection.execute(
                "SELECT id FROM topics WHERE ballot_salt IS NOT NULL ORDER BY id"
            ).fetchall()
        except sqlite3.OperationalError:  # a database from before topics existed
            return []
    return [int(row[0]) for row in rows]


def copy_into(backup: Path, target: Path) -> None:
    """Replace the content of ``target`` (created if missing) by the backup's, page by page
    through the backup API: a target in WAL mode stays consistent (its -wal file is written
    through SQLite, not overwritten behind its back)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as reading,
        closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT_S)) as written,
    ):
        try:
            reading.backup(written, pages=-1)
        except sqlite3.Error as error:
            raise BackupRefused(f"SQLite could not write {target}: {error}.") from None
        _check_integrity(written, target)
