"""Due work kept in the database, carried out exactly once.

Deadlines, SLAs, reminders and digests are rows with ``due_at`` (``storage.tables.timers``).
``TimerEngine.run_due`` claims each due row and performs its effect in ONE transaction, so a
crash either leaves the row pending (it runs after restart) or done together with its effect
(it never runs twice). APScheduler only wakes the process up at the next ``due_at`` and on a
safety interval; at start-up everything that fell due while the bot was down runs once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from storage.records import DueTimer

if TYPE_CHECKING:  # bot.services imports this module
    from bot.services.unit_of_work import UnitOfWork, Work

log = logging.getLogger(__name__)

# A handler does the timer's effect inside the claiming transaction and records its events on
# that transaction's work; they are published once it committed (e.g. "topic 12 changed":
# refresh its messages), and never when it rolled back.
TimerHandler = Callable[["Work", DueTimer, datetime], Awaitable[None]]
# A batch handler does the effect of several due timers of one kind in one transaction (closing
# hundreds of topics with a few set-based statements instead of a few statements each).
BatchTimerHandler = Callable[["Work", Sequence[DueTimer], datetime], Awaitable[None]]

SAFETY_INTERVAL = timedelta(seconds=30)
# Due work done this much after its time is late: the bot was down, not merely busy. What is
# late says so where people see it (a reminder, a digest, an SLA's send-up: docs/RELIABILITY.md).
LATE_AFTER = timedelta(minutes=10)
MAX_BACKOFF = timedelta(minutes=30)
DUE_BATCH = 200


def late_since(timer: DueTimer, now: datetime) -> datetime | None:
    """The time ``timer`` was due, if it runs late (``LATE_AFTER``); else None."""
    return timer.due_at if now - timer.due_at > LATE_AFTER else None


class TimerEngine:
    def __init__(self, uow: UnitOfWork, clock: Clock, *, realtime: bool = True) -> None:
        self._uow = uow
        self._db = uow.database
        self._clock = clock
        self._realtime = realtime
        self._handlers: dict[str, TimerHandler] = {}
        self._batch_handlers: dict[str, BatchTimerHandler] = {}
        self._lock = asyncio.Lock()
        self._scheduler: AsyncIOScheduler | None = None

    def on(self, kind: str, handler: TimerHandler) -> None:
        self._handlers[kind] = handler

    def on_batch(self, kind: str, handler: BatchTimerHandler) -> None:
        """Handle the due timers of ``kind`` together; one at a time if a batch fails."""
        self._batch_handlers[kind] = handler

        async def one(work: Work, timer: DueTimer, now: datetime) -> None:
            await handler(work, [timer], now)

        self._handlers[kind] = one

    async def run_due(self) -> int:
        """Carry out every timer due by now; returns how many ran."""
        async with self._lock:
            ran = 0
            while True:
                now = self._clock.now()
                async with self._db.transaction() as repos:
                    due = await repos.timers.due(now, limit=DUE_BATCH)
                if not due:
                    break
                batches: dict[str, list[DueTimer]] = {}
                singles: list[DueTimer] = []
                for timer in due:
                    if timer.kind in self._batch_handlers:
                        batches.setdefault(timer.kind, []).append(timer)
                    else:
                        singles.append(timer)
                # Together, so their transactions commit in groups (Database.batched).
                outcomes = await asyncio.gather(
                    *(self._run_batch(kind, timers, now) for kind, timers in batches.items()),
                    *(self._run_one(timer, now) for timer in singles),
                )
                ran += sum(outcomes)
        await self._schedule_next_wakeup()
        return ran

    async def _run_batch(self, kind: str, due: list[DueTimer], now: datetime) -> int:
        """Claim and carry out ``due`` in one transaction; if that fails, one by one (the
        failed transaction's events were dropped with it: each is published once)."""
        handler = self._batch_handlers[kind]

        async def claim_and_run(work: Work) -> int:
            claimed = await work.timers.claim_many([timer.id for timer in due], now)
            mine = [timer for timer in due if timer.id in claimed]
            if mine:
                await handler(work, mine, now)
            return len(mine)

        try:
            return await self._uow.batched(claim_and_run)
        except Exception:
            log.warning("%d %s timers failed together; running them one by one", len(due), kind)
        return sum(await asyncio.gather(*(self._run_one(timer, now) for timer in due)))

    async def _run_one(self, timer: DueTimer, now: datetime) -> int:
        handler = self._handlers.get(timer.kind)

        async def claim_and_run(work: Work) -> int:
            if not await work.timers.claim(timer.id, now):
                return 0
            if handler is None:
                log.error("no handler for timer kind %r (%s): dropped", timer.kind, timer.ref)
                return 1
            await handler(work, timer, now)
            return 1

        try:
            # The claim and the effect still share one transaction (with other timers').
            return await self._uow.batched(claim_and_run)
        except Exception as error:
            backoff = min(timedelta(seconds=5 * 2**timer.attempts), MAX_BACKOFF)
            log.exception("timer %s %s failed; retrying in %s", timer.kind, timer.ref, backoff)
            async with self._db.transaction() as repos:
                await repos.timers.postpone(timer.id, now + backoff, repr(error))
            return 0

    # Waking up ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the wake-ups (only with a real clock: tests and the demo move time themselves)."""
        if not self._realtime:
            return
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.run_due, "interval", seconds=SAFETY_INTERVAL.total_seconds(), id="safety"
        )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def _schedule_next_wakeup(self) -> None:
        if self._scheduler is None:
            return
        async with self._db.transaction() as repos:
            upcoming = await repos.timers.next_due()
        if upcoming is not None:
            self._scheduler.add_job(
                self.run_due, "date", run_date=upcoming, id="next", replace_existing=True
            )
