"""Group commit: many short write units, one transaction, each caller answered once durable.

A commit costs far more than the few statements of a ballot (SQLite syncs its WAL, PostgreSQL
its log), so units that arrive while a transaction is committing wait and go together in the
next one. An idle database commits a lone unit at once; a busy one commits in batches as large
as the load. Every caller's ``run`` returns only after the transaction holding its unit has
committed, so "answered" still means "durable".

A unit is a function of the transaction's repositories. It must only touch the database (it
can be run again: see below) and keep to its own rows' logic, as a transaction of its own would.

* A unit that raises gets its exception, and nothing it wrote is kept: the batch is rolled
  back and the other units are run again, now each within a savepoint, so a second failure
  only undoes itself.
* If the transaction itself fails (the commit, a lost connection, PostgreSQL choosing it as a
  deadlock's victim), each unit is run again in a transaction of its own, so one bad unit
  cannot take its neighbours down with it and a transient failure is no unit's answer.

A unit that stops before writing anything (a vote that must ask Telegram about a membership
first) returns a :class:`WroteNothing`: its caller is answered as soon as it ran, without
waiting for the rest of the batch and the commit, as there is nothing to make durable. Run
again (above), it changes nothing and its second result is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from storage.repositories import Repositories

if TYPE_CHECKING:
    from storage.database import Database

log = logging.getLogger(__name__)

T = TypeVar("T")
Unit = Callable[[Repositories], Awaitable[T]]
MAX_BATCH = 500
# Turns of the event loop between a commit and the next transaction: one for the committed
# units' callers to go on (a press's answer sent), then what a message already on the socket
# takes to become a unit (read, parsed, handled up to its submit), so that it joins the next
# batch rather than the one after. Measured on WeCom's presses: 1 turn against none,
# 5,311-5,575 -> 5,943-6,041 presses/s; 4 against 1, 6,269-6,616 -> 6,920-6,995.
TURNS_AFTER_COMMIT = 4


@dataclass
class _Pending(Generic[T]):
    work: Unit[T]
    future: asyncio.Future[T]
    result: Any = None
    error: BaseException | None = None


class WroteNothing:
    """A unit's result (or its base class) saying the unit wrote nothing: see above."""


class _UnitFailed(Exception):
    def __init__(self, pending: _Pending[Any]) -> None:
        super().__init__("a unit of the batch failed")
        self.pending = pending


class GroupCommit:
    def __init__(
        self, database: Database, *, max_batch: int = MAX_BATCH, concurrency: int = 1
    ) -> None:
        """``concurrency``: transactions at once (SQLite: 1, it has one writer; PostgreSQL
        more, as each statement waits for a round trip to the server)."""
        self._db = database
        self._max_batch = max_batch
        self._concurrency = concurrency
        self._queue: list[_Pending[Any]] = []
        self._flushers: set[asyncio.Task[None]] = set()
        self.transactions = 0  # how many transactions committed units (benchmarks read it)
        self.units = 0

    async def run(self, work: Unit[T]) -> T:
        """Run ``work`` in a shared transaction; returns its result once that committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(work, future))
        # A flusher that returned is done() before its callback leaves the set: count live ones.
        if sum(not flusher.done() for flusher in self._flushers) < self._concurrency:
            flusher = asyncio.create_task(self._flush())
            self._flushers.add(flusher)
            flusher.add_done_callback(self._flushers.discard)
        return await future

    async def close(self) -> None:
        """Let the units already submitted commit."""
        await asyncio.gather(*self._flushers, return_exceptions=True)

    async def _flush(self) -> None:
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            try:
                await self._commit(batch)
            except BaseException as error:  # cancelled (shutdown): nobody waits forever
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(error)
                raise
            # The batch's callers go on before the next transaction starts: on SQLite a
            # transaction holds the event loop until it commits, so their answers (a press's
            # card) would wait for the next batch's commit. The turns after it let what
            # already arrived join that batch (docs/PERFORMANCE.md, the WeCom section).
            for _ in range(TURNS_AFTER_COMMIT):
                await asyncio.sleep(0)

    async def _commit(self, batch: list[_Pending[Any]]) -> None:
        savepoints = False
        while batch:
            try:
                await self._in_one_transaction(batch, savepoints=savepoints)
            except _UnitFailed as failed:  # only without savepoints: undo all, run the rest
                self._settle(failed.pending)
                batch = [pending for pending in batch if pending is not failed.pending]
                savepoints = True
                continue
            except Exception:
                log.warning("a batch of %d units failed; each runs alone", len(batch))
                await self._one_by_one(batch)
                return
            self.transactions += 1
            self.units += len(batch)
            for pending in batch:
                self._settle(pending)
            return

    async def _in_one_transaction(self, batch: list[_Pending[Any]], *, savepoints: bool) -> None:
        async with self._db.transaction() as repos:
            for pending in batch:
                pending.error = None
                if savepoints:
                    try:
                        async with repos.connection.begin_nested():
                            pending.result = await pending.work(repos)
                    except Exception as error:
                        pending.error = error
                    continue
                try:
                    pending.result = await pending.work(repos)
                except Exception as error:
                    if _transient(error):
                        raise  # not this unit's fault: each runs again alone (_commit)
                    pending.error = error
                    raise _UnitFailed(pending) from error
                if isinstance(pending.result, WroteNothing):
                    self._settle(pending)  # nothing to wait for

    async def _one_by_one(self, batch: list[_Pending[Any]]) -> None:
        for pending in batch:
            try:
                async with self._db.transaction() as repos:
                    pending.result = await pending.work(repos)
                pending.error = None
            except Exception as error:
                pending.error = error
            self._settle(pending)

    @staticmethod
    def _settle(pending: _Pending[Any]) -> None:
        if pending.future.done():  # its caller was cancelled meanwhile
            return
        if pending.error is not None:
            pending.future.set_exception(pending.error)
        else:
            pending.future.set_result(pending.result)


# PostgreSQL's "deadlock detected" and "could not serialize": the transaction, not the unit, failed.
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def _transient(error: BaseException) -> bool:
    seen: BaseException | None = error
    for _ in range(4):  # SQLAlchemy's error -> the adapter's -> asyncpg's
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) in _TRANSIENT_SQLSTATES:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False
