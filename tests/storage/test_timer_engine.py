"""Due work runs exactly once: with two workers at once, after failures, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.bus import EventBus
from bot.clock import ManualClock
from bot.outbox import DeliveryError, OutboxSender
from bot.services.announcements import TopicClosed
from bot.services.events import DomainEvent, TopicChanged
from bot.services.unit_of_work import UnitOfWork, Work
from bot.timers import TimerEngine
from storage.database import Database
from storage.records import DueTimer, OutboxMessage

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


async def test_every_due_timer_runs_once_even_with_two_workers(database: Database) -> None:
    clock = ManualClock(NOW)
    ran: list[str] = []
    published: list[DomainEvent] = []
    bus = EventBus()

    async def sink(events: Sequence[DomainEvent]) -> None:
        published.extend(events)

    bus.subscribe(sink)

    async def handler(work: Work, timer: DueTimer, now: datetime) -> None:
        ran.append(timer.ref)
        await work.audit.record(action="timer.ran", actor_id=None, now=now, ref=timer.ref)
        work.record(TopicChanged(int(timer.ref)))

    engines = [TimerEngine(UnitOfWork(database, bus), clock, realtime=False) for _ in range(2)]
    for engine in engines:
        engine.on("test", handler)
    async with database.transaction() as repos:
        for index in range(20):
            await repos.timers.schedule("test", str(index), NOW + timedelta(minutes=index))
    assert await engines[0].run_due() == 1  # only the one due now
    clock.advance(timedelta(hours=1))
    await asyncio.gather(engines[0].run_due(), engines[1].run_due())
    assert sorted(ran, key=int) == [str(i) for i in range(20)]
    assert sorted(published, key=str) == sorted((TopicChanged(i) for i in range(20)), key=str)
    async with database.transaction() as repos:
        audit = await repos.audit.recent(limit=100)
    assert len(audit) == 20


async def test_a_failing_timer_rolls_back_and_is_retried_later(database: Database) -> None:
    clock = ManualClock(NOW)
    attempts: list[int] = []

    async def flaky(work: Work, timer: DueTimer, now: datetime) -> None:
        attempts.append(timer.attempts)
        await work.audit.record(action="half.done", actor_id=None, now=now)
        if len(attempts) == 1:
            raise RuntimeError("the network blinked")

    engine = TimerEngine(UnitOfWork(database, EventBus()), clock, realtime=False)
    engine.on("flaky", flaky)
    async with database.transaction() as repos:
        await repos.timers.schedule("flaky", "x", NOW)
    assert await engine.run_due() == 0
    async with database.transaction() as repos:
        assert await repos.audit.recent() == []  # the effect was rolled back with the claim
        timer = await repos.timers.get("flaky", "x")
    assert timer is not None and timer.due_at == NOW + timedelta(seconds=5)
    clock.advance(timedelta(seconds=5))
    assert await engine.run_due() == 1
    assert attempts == [0, 1]


async def test_a_batch_kind_runs_its_due_timers_together_once(database: Database) -> None:
    clock = ManualClock(NOW)
    batches: list[list[str]] = []

    async def together(work: Work, due: Sequence[DueTimer], now: datetime) -> None:
        batches.append([timer.ref for timer in due])
        for timer in due:
            await work.audit.record(action="batch.ran", actor_id=None, now=now, ref=timer.ref)

    engines = [
        TimerEngine(UnitOfWork(database, EventBus()), clock, realtime=False) for _ in range(2)
    ]
    for engine in engines:
        engine.on_batch("batch", together)
    async with database.transaction() as repos:
        for index in range(30):
            await repos.timers.schedule("batch", str(index), NOW)
    results = await asyncio.gather(engines[0].run_due(), engines[1].run_due())
    assert sum(results) == 30
    ran = sorted((ref for batch in batches for ref in batch), key=int)
    assert ran == [str(i) for i in range(30)]  # each once, though two engines raced
    assert len(batches) <= 2  # in one transaction per engine, not one per timer
    async with database.transaction() as repos:
        assert len(await repos.audit.recent(limit=100)) == 30


async def test_a_failing_batch_falls_back_to_one_at_a_time(database: Database) -> None:
    clock = ManualClock(NOW)
    seen: list[list[str]] = []

    async def picky(work: Work, due: Sequence[DueTimer], now: datetime) -> None:
        seen.append([timer.ref for timer in due])
        for timer in due:
            await work.audit.record(action="batch.ran", actor_id=None, now=now, ref=timer.ref)
        if any(timer.ref == "bad" for timer in due):
            raise RuntimeError("one bad row")

    engine = TimerEngine(UnitOfWork(database, EventBus()), clock, realtime=False)
    engine.on_batch("batch", picky)
    async with database.transaction() as repos:
        for ref in ("a", "bad", "c"):
            await repos.timers.schedule("batch", ref, NOW)
    assert await engine.run_due() == 2
    assert sorted(seen[0]) == ["a", "bad", "c"]  # together first
    # then each alone (group commit may run a unit again after a neighbour failed)
    assert set(map(tuple, seen[1:])) == {("a",), ("bad",), ("c",)}
    async with database.transaction() as repos:
        refs = [entry.details["ref"] for entry in await repos.audit.recent(limit=100)]
        bad = await repos.timers.get("batch", "bad")
    assert sorted(refs) == ["a", "c"]  # the failed batch and the bad one left nothing behind
    assert bad is not None and bad.due_at == NOW + timedelta(seconds=5)  # postponed, pending
    clock.advance(timedelta(seconds=5))
    assert await engine.run_due() == 0  # still failing: tried again, postponed again


class FlakyAnnouncer:
    def __init__(self, failures: list[DeliveryError]) -> None:
        self.failures = failures
        self.delivered: list[int] = []

    async def deliver(self, message: OutboxMessage) -> int:
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(message.id)
        return 1000 + message.id


async def test_the_outbox_retries_with_backoff_and_gives_up_on_gone_chats(
    database: Database,
) -> None:
    clock = ManualClock(NOW)
    sender = OutboxSender(database, clock)
    announcer = FlakyAnnouncer(
        [DeliveryError("429", retry_after=7), DeliveryError("502"), DeliveryError("403", True)]
    )
    sender.attach(announcer)
    async with database.transaction() as repos:
        first = await repos.outbox.add(chat_id=-1, announcement=TopicClosed(topic_id=1), now=NOW)
        second = await repos.outbox.add(chat_id=-2, announcement=TopicClosed(topic_id=1), now=NOW)
    assert await sender.flush() == 0  # 429 on the first, 502 on the second
    clock.advance(timedelta(seconds=1))
    assert await sender.flush() == 0  # the first waits out its retry_after; the second, 403
    clock.advance(timedelta(seconds=6))
    assert await sender.flush() == 1  # the first arrives
    assert announcer.delivered == [first]
    async with database.transaction() as repos:
        assert await repos.outbox.telegram_id(first) == 1000 + first
        assert await repos.outbox.telegram_id(second) is None  # the chat is gone: given up
        assert await repos.outbox.pending(NOW + timedelta(days=1)) == []
