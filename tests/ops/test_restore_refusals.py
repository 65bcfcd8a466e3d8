"""What `yishi db restore` refuses, why it says so, and that a refusal changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from storage import migrate
from storage.backup.facts import code_head
from storage.database import Database
from storage.tables import app_settings
from tests.ops.conftest import another_database, yishi


async def mark(url: str, key: str) -> None:
    """A row only this database has (app_settings: a simple table of the schema)."""
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                app_settings.insert().values(key=key, value="v", created_at=datetime.now(UTC))
            )
    finally:
        await database.close()


async def marks(url: str) -> list[str]:
    database = Database(url)
    try:
        async with database.connection() as connection:
            return list((await connection.execute(select(app_settings.c.key))).scalars())
    finally:
        await database.close()


async def tables(url: str) -> list[str]:
    database = Database(url)
    try:
        async with database.connection() as connection:
            return await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await database.close()


async def revision(url: str) -> str | None:
    database = Database(url)
    try:
        return await migrate.current_revision(database)
    finally:
        await database.close()


async def migrated(url: str, to: str = "head") -> None:
    database = Database(url)
    try:
        await migrate.upgrade(database, to)
    finally:
        await database.close()


async def set_revision(url: str, to: str) -> None:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :to"), {"to": to}
            )
    finally:
        await database.close()


def shown(url: str) -> str:
    """How the messages name a database."""
    return url.removeprefix("sqlite+aiosqlite:///")


async def test_a_database_with_data_is_replaced_only_with_force(
    empty_url: str, tmp_path: Path
) -> None:
    source, backup_file = empty_url, tmp_path / "yishi.backup"
    await migrated(source)
    await mark(source, "from-the-backup")
    assert (
        await yishi("db", "backup", str(backup_file), database_url=source, cwd=tmp_path)
    ).status == 0
    async with another_database(source, tmp_path) as target:
        await migrated(target)
        await mark(target, "the-target-s-own")

        refused = await yishi("db", "restore", str(backup_file), database_url=target, cwd=tmp_path)
        assert refused.status == 1
        assert shown(target) in refused.err  # which database
        assert "already holds data" in refused.err
        assert "--force" in refused.err  # and what to do
        assert "Nothing was changed" in refused.err
        assert await marks(target) == ["the-target-s-own"]

        forced = await yishi(
            "db", "restore", str(backup_file), "--force", database_url=target, cwd=tmp_path
        )
        assert forced.status == 0, forced.err
        assert "what it held was replaced" in forced.out
        assert await marks(target) == ["from-the-backup"]


async def test_a_backup_from_a_newer_yishi_is_refused(empty_url: str, tmp_path: Path) -> None:
    source, backup_file = empty_url, tmp_path / "yishi.backup"
    await migrated(source)
    await set_revision(source, "0999")  # as a later release would have left it
    made = await yishi("db", "backup", str(backup_file), database_url=source, cwd=tmp_path)
    assert made.status == 0, made.err
    assert "schema revision 0999" in made.out
    async with another_database(source, tmp_path) as target:
        refused = await yishi("db", "restore", str(backup_file), database_url=target, cwd=tmp_path)
        assert refused.status == 1
        assert "revision 0999, which this Yishi does not know" in refused.err
        assert f"its newest is {code_head()}" in refused.err
        assert "Upgrade Yishi" in refused.err
        assert await tables(target) == []


async def test_a_backup_from_an_older_yishi_is_restored_and_upgraded(
    empty_url: str, tmp_path: Path
) -> None:
    source, backup_file = empty_url, tmp_path / "yishi.backup"
    await migrated(source, "0007")
    made = await yishi("db", "backup", str(backup_file), database_url=source, cwd=tmp_path)
    assert "schema revision 0007" in made.out
    async with another_database(source, tmp_path) as target:
        restored = await yishi("db", "restore", str(backup_file), database_url=target, cwd=tmp_path)
        assert restored.status == 0, restored.err
        assert f"was at schema revision 0007; upgraded to {code_head()}" in restored.out
        assert await revision(target) == code_head()


async def test_a_file_that_is_not_a_backup_is_refused(empty_url: str, tmp_path: Path) -> None:
    garbage = tmp_path / "notes.txt"
    garbage.write_text("这不是备份\n", encoding="utf-8")
    refused = await yishi("db", "restore", str(garbage), database_url=empty_url, cwd=tmp_path)
    assert refused.status == 1
    assert "notes.txt is not" in refused.err
    assert "Traceback" not in refused.err
    missing = await yishi("db", "restore", "nowhere.db", database_url=empty_url, cwd=tmp_path)
    assert missing.status == 1
    assert "There is no backup file at nowhere.db" in missing.err
    assert await tables(empty_url) == []


async def test_a_backup_never_overwrites_a_file(empty_url: str, tmp_path: Path) -> None:
    await migrated(empty_url)
    kept = tmp_path / "kept.backup"
    kept.write_bytes(b"an older backup")
    refused = await yishi("db", "backup", str(kept), database_url=empty_url, cwd=tmp_path)
    assert refused.status == 1
    assert "exists already" in refused.err
    assert kept.read_bytes() == b"an older backup"
    # A directory gets a dated file.
    (tmp_path / "backups").mkdir()
    made = await yishi("db", "backup", "backups", database_url=empty_url, cwd=tmp_path)
    assert made.status == 0, made.err
    assert "to backups/yishi-" in made.out


@pytest.mark.parametrize("empty_url", ["postgresql"], indirect=True)
async def test_without_pg_dump_the_backup_says_what_to_install(
    empty_url: str, tmp_path: Path
) -> None:
    await migrated(empty_url)
    (tmp_path / "bin").mkdir()
    refused = await yishi(
        "db", "backup", "b.dump", database_url=empty_url, cwd=tmp_path, path=str(tmp_path / "bin")
    )
    assert refused.status == 1
    assert "pg_dump is not installed (or not on PATH)" in refused.err
    assert "postgresql-client" in refused.err
    assert not (tmp_path / "b.dump").exists()


async def test_a_backup_of_a_missing_or_broken_sqlite_file_says_so(tmp_path: Path) -> None:
    missing = f"sqlite+aiosqlite:///{tmp_path / 'nowhere.db'}"
    refused = await yishi("db", "backup", "b.db", database_url=missing, cwd=tmp_path)
    assert refused.status == 1
    assert f"There is no SQLite database at {tmp_path / 'nowhere.db'}" in refused.err
    (tmp_path / "notes.db").write_text("这不是数据库\n" * 100, encoding="utf-8")
    broken = f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}"
    refused = await yishi("db", "backup", "b.db", database_url=broken, cwd=tmp_path)
    assert refused.status == 1
    assert "SQLite could not read" in refused.err
    assert "Traceback" not in refused.err
    assert not (tmp_path / "b.db").exists()
    assert not (tmp_path / "b.db.partial").exists()


@pytest.mark.parametrize("empty_url", ["postgresql"], indirect=True)
async def test_a_pg_dump_older_than_the_server_is_not_used(empty_url: str, tmp_path: Path) -> None:
    await migrated(empty_url)
    # An old client first on PATH, as on a machine with two PostgreSQL versions installed:
    # it would refuse the server (pg_dump cannot dump a newer server); we say so first.
    old = tmp_path / "old-client"
    old.mkdir()
    (old / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    (old / "pg_dump").chmod(0o755)
    refused = await yishi(
        "db", "backup", "b.dump", database_url=empty_url, cwd=tmp_path, path=str(old)
    )
    assert refused.status == 1
    assert "is version 9, older than the PostgreSQL server" in refused.err
    assert not (tmp_path / "b.dump").exists()


async def test_an_unreachable_server_is_named_without_its_password(tmp_path: Path) -> None:
    nowhere = "postgresql+asyncpg://yishi:s3cret-pw@127.0.0.1:1/yishi"  # nothing listens on 1
    for command in (("backup", "b.dump"), ("downgrade",)):
        failed = await yishi("db", *command, database_url=nowhere, cwd=tmp_path)
        assert failed.status == 1
        assert "Could not use the PostgreSQL database" in failed.err, failed.err
        assert "yishi:***@127.0.0.1:1/yishi" in failed.err
        assert "s3cret-pw" not in failed.err + failed.out
        assert "Traceback" not in failed.err
