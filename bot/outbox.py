"""Delivery of announcements written to the outbox, retried until they arrive.

The outbox row is written in the transaction of the change it announces; this sender
renders and delivers it through a transport (``Announcer``), then marks it sent. Network
errors, 5xx and 429 are retried with backoff (429: after the ``retry_after`` Telegram asked
for), and the sender wakes itself up when the earliest retry falls due. A message is given
up with a warning when it can never be delivered (Telegram refused it, or the chat is gone)
or after ``MAX_ATTEMPTS`` failures (about two and a half hours of them). When the chat is
gone (the bot was removed from the group, or a user blocked it) the ``on_chat_gone``
callbacks hear of it: the binding is paused and the parent node told, a digest subscription
ends. A group that became a supergroup (Telegram answers with its new id) is moved there at
once by the ``on_chat_migrated`` callback (every row that addresses it, this chat's queued
messages included) and the message sent again to the new id straight away, as are the chat's
next messages.

Delivery is at least once: a message Telegram accepted just before a crash, or whose answer
was lost, is sent again (docs/RELIABILITY.md). A row that takes several Telegram messages (a
digest) keeps each of them as a part of its own (``bot.outbox_parts``), so that is one part,
never the whole. At a graceful stop (``drain``) no new send starts, and the sends in flight
finish and are marked, within a grace period.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from storage.database import Database
from storage.records import OutboxMessage, Platform, on_telegram
from storage.repositories import Repositories

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 24
MIN_BACKOFF = timedelta(seconds=1)
MAX_BACKOFF = timedelta(minutes=10)
RETRY_AFTER_FAILED_FLUSH = timedelta(seconds=30)
PAGE = 200  # pending messages read at a time

ChatGone = Callable[[int, str], Awaitable[object]]
ChatMigrated = Callable[[int, int], Awaitable[object]]


@dataclass
class DeliveryError(Exception):
    """Why a message could not be delivered now (``permanent``: never will be).

    ``gone`` is the bot's status in a chat that will take no more messages from it
    ("kicked": removed from the group or blocked by the user; "left": no longer a member).
    ``migrated_to``: the group became a supergroup with this id.
    """

    reason: str
    permanent: bool = False
    retry_after: float | None = None
    gone: str | None = None
    migrated_to: int | None = None


class DeliveryInterrupted(Exception):
    """The sender is stopping between the parts of a message: the rest waits for the next
    start (the row is left as it is; this is no failure)."""


class Announcer(Protocol):
    async def deliver(self, message: OutboxMessage) -> int:
        """Render and send the message; returns the transport's message id."""
        ...


# A row for a chat whose platform has no channel running in this process is tried again
# this much later (the process that runs that channel, or the next start, delivers it).
NO_CHANNEL_RETRY = 600.0


