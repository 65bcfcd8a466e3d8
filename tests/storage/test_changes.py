"""What committed, by table (storage/changes.py): a watched set of tables gets a new version
after each commit that wrote one of them, and only then — not while the transaction is open,
not for a rollback, not for a write marked untracked, not for a table it does not watch; a
group-committed batch counts once, after its commit (both databases)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from storage.changes import UNTRACKED
from storage.database import Database
from storage.repositories import Repositories
from storage.tables import app_settings, audit_log

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


async def test_a_commit_that_wrote_a_watched_table_raises_its_version_once_committed(
    database: Database,
) -> None:
    audit = database.changes.watch("audit_log")
    settings = database.changes.watch("app_settings")
    both = database.changes.watch("audit_log", "app_settings")
    async with database.transaction() as repos:
        await repos.audit.record(action="test.done", actor_id=None, now=NOW)
        await repos.audit.record(action="test.again", actor_id=None, now=NOW)
        assert audit.version == 0  # not before the commit
    assert (audit.version, settings.version, both.version) == (1, 0, 1)

    async with database.transaction() as repos:  # a read alone changes nothing
        await repos.connection.execute(select(audit_log.c.id))
    assert (audit.version, settings.version, both.version) == (1, 0, 1)


async def test_a_rollback_and_an_untracked_write_raise_nothing(database: Database) -> None:
    audit = database.changes.watch("audit_log")
    with pytest.raises(RuntimeError):
        async with database.transaction() as repos:
            await repos.audit.record(action="test.undone", actor_id=None, now=NOW)
            raise RuntimeError("undone")
    assert audit.version == 0

    settings = database.changes.watch("app_settings")
    async with database.transaction() as repos:
        await repos.connection.execute(
            app_settings.insert().values(key="k", value="v", created_at=NOW),
            execution_options={UNTRACKED: True},
        )
    assert settings.version == 0
    async with database.transaction() as repos:
        await repos.connection.execute(
            app_settings.update().where(app_settings.c.key == "k").values(value="w")
        )
    assert settings.version == 1


async def test_a_group_committed_batch_counts_once_after_its_commit(database: Database) -> None:
    audit = database.changes.watch("audit_log")
    before = database.group.transactions

    async def unit(repos: Repositories) -> int:
        await repos.audit.record(action="test.batched", actor_id=None, now=NOW)
        return audit.version  # as it stood while the unit ran

    seen = await asyncio.gather(*(database.batched(unit) for _ in range(20)))
    batches = database.group.transactions - before
    assert 1 <= batches < 20  # shared transactions
    assert audit.version == batches  # one new version per committed transaction
    assert max(seen) < audit.version  # a unit's own commit was counted after it ran
