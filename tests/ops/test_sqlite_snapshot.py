"""The SQLite backup is one moment of the database as the bot's connection would read it:
what is committed (in the write-ahead log too), nothing of a transaction still open."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from tests.ops.conftest import yishi

INSERT = "INSERT INTO app_settings (key, value, created_at) VALUES (?, 'v', '2026-12-01 01:00:00')"


def files_named(directory: Path, prefix: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(prefix))


async def test_the_backup_holds_what_is_committed_in_the_log_and_nothing_uncommitted(
    tmp_path: Path,
) -> None:
    path = tmp_path / "yishi.db"
    url = f"sqlite+aiosqlite:///{path}"
    assert (await yishi("db", "upgrade", database_url=url, cwd=tmp_path)).status == 0
    with closing(sqlite3.connect(path, isolation_level=None)) as writer:
        # As the running bot: WAL, and its latest commits still in the log, not the file.
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(INSERT, ("committed",))
        writer.execute("COMMIT")
        writer.execute("BEGIN IMMEDIATE")  # a transaction under way while the backup runs
        writer.execute(INSERT, ("uncommitted",))
        made = await yishi("db", "backup", str(tmp_path / "b.db"), database_url=url, cwd=tmp_path)
        writer.execute("COMMIT")
    assert made.status == 0, made.err
    # One self-contained file: nothing beside it to carry along.
    assert files_named(tmp_path, "b.db") == ["b.db"]

    target = f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    restored = await yishi(
        "db", "restore", str(tmp_path / "b.db"), database_url=target, cwd=tmp_path
    )
    assert restored.status == 0, restored.err
    with closing(sqlite3.connect(tmp_path / "restored.db")) as reading:
        keys = [row[0] for row in reading.execute("SELECT key FROM app_settings")]
    assert keys == ["committed"]
