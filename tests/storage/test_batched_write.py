"""Rows submitted meanwhile go in one statement and one unit; each caller gets its own result
once committed, and every caller of a failed write gets the error (both databases)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from channels.telegram.inbox import Inbox
from storage.batched_write import BatchedWrite
from storage.database import Database
from storage.repositories import Repositories
from tests.storage.test_inbox_and_lease import update

NOW = datetime(2026, 12, 1, tzinfo=UTC)


async def test_concurrent_items_share_one_write_and_each_gets_its_result(
    database: Database,
) -> None:
    writes: list[list[tuple[int, str]]] = []

    async def store(repos: Repositories, items: Sequence[tuple[int, str]]) -> list[bool]:
        writes.append(list(items))
        new = await repos.inbox.receive_many(items, NOW)
        return [update_id in new for update_id, _ in items]

    async with database.transaction() as repos:
        await repos.inbox.receive(3, "{}", NOW)  # received before
    batched = BatchedWrite(database, store)
    results = await asyncio.gather(*(batched.submit((i, "{}")) for i in range(1, 101)))
    assert results == [i != 3 for i in range(1, 101)]
    # The first item's unit starts at once; the rest arrive meanwhile and share the next one.
    assert len(writes) <= 2
    assert sorted(i for write in writes for i, _ in write) == list(range(1, 101))
    async with database.transaction() as repos:
        assert len(await repos.inbox.unhandled()) == 100


async def test_a_neighbour_failing_reruns_the_same_items(database: Database) -> None:
    calls: list[list[int]] = []

    async def mark(repos: Repositories, items: Sequence[int]) -> list[None]:
        calls.append(list(items))
        await repos.inbox.receive_many([(i, "{}") for i in items], NOW)
        return [None] * len(items)

    async def failing(repos: Repositories) -> None:
        await repos.inbox.receive(999, "{}", NOW)
        raise ValueError("this unit fails")

    batched = BatchedWrite(database, mark)
    submitted = [asyncio.create_task(batched.submit(i)) for i in (1, 2, 3)]
    await asyncio.sleep(0)  # they are gathered; their unit is about to be queued
    bad = asyncio.create_task(database.batched(failing))  # queued right after it
    assert await asyncio.gather(*submitted) == [None, None, None]
    with pytest.raises(ValueError, match="this unit fails"):
        await bad
    async with database.transaction() as repos:
        assert [u.update_id for u in await repos.inbox.unhandled()] == [1, 2, 3]  # not 999
    assert calls == [[1, 2, 3], [1, 2, 3]]  # rolled back with its neighbour, run again


async def test_every_caller_of_a_failed_write_gets_the_error(database: Database) -> None:
    async def broken(repos: Repositories, items: Sequence[int]) -> list[None]:
        raise RuntimeError("disk full")

    batched = BatchedWrite(database, broken)
    outcomes = await asyncio.gather(*(batched.submit(i) for i in range(5)), return_exceptions=True)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    async with database.transaction() as repos:
        assert await repos.inbox.unhandled() == []  # nothing written


async def test_an_update_twice_in_one_batch_is_handled_once(database: Database) -> None:
    inbox = Inbox()
    inbox.open(database, ManualClock(NOW))
    firsts = await asyncio.gather(*(inbox.receive(update(n)) for n in (4, 4, 5)))
    assert firsts == [True, False, True]
    await asyncio.gather(inbox.handled(4), inbox.handled(5))
    async with database.transaction() as repos:
        assert await repos.inbox.unhandled() == []
