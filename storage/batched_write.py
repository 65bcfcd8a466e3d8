"""One statement for many callers: the rows submitted meanwhile, written together.

Group commit (storage/group_commit.py) shares a transaction among concurrent units, but each
unit still runs its own statements: a hundred updates fetched by one ``getUpdates`` were a
hundred inserts, each a round trip to PostgreSQL and a pass through SQLAlchemy's execution
machinery. A :class:`BatchedWrite` gathers the items submitted while its previous unit waits
for a transaction and writes them with one statement (an executemany, ``IN (...)``) in one
unit. Each caller is answered once that unit's transaction committed, with its own item's
result, so "returned" still means "durable".

The items are fixed when the unit first runs: group commit may run a unit again (in a
savepoint, or alone after a failed batch) and it then writes the same items. Items submitted
after that go to the next unit. If the write fails, every caller of that unit gets the error.
An item whose result is a :class:`WroteNothing` is answered as soon as the write returned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from storage.group_commit import WroteNothing
from storage.repositories import Repositories

if TYPE_CHECKING:
    from storage.database import Database

I = TypeVar("I")  # noqa: E741 (an item)
R = TypeVar("R")

# Write the items (in the order submitted) and return each one's result, in the same order.
Write = Callable[[Repositories, Sequence[I]], Awaitable[Sequence[R]]]


class _Gathering(Generic[I, R]):
    def __init__(self) -> None:
        self.items: list[I] = []
        self.waiting: list[asyncio.Future[R]] = []


class BatchedWrite(Generic[I, R]):
    def __init__(self, database: Database, write: Write[I, R], *, reads: bool = False) -> None:
        """``reads``: ``write`` only reads (who may see a page, say): its unit runs as
        ``Database.read``, beside the group commit on PostgreSQL."""
        self._db = database
        self._write = write
        self._run = database.read if reads else database.batched
        self._open: _Gathering[I, R] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, item: I) -> R:
        gathering = self._open
        if gathering is None:
            gathering = self._open = _Gathering()
            task = asyncio.create_task(self._commit(gathering))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        gathering.items.append(item)
        gathering.waiting.append(future)
        return await future

    async def _commit(self, gathering: _Gathering[I, R]) -> None:
        async def unit(repos: Repositories) -> Sequence[R]:
            if self._open is gathering:  # from now on, items go to the next unit
                self._open = None
            results = await self._write(repos, gathering.items)
            for future, result in zip(gathering.waiting, results, strict=True):
                if isinstance(result, WroteNothing) and not future.done():
                    future.set_result(result)  # nothing to wait for (see group_commit.py)
            return results

        try:
            results = await self._run(unit)
        except BaseException as error:
            if self._open is gathering:
                self._open = None
            for future in gathering.waiting:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for future, result in zip(gathering.waiting, results, strict=True):
            if not future.done():
                future.set_result(result)
