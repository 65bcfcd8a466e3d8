"""The unit of work publishes what a transaction recorded only once it committed: never for a
transaction that rolled back, once for a group-committed unit however often it ran, once for
a timer that failed and was retried (both databases)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bot.bus import EventBus
from bot.clock import ManualClock
from bot.services.events import DomainEvent, OutboxQueued, TopicChanged
from bot.services.unit_of_work import UnitOfWork, Work
from bot.timers import TimerEngine
from storage.database import Database
from storage.records import DueTimer

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


class Sink:
    """A subscriber: what was published, and what the database said when it was."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.published: list[DomainEvent] = []
        self.audit_seen: list[int] = []

    async def __call__(self, events: Sequence[DomainEvent]) -> None:
        self.published.extend(events)
        async with self.database.transaction() as repos:  # a transaction of its own
            self.audit_seen.append(len(await repos.audit.recent(limit=100)))


def unit_of_work(database: Database) -> tuple[UnitOfWork, Sink]:
    bus = EventBus()
    sink = Sink(database)
    bus.subscribe(sink)
    return UnitOfWork(database, bus), sink


async def audited(work: Work, ref: int) -> int:
    await work.audit.record(action="test.done", actor_id=None, now=NOW, ref=ref)
    work.record(TopicChanged(ref))
    return ref


async def test_the_subscriber_sees_the_committed_change(database: Database) -> None:
    uow, sink = unit_of_work(database)
    async with uow.transaction() as work:
        await audited(work, 1)
        work.record(OutboxQueued())
        assert sink.published == []  # not while the transaction is open
    assert sink.published == [TopicChanged(1), OutboxQueued()]
    assert sink.audit_seen == [1]  # the sink read the change: it had committed


async def test_an_event_of_a_transaction_that_raises_is_never_published(
    database: Database,
) -> None:
    uow, sink = unit_of_work(database)
    with pytest.raises(ValueError, match="refused after recording"):
        async with uow.transaction() as work:
            await audited(work, 1)
            raise ValueError("refused after recording")
    async with uow.transaction() as work:
        assert await work.audit.recent() == []
    assert sink.published == []


async def test_a_failing_group_committed_unit_publishes_nothing_and_its_neighbours_once(
    database: Database,
) -> None:
    uow, sink = unit_of_work(database)
    runs: list[int] = []

    def counted(ref: int) -> Callable[[Work], Awaitable[int]]:
        async def unit(work: Work) -> int:
            runs.append(ref)
            return await audited(work, ref)

        return unit

    async def half_then_fail(work: Work) -> None:
        await audited(work, 99)
        raise ValueError("refused")

    outcomes = await asyncio.gather(
        uow.batched(counted(1)),
        uow.batched(half_then_fail),
        uow.batched(counted(2)),
        return_exceptions=True,
    )
    assert outcomes[0] == 1 and outcomes[2] == 2
    assert isinstance(outcomes[1], ValueError)
    assert runs.count(1) == 2  # in the batch that was undone, and again within a savepoint
    assert sorted(sink.published, key=str) == [TopicChanged(1), TopicChanged(2)]


class Deadlocked(Exception):
    """What PostgreSQL says of a deadlock's victim: the transaction failed, not the unit."""

    sqlstate = "40P01"


async def test_units_run_alone_after_a_failed_transaction_publish_once(
    database: Database,
) -> None:
    uow, sink = unit_of_work(database)
    runs: list[int] = []

    def unit(ref: int, *, deadlock_first: bool = False) -> Callable[[Work], Awaitable[int]]:
        async def run(work: Work) -> int:
            runs.append(ref)
            await audited(work, ref)
            if deadlock_first and runs.count(ref) == 1:
                raise Deadlocked("deadlock detected")
            return ref

        return run

    results = await asyncio.gather(
        uow.batched(unit(1)),
        uow.batched(unit(2, deadlock_first=True)),
        uow.batched(unit(3)),
    )
    assert results == [1, 2, 3]
    assert runs.count(1) == 2 and runs.count(2) == 2  # the batch, then each alone
    assert sorted(sink.published, key=str) == [TopicChanged(i) for i in (1, 2, 3)]


async def test_a_timer_that_fails_and_is_retried_publishes_once(database: Database) -> None:
    clock = ManualClock(NOW)
    uow, sink = unit_of_work(database)
    attempts: list[str] = []

    async def flaky(work: Work, due: Sequence[DueTimer], now: datetime) -> None:
        for timer in due:
            attempts.append(timer.ref)
            await audited(work, int(timer.ref))
        if sum(ref == "2" for ref in attempts) == 1 and any(t.ref == "2" for t in due):
            raise RuntimeError("the network blinked")

    engine = TimerEngine(uow, clock, realtime=False)
    engine.on_batch("flaky", flaky)
    async with database.transaction() as repos:
        for ref in ("1", "2", "3"):
            await repos.timers.schedule("flaky", ref, NOW)
    # Together first (2 fails, all undone), then one by one (2 succeeds): each published
    # once, though each ran twice.
    assert await engine.run_due() == 3
    assert attempts.count("1") == 2 and attempts.count("2") == 2
    assert sorted(sink.published, key=str) == [TopicChanged(i) for i in (1, 2, 3)]

    async def fails_once(work: Work, timer: DueTimer, now: datetime) -> None:
        await audited(work, 7)
        if timer.attempts == 0:
            raise RuntimeError("the network blinked")

    engine.on("single", fails_once)
    async with database.transaction() as repos:
        await repos.timers.schedule("single", "7", NOW)
    sink.published.clear()
    assert await engine.run_due() == 0  # failed: rolled back, postponed, nothing published
    assert sink.published == []
    clock.advance(timedelta(seconds=5))
    assert await engine.run_due() == 1
    assert sink.published == [TopicChanged(7)]
