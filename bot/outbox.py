"""Delivery of announcements written to the outbox, retried until they arrive.

The outbox row is written in the transaction of the change it announces; this sender
renders and delivers it through a transport (``Announcer``), then marks it sent. Network
errors, 5xx and 429 are retried with backoff; a chat that is gone is given up with a log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.clock import Clock
from storage.database import Database
from storage.records import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_BACKOFF = timedelta(minutes=10)


@dataclass
class DeliveryError(Exception):
    """Why a message could not be delivered now (``permanent``: never will be)."""

    reason: str
    permanent: bool = False
    retry_after: float | None = None


class Announcer(Protocol):
    async def deliver(self, message: OutboxMessage) -> int:
        """Render and send the message; returns the transport's message id."""
        ...


class OutboxSender:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock
        self._announcer: Announcer | None = None
        self._lock = asyncio.Lock()
        self._again = False
        self._gone: dict[str, Callable[[int], Awaitable[None]]] = {}

    def attach(self, announcer: Announcer) -> None:
        self._announcer = announcer

    def when_gone(self, kind: str, callback: Callable[[int], Awaitable[None]]) -> None:
        """Call ``callback(chat_id)`` when a ``kind`` message finds its chat gone for good."""
        self._gone[kind] = callback

    async def flush(self) -> int:
        """Deliver everything pending now; returns how many were sent."""
        if self._announcer is None:
            return 0
        if self._lock.locked():
            self._again = True
            return 0
        sent = 0
        async with self._lock:
            self._again = True
            while self._again:
                self._again = False
                sent += await self._deliver_pending(self._announcer)
        return sent

    async def _deliver_pending(self, announcer: Announcer) -> int:
        sent = 0
        while True:
            async with self._db.transaction() as repos:
                pending = await repos.outbox.pending(self._clock.now())
            if not pending:
                return sent
            progressed = False
            for message in pending:
                if await self._deliver_one(announcer, message):
                    sent += 1
                    progressed = True
            if not progressed:
                return sent

    async def _deliver_one(self, announcer: Announcer, message: OutboxMessage) -> bool:
        try:
            telegram_id = await announcer.deliver(message)
        except DeliveryError as error:
            await self._failed(message, error)
            return False
        async with self._db.transaction() as repos:
            await repos.outbox.sent(message.id, telegram_id=telegram_id, now=self._clock.now())
        return True

    async def _failed(self, message: OutboxMessage, error: DeliveryError) -> None:
        now = self._clock.now()
        async with self._db.transaction() as repos:
            if error.permanent or message.attempts + 1 >= MAX_ATTEMPTS:
                log.warning(
                    "giving up on outbox %s to %s: %s", message.id, message.chat_id, error.reason
                )
                await repos.outbox.give_up(message.id, error=error.reason)
            else:
                if error.retry_after is not None:
                    delay = timedelta(seconds=error.retry_after)
                else:
                    delay = min(timedelta(seconds=2**message.attempts), MAX_BACKOFF)
                await repos.outbox.retry_later(message.id, at=now + delay, error=error.reason)
                return
        callback = self._gone.get(message.kind) if error.permanent else None
        if callback is not None:
            await callback(message.chat_id)