class AnnouncersByPlatform:
    """Each row to the announcer of its chat's platform (Telegram's ids are below
    FIRST_FOREIGN_ID: no read for them; another platform's chat is looked up)."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._announcers: dict[Platform, Announcer] = {}

    def add(self, platform: Platform, announcer: Announcer) -> None:
        self._announcers[platform] = announcer

    async def deliver(self, message: OutboxMessage) -> int:
        platform = Platform.TELEGRAM
        if not on_telegram(message.chat_id):
            async with self._db.transaction() as repos:
                found = await repos.chats.address_of(message.chat_id)
            if found is None:
                raise DeliveryError("the chat is unknown", permanent=True)
            platform = found[0]
        announcer = self._announcers.get(platform)
        if announcer is None:
            raise DeliveryError(f"no {platform} channel running", retry_after=NO_CHANNEL_RETRY)
        return await announcer.deliver(message)


class OutboxSender:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock
        self._announcer: AnnouncersByPlatform | None = None
        self._lock = asyncio.Lock()
        self._again = False
        self._gone: dict[str, Callable[[int], Awaitable[None]]] = {}
        self._chat_gone: list[ChatGone] = []
        self._chat_migrated: ChatMigrated | None = None
        self._wake: asyncio.TimerHandle | None = None
        self._wakings: set[asyncio.Task[None]] = set()
        self._stopping = False

    def attach(self, announcer: Announcer, platform: Platform = Platform.TELEGRAM) -> None:
        """Deliver the rows for ``platform``'s chats through ``announcer``."""
        if self._announcer is None:
            self._announcer = AnnouncersByPlatform(self._db)
        self._announcer.add(platform, announcer)

    def when_gone(self, kind: str, callback: Callable[[int], Awaitable[None]]) -> None:
        """Call ``callback(chat_id)`` when a ``kind`` message finds its chat gone for good."""
        self._gone[kind] = callback

    def on_chat_gone(self, callback: ChatGone) -> None:
        """Call ``callback(chat_id, status)`` when any message finds its chat gone for good."""
        self._chat_gone.append(callback)

    def on_chat_migrated(self, callback: ChatMigrated) -> None:
        """Call ``callback(old_chat_id, new_chat_id)`` when a group turns out to have become a
        supergroup; it moves the chat's rows (pending messages included) to the new id."""
        self._chat_migrated = callback

    @property
    def stopping(self) -> bool:
        """True once ``drain`` began: no send may start any more."""
        return self._stopping

    async def flush(self) -> int:
        """Deliver everything pending now; returns how many were sent."""
        if self._announcer is None or self._stopping:
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

    async def drain(self, grace: float) -> bool:
        """Start no more sends, and wait up to ``grace`` seconds for those in flight to be
        delivered and marked (a graceful stop); False if some were still running then."""
        self._stopping = True
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None
        try:
            await asyncio.wait_for(self._lock.acquire(), grace)
        except TimeoutError:
            return False
        self._lock.release()
        return True

    async def close(self) -> None:
        """Stop the wake-ups (at shutdown)."""
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None
        for task in list(self._wakings):
            task.cancel()
        await asyncio.gather(*self._wakings, return_exceptions=True)

    async def _deliver_pending(self, announcer: Announcer) -> int:
        sent = 0
        while True:
            async with self._db.transaction() as repos:
                pending = await repos.outbox.pending(self._clock.now(), limit=PAGE)
            if not pending:
                return sent
            # Chats at once, each chat's messages in order: the "sent" marks of different
            # chats then share transactions (Database.batched) instead of one commit each.
            by_chat: dict[int, list[OutboxMessage]] = {}
            for message in pending:
                by_chat.setdefault(message.chat_id, []).append(message)
            counts = await asyncio.gather(
                *(self._deliver_in_order(announcer, messages) for messages in by_chat.values())
            )
            if not any(counts):
                return sent
            sent += sum(counts)

    async def _deliver_in_order(self, announcer: Announcer, messages: list[OutboxMessage]) -> int:
        delivered = 0
        moved_to: int | None = None
        for message in messages:
            if self._stopping:
                break
            if moved_to is not None:  # moved with the first one: its row says so already
                message = replace(message, chat_id=moved_to, reply_to=None)
            sent, moved_to = await self._deliver_one(announcer, message)
            delivered += sent
        return delivered

    async def _deliver_one(
        self, announcer: Announcer, message: OutboxMessage
    ) -> tuple[bool, int | None]:
        """Deliver one message; (delivered, the chat's new id if it became a supergroup)."""
        moved_to = None
        try:
            try:
                telegram_id = await announcer.deliver(message)
            except DeliveryError as error:
                moved_to = error.migrated_to
                if moved_to is None or self._chat_migrated is None:
                    raise
                log.info("chat %s is now the supergroup %s", message.chat_id, moved_to)
                await self._chat_migrated(message.chat_id, moved_to)
                message = replace(message, chat_id=moved_to, reply_to=None)
                telegram_id = await announcer.deliver(message)
        except DeliveryError as error:
            await self._failed(message, error)
            return False, moved_to
        except DeliveryInterrupted:
            return False, moved_to
        now = self._clock.now()

        async def mark_sent(repos: Repositories) -> None:
            await repos.outbox.sent(message.id, telegram_id=telegram_id, now=now)

        await self._db.batched(mark_sent)
        return True, moved_to

    async def _failed(self, message: OutboxMessage, error: DeliveryError) -> None:
        now = self._clock.now()
        if not error.permanent and message.attempts + 1 < MAX_ATTEMPTS:
            if error.retry_after is not None:
                delay = max(timedelta(seconds=error.retry_after), MIN_BACKOFF)
            else:
                delay = min(timedelta(seconds=2**message.attempts), MAX_BACKOFF)
            log.info(
                "outbox %s to %s failed (%s); trying again in %s",
                message.id,
                message.chat_id,
                error.reason,
                delay,
            )
            async with self._db.transaction() as repos:
                await repos.outbox.retry_later(message.id, at=now + delay, error=error.reason)
            self._wake_at(now + delay)
            return
        log.warning(
            "giving up on outbox %s (%s) to %s: %s",
            message.id,
            message.kind,
            message.chat_id,
            error.reason,
        )
        async with self._db.transaction() as repos:
            await repos.outbox.give_up(message.id, error=error.reason)
        if error.gone is None:
            return
        callback = self._gone.get(message.kind)
        if callback is not None:
            await callback(message.chat_id)
        for on_gone in self._chat_gone:
            await on_gone(message.chat_id, error.gone)
        self._again = True  # a callback may have queued mail (the parent node is told)

    # Waking up for retries ---------------------------------------------------------------

    def _wake_at(self, moment: datetime) -> None:
        """Flush again when ``moment`` comes (one timer: the earliest retry)."""
        loop = asyncio.get_running_loop()
        when = loop.time() + max((moment - self._clock.now()).total_seconds(), 0.0)
        if self._wake is not None:
            if self._wake.when() <= when:
                return
            self._wake.cancel()
        self._wake = loop.call_at(when, self._woken)

    def _woken(self) -> None:
        self._wake = None
        task = asyncio.create_task(self._flush_quietly())
        self._wakings.add(task)
        task.add_done_callback(self._wakings.discard)

    async def _flush_quietly(self) -> None:
        try:
            await self.flush()
        except Exception as error:  # e.g. the database is away: try again a little later
            log.warning("delivering the outbox failed: %r", error)
            self._wake_at(self._clock.now() + RETRY_AFTER_FAILED_FLUSH)
