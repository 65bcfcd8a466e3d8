"""The unit of work: a transaction's repositories and the domain events recorded in it,
published on the bus once the transaction committed.

    async with self._uow.transaction() as repos:
        ...
        repos.record(TopicChanged(topic.id))

Services record what happened (:meth:`Work.record`) inside the transaction and return only
their results. The events are published after the commit and dropped when the transaction
rolls back (a refusal, an error), so nothing is announced that did not happen, and no caller
publishes by hand.

A group-committed unit (:meth:`UnitOfWork.batched`, storage/group_commit.py) may be run more
than once: within a savepoint after a neighbour failed, or alone after the shared transaction
failed. Each run records on fresh work; only the run that committed is published, once the
transaction holding it committed. A unit that returns a ``WroteNothing`` records nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bus import EventBus
from bot.services.events import DomainEvent
from storage.database import Database
from storage.repositories import Repositories

T = TypeVar("T")


class Work(Repositories):
    """The repositories of one transaction, and the events recorded in it."""

    def __init__(self, connection: AsyncConnection) -> None:
        super().__init__(connection)
        self.events: list[DomainEvent] = []

    def record(self, event: DomainEvent) -> None:
        """``event`` happened in this transaction: published if it commits."""
        self.events.append(event)

    def record_all(self, events: Iterable[DomainEvent]) -> None:
        self.events.extend(events)


WorkUnit = Callable[[Work], Awaitable[T]]


class UnitOfWork:
    """Hands out transactions as :class:`Work`; publishes what each recorded once it committed."""

    def __init__(self, database: Database, bus: EventBus) -> None:
        self.database = database
        self._bus = bus

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Work]:
        """One transaction: committed when the block ends, then its events published; rolled
        back if it raises, and its events dropped."""
        async with self.database.connection_in_transaction() as connection:
            work = Work(connection)  # the repositories once, with the events beside them
            yield work
        await self._bus.publish(work.events)

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        """Events of a change that already committed (a web vote's, after its batched ballot):
        published without a transaction of their own."""
        await self._bus.publish(events)

    async def batched(self, unit: WorkUnit[T]) -> T:
        """``unit`` in a transaction shared with concurrent short units (``Database.batched``);
        its events are published once that transaction committed."""
        committed: list[DomainEvent] = []

        async def run(repos: Repositories) -> T:
            work = Work(repos.connection)
            result = await unit(work)
            committed[:] = work.events  # a run again replaces what an undone run recorded
            return result

        result = await self.database.batched(run)
        await self._bus.publish(committed)
        return result
