"""Messages kept in step with the database, refreshed with coalesced edits.

However fast changes come, one item's messages are synced at most once per ``interval``,
always once more after the last change, and one sync per item at a time (a sync that posts a
message records its id before the next one reads it, or the next would post it again).
Subclasses say how to sync one item; every sync reads the current state, so a lost edit
heals on the next one.

The edits these background refreshes make give way to the chat's other sends (``priority``
is ``Priority.REFRESH`` unless a kind says otherwise: escalation cards go as announcements):
under Telegram's 20 a minute per group, a ballot message edited every ``interval`` would
otherwise take a flooded group's whole budget and hold back the replies to its commands. A
skipped edit costs nothing; the next one shows it all.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from datetime import timedelta

from telegram.error import RetryAfter

from channels.telegram.ratelimit import Priority, sending_as

log = logging.getLogger(__name__)

GOLDEN = 0.6180339887498949  # (sqrt 5 - 1) / 2: multiples of it mod 1 spread evenly


def seconds(value: timedelta | int) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class CoalescedRefresh:
    what = "item"

    def __init__(self, *, interval: float, priority: Priority = Priority.REFRESH) -> None:
        self._interval = interval
        self._priority = priority
        self._dirty: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._last_sync: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._backlog: deque[int] = deque()
        self._backlog_task: asyncio.Task[None] | None = None
        self._closing = False
        self._syncs_in_flight = 0
        self._no_sync_in_flight = asyncio.Event()
        self._no_sync_in_flight.set()

    def touch(self, key: int) -> None:
        """The item changed: its messages will be refreshed (coalesced)."""
        self._dirty.add(key)
        task = self._tasks.get(key)
        if task is None or task.done():
            self._tasks[key] = asyncio.create_task(self._refresh_loop(key))

    def touch_later(self, keys: Iterable[int]) -> None:
        """Refresh these items in the background, one at a time (after a restart: every open
        item). A task per item at once would, with 100,000 open topics, hold start-up and
        every update behind 100,000 syncs and take hundreds of megabytes."""
        self._backlog.extend(keys)
        if self._backlog_task is None or self._backlog_task.done():
            self._backlog_task = asyncio.create_task(self._drain_backlog())

    async def _drain_backlog(self) -> None:
        with sending_as(self._priority):
            await self._drain()

    async def _drain(self) -> None:
        while self._backlog:
            key = self._backlog.popleft()
            if key in self._tasks:
                continue  # a change is being refreshed already
            try:
                await self.sync(key)
            except RetryAfter as error:
                self._backlog.append(key)
                await asyncio.sleep(seconds(error.retry_after))
            except Exception:
                log.exception("refreshing the messages of %s %s failed", self.what, key)

    async def idle(self) -> None:
        """Wait until no refresh is pending (tests and the demo)."""
        while self._tasks or (self._backlog_task is not None and not self._backlog_task.done()):
            pending = list(self._tasks.values())
            if self._backlog_task is not None:
                pending.append(self._backlog_task)
            await asyncio.gather(*pending, return_exceptions=True)

    async def close(self, grace: float = 0.0) -> None:
        """Start no more syncs, let those in flight finish for up to ``grace`` seconds (a
        message posted and not recorded would be posted again after a restart), then stop."""
        self._closing = True
        try:
            await asyncio.wait_for(self._no_sync_in_flight.wait(), grace)
        except TimeoutError:
            log.warning("stopping with %s messages still being synced", self.what)
        if self._backlog_task is not None:
            self._backlog_task.cancel()
            await asyncio.gather(self._backlog_task, return_exceptions=True)
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

    def _on_slot(self, key: int, due: float) -> float:
        """The first time from ``due`` on that falls on the item's slot: a phase within the
        interval, spread evenly over consecutive keys (golden-ratio steps). Items changed
        together (a burst of votes on every topic) are then refreshed one after another
        across the interval rather than all at once, which would stall everything else."""
        if self._interval <= 0:
            return due
        phase = (key * GOLDEN) % 1.0 * self._interval
        return due + (phase - due) % self._interval

    async def sync(self, key: int) -> None:
        """Bring the item's messages in step now (one sync per item at a time)."""
        async with self._locks.setdefault(key, asyncio.Lock()):
            if self._closing:
                return
            self._syncs_in_flight += 1
            self._no_sync_in_flight.clear()
            try:
                await self._sync(key)
            finally:
                self._syncs_in_flight -= 1
                if self._syncs_in_flight == 0:
                    self._no_sync_in_flight.set()

    async def _sync(self, key: int) -> None:
        raise NotImplementedError

    async def _refresh_loop(self, key: int) -> None:
        with sending_as(self._priority):
            await self._refresh(key)

    async def _refresh(self, key: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            while key in self._dirty:
                due = self._last_sync.get(key, float("-inf")) + self._interval
                if due > loop.time():
                    await asyncio.sleep(self._on_slot(key, due) - loop.time())
                self._dirty.discard(key)
                self._last_sync[key] = loop.time()
                try:
                    await self.sync(key)
                except RetryAfter as error:
                    self._dirty.add(key)
                    await asyncio.sleep(seconds(error.retry_after))
                except Exception:
                    log.exception("refreshing the messages of %s %s failed", self.what, key)
        finally:
            self._tasks.pop(key, None)
