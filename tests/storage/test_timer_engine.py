"""Due work runs exactly once: with two workers at once, after failures, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.bus import EventBus
from bot.clock import ManualClock
from bot.outbox import DeliveryError, OutboxSender
from bot.timers import TimerEngine
from storage.database import Database
from storage.records import DueTimer, OutboxMessage
from storage.repositories import Repositories

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


async def test_every_due_timer_runs_once_even_with_two_workers(database: Database) -> None:
    clock = ManualClock(NOW)
    ran: list[str] = []
    published: list[object] = []
    bus = EventBus()

    async def sink(events: Sequence[object]) -> None:
        published.extend(events)

    bus.subscribe(sink)

    async def handler(repos: Repositories, timer: DueTimer, now: datetime) -> Sequence[object]:
        ran.append(timer.ref)
        await repos.audit.record(action="timer.ran", actor_id=None, now=now, ref=timer.ref)
        return [timer.ref]

    engines = [TimerEngine(database, clock, bus, realtime=False) for _ in range(2)]
    for engine in engines:
        engine.on("test", handler)
    async with database.transaction() as repos:
        for index in range(20):
            await repos.timers.schedule("test", str(index), NOW + timedelta(minutes=index))
    assert await engines[0].run_due() == 1  # only the one due now
    clock.advance(timedelta(hours=1))
    await asyncio.gather(engines[0].run_due(), engines[1].run_due())
    assert sorted(ran, key=int) == [str(i) for i in range(20)]
    assert sorted(published, key=int) == [str(i) for i in range(20)]
    async with database.transaction() as repos:
        audit = await repos.audit.recent(limit=100)
    assert len(audit) == 20


async def test_a_failing_timer_rolls_back_and_is_retried_later(database: Database) -> None:
    clock = ManualClock(NOW)
    attempts: list[int] = []

    async def flaky(repos: Repositories, timer: DueTimer, now: datetime) -> Sequence[object]:
        attempts.append(timer.attempts)
        await repos.audit.record(action="half.done", actor_id=None, now=now)
        if len(attempts) == 1:
            raise RuntimeError("the network blinked")
        return []

    engine = TimerEngine(database, clock, EventBus(), realtime=False)
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
        first = await repos.outbox.add(chat_id=-1, kind="k", payload={}, now=NOW)
        second = await repos.outbox.add(chat_id=-2, kind="k", payload={}, now=NOW)
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
