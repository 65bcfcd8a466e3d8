"""Group commit: concurrent units share transactions, each answered once durable, and one
failing unit takes nothing of its neighbours down (both databases)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.database import Database
from storage.group_commit import GroupCommit
from storage.repositories import Repositories
from storage.tables import users

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def seen(user_id: int) -> Any:
    async def unit(repos: Repositories) -> int:
        await repos.users.seen(
            user_id=user_id,
            first_name=f"居民{user_id}",
            last_name=None,
            username=None,
            language_code="zh-hans",
            now=NOW,
        )
        return user_id

    return unit


async def stored(database: Database) -> set[int]:
    async with database.transaction() as repos:
        rows = await repos.connection.execute(select(users.c.user_id))
        return {int(row[0]) for row in rows}


async def test_concurrent_units_share_transactions(database: Database) -> None:
    results = await asyncio.gather(*(database.batched(seen(i)) for i in range(1, 101)))
    assert results == list(range(1, 101))
    assert await stored(database) == set(range(1, 101))
    assert database.group.units == 100
    assert database.group.transactions < 100  # committed in groups


async def test_a_result_is_returned_only_once_committed(database: Database) -> None:
    observed: list[int] = []

    async def look() -> None:
        user_id = await database.batched(seen(7))
        observed.append(len(await stored(database)))  # read in a transaction of its own
        assert user_id == 7

    await asyncio.gather(look(), database.batched(seen(8)))
    assert observed and observed[0] >= 1


async def test_a_failing_unit_fails_alone(database: Database) -> None:
    async def half_then_fail(repos: Repositories) -> None:
        await seen(50)(repos)  # written, then undone with its unit
        raise ValueError("refused")

    outcomes = await asyncio.gather(
        database.batched(seen(1)),
        database.batched(half_then_fail),
        database.batched(seen(2)),
        database.batched(half_then_fail),
        database.batched(seen(3)),
        return_exceptions=True,
    )
    assert outcomes[0::2] == [1, 2, 3]
    assert all(isinstance(outcome, ValueError) for outcome in outcomes[1::2])
    assert await stored(database) == {1, 2, 3}


async def test_a_failed_transaction_runs_each_unit_alone(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = sqlite_database.group
    original = GroupCommit._in_one_transaction
    failures = [ConnectionError("lost the connection")]

    async def flaky(self: GroupCommit, batch: list[Any], *, savepoints: bool) -> None:
        if failures:
            raise failures.pop()
        await original(self, batch, savepoints=savepoints)

    monkeypatch.setattr(GroupCommit, "_in_one_transaction", flaky)
    results = await asyncio.gather(*(sqlite_database.batched(seen(i)) for i in (1, 2, 3)))
    assert results == [1, 2, 3]
    assert await stored(sqlite_database) == {1, 2, 3}
    assert group.transactions == 0  # none went through as a group: each ran alone


async def test_a_cancelled_caller_does_not_disturb_the_others(database: Database) -> None:
    first = asyncio.create_task(database.batched(seen(1)))
    second = asyncio.create_task(database.batched(seen(2)))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == 2
    await asyncio.gather(first, return_exceptions=True)
    async with database.transaction() as repos:
        count = await repos.connection.execute(select(func.count()).select_from(users))
        assert count.scalar_one() in (1, 2)  # the cancelled one may have committed already
