"""Group commit: concurrent units share transactions, each answered once durable, and one
failing unit takes nothing of its neighbours down (both databases); on SQLite, a second
process writing the same file meanwhile makes nobody fail."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import storage.database
from storage.database import Database
from storage.group_commit import GroupCommit, WroteNothing
from storage.repositories import Repositories
from storage.tables import users
from tests.conftest import open_sqlite

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


# Two processes' worth of writers on one SQLite file ----------------------------------------


async def _write_storm(url: str, worker: int, start: threading.Barrier) -> int:
    """Transactions of their own and group-committed units, each reading before it writes."""
    database = Database(url)
    try:
        await stored(database)  # connected
        start.wait()  # both writers at once
        written = 0
        for round_ in range(40):
            async with database.transaction() as repos:
                await _read_then_write(repos, worker * 10_000 + round_)
            first = worker * 10_000 + 1000 + round_ * 5
            await asyncio.gather(
                *(
                    database.batched(lambda repos, n=n: _read_then_write(repos, n))
                    for n in range(first, first + 5)
                )
            )
            written += 6
        return written
    finally:
        await database.close()


async def _read_then_write(repos: Repositories, user_id: int) -> None:
    await repos.users.get(user_id)  # as a vote reads its topic before it writes its ballot
    await seen(user_id)(repos)


def _two_writers(url: str) -> list[int | BaseException]:
    """Two Database objects on one file, each in a thread with an event loop of its own, as
    two processes would be (a statement blocks its loop while SQLite waits for the lock)."""
    results: list[int | BaseException] = []
    start = threading.Barrier(2, timeout=30)

    def run(worker: int) -> None:
        try:
            results.append(asyncio.run(_write_storm(url, worker, start)))
        except Exception as error:
            results.append(error)

    threads = [threading.Thread(target=run, args=(worker,)) for worker in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


async def test_two_databases_on_one_sqlite_file_write_without_lock_errors(tmp_path: Path) -> None:
    """A second process on the file (a second instance starting, `yishi db upgrade`) makes
    the bot's transactions wait for the lock within the busy timeout, never fail."""
    async with open_sqlite(tmp_path / "shared.db") as database:
        url = database.url
    assert await asyncio.to_thread(_two_writers, url) == [240, 240]
    async with open_sqlite(tmp_path / "shared.db") as database:
        assert len(await stored(database)) == 2 * 240


async def test_the_same_writers_in_deferred_transactions_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why every transaction begins with BEGIN IMMEDIATE, and proof that the test above can
    fail: with a plain (deferred) BEGIN, a transaction that has read cannot take the write
    lock once the other process wrote, and fails at once, busy timeout or not."""
    monkeypatch.setattr(storage.database, "BEGIN_STATEMENT", "BEGIN")
    async with open_sqlite(tmp_path / "shared.db") as database:
        url = database.url
    results = await asyncio.to_thread(_two_writers, url)
    failures = [result for result in results if isinstance(result, BaseException)]
    assert failures and all("database is locked" in str(error) for error in failures), results


async def test_a_unit_that_wrote_nothing_is_answered_before_the_commit(
    database: Database,
) -> None:
    class Nothing(WroteNothing):
        pass

    release = asyncio.Event()

    async def reads_only(repos: Repositories) -> Nothing:
        await repos.users.get(1)
        return Nothing()

    async def slow_writer(repos: Repositories) -> int:
        await seen(2)(repos)
        await release.wait()  # the batch cannot commit before this
        return 2

    read = asyncio.create_task(database.batched(reads_only))
    write = asyncio.create_task(database.batched(slow_writer))
    assert isinstance(await asyncio.wait_for(read, timeout=5), Nothing)
    assert not write.done()
    release.set()
    assert await write == 2
    assert await stored(database) == {2}


async def test_the_callers_of_a_batch_go_on_before_the_next_transaction(
    database: Database,
) -> None:
    """Their answers (a press's card) go out while the next batch is written, not after it:
    on SQLite a transaction holds the event loop until it commits."""
    order: list[str] = []
    inside, release = asyncio.Event(), asyncio.Event()

    async def slow_first(repos: Repositories) -> int:
        await seen(1)(repos)
        inside.set()
        await release.wait()  # the next unit queues meanwhile
        return 1

    async def second(repos: Repositories) -> int:
        order.append("the next transaction")
        return await seen(2)(repos)

    async def caller() -> None:
        await database.batched(slow_first)
        order.append("the first batch's caller")

    first = asyncio.create_task(caller())
    await inside.wait()
    queued = asyncio.create_task(database.batched(second))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, queued)
    assert order == ["the first batch's caller", "the next transaction"]
