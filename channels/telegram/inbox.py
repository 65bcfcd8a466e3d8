"""The durable inbox: an update is in the database before Telegram hears it arrived.

python-telegram-bot's Updater confirms a batch of updates (its next ``getUpdates`` carries a
higher offset) as soon as it has queued them, before any handler ran, and drops what is still
queued when it stops: a crash, even a restart, could lose updates. Here the queue that the
Updater and the webhook server put updates into (:class:`InboxQueue`) first stores each one
in the ``inbox`` table, so an update is stored before the ``getUpdates`` that confirms it is
sent (and before a webhook request is answered). The update processor
(:class:`InboxProcessor`) marks it handled once its handlers have finished, erasing the stored
JSON, which can say who pressed which button of a secret ballot. At start-up, updates stored
but never marked handled are processed again, oldest first (:meth:`Inbox.replay`).

So every update is handled at least once, and a redelivered one (already in the inbox) is
not handled a second time. An update whose handling a crash cut short is handled again after
the restart: a vote is keyed by (topic, voter) and a due timer is claimed in the transaction
of its effect, so repeating those changes nothing (see docs/RELIABILITY.md for the rest).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor, ExtBot
from telegram.request import BaseRequest

from bot.clock import Clock, SystemClock
from bot.metrics import Metrics
from channels.telegram.ordering import UpdateOrder
from channels.telegram.transport import (
    DEFAULT_NONE,
    Call,
    DefaultValue,
    JSONDict,
    ODVInput,
    TimePeriod,
    WrappedRequest,
)
from storage.batched_write import BatchedWrite
from storage.database import Database
from storage.repositories import Repositories

log = logging.getLogger(__name__)

# Telegram keeps an unconfirmed update for 24 hours: an id handled before that cannot come back.
KEEP_HANDLED = timedelta(days=2)
PRUNE_EVERY = 1000  # handled updates (and at start-up)
MAX_RETRY_DELAY = 30.0
MAX_IN_HAND = 500  # updates fetched and not yet handled, at most (memory: ~11 KB each)


class Inbox:
    """The inbox's two ends, for ``ApplicationBuilder.update_queue`` and
    ``.concurrent_updates``; storage opens in ``post_init`` (:meth:`open`)."""

    def __init__(self, *, concurrent_updates: int = 1, metrics: Metrics | None = None) -> None:
        self.metrics = metrics or Metrics()
        self.queue = InboxQueue(self)
        self.processor = InboxProcessor(self, concurrent_updates)
        self._db: Database | None = None
        self._clock: Clock = SystemClock()
        # The updates stored, and those marked handled, meanwhile: one statement each.
        self._receiving: BatchedWrite[tuple[int, str], bool] | None = None
        # The JSON each polled update came as, by id, until stored (PollingBot fills it):
        # storing it as it came costs a fraction of serialising the parsed Update again.
        self.fetched: dict[int, str] = {}
        self._marking: BatchedWrite[int, None] | None = None
        # While polling, an update is stored concurrently with those fetched with it (one
        # group commit for the whole getUpdates batch): the next getUpdates waits for all of
        # them (InboxGate) and an update is handled only once stored (InboxProcessor).
        self.deferred = False
        self._storing: dict[int, asyncio.Task[bool]] = {}  # by id(update)
        self._unsettled: set[asyncio.Task[bool]] = set()
        self._handled = 0
        self.in_hand = 0  # updates queued or being handled
        self._progress = asyncio.Event()

    def open(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock
        self._receiving = BatchedWrite(database, self._store)
        self._marking = BatchedWrite(database, self._mark_handled)

    async def _store(self, repos: Repositories, updates: Sequence[tuple[int, str]]) -> list[bool]:
        new = await repos.inbox.receive_many(updates, self._clock.now())
        first = [update_id in new for update_id, _ in updates]
        seen: set[int] = set()
        for index, (update_id, _) in enumerate(updates):  # twice at once: the first is new
            first[index] = first[index] and update_id not in seen
            seen.add(update_id)
        return first

    async def _mark_handled(self, repos: Repositories, update_ids: Sequence[int]) -> list[None]:
        await repos.inbox.handled_many(update_ids, self._clock.now())
        return [None] * len(update_ids)

    def close(self) -> None:
        self._db = None

    async def receive(self, update: Update) -> bool:
        """Store a fetched update; False if it was received before (Telegram redelivered it).

        A database that does not answer holds polling up (with growing pauses) rather than
        letting an update be confirmed unstored.
        """
        payload = self.fetched.pop(update.update_id, None) or update.to_json()
        delay = 0.5
        while self._db is not None and (receiving := self._receiving) is not None:
            try:  # one statement, one commit, with the rest of its getUpdates batch
                return await receiving.submit((update.update_id, payload))
            except Exception:
                log.exception(
                    "could not store update %s in the inbox; trying again in %.1f s",
                    update.update_id,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
        return True  # storage is not open (tests building the application without running it)

    def start_receiving(self, update: Update) -> None:
        """Store the update in the background (see ``deferred``)."""
        task = asyncio.create_task(self.receive(update))
        self._storing[id(update)] = task
        self._unsettled.add(task)
        task.add_done_callback(self._unsettled.discard)

    async def stored(self) -> None:
        """Wait until every update received so far is stored."""
        while self._unsettled:
            await asyncio.wait(set(self._unsettled))

    async def first_time(self, update: Update) -> bool:
        """Once stored: False if the update had been received before (a redelivery)."""
        task = self._storing.pop(id(update), None)
        return True if task is None else await task

    async def handled(self, update_id: int) -> None:
        if self._db is None or self._marking is None:
            return
        try:
            await self._marking.submit(update_id)
        except Exception:  # it stays unhandled and is handled again after a restart
            log.exception("could not mark update %s handled", update_id)
        self._handled += 1
        database = self._db
        if database is not None and self._handled % PRUNE_EVERY == 0:  # ids kept for 2 days
            try:
                async with database.transaction() as repos:
                    await repos.inbox.prune(self._clock.now() - KEEP_HANDLED)
            except Exception:
                log.exception("could not forget old inbox rows")

    def finished(self) -> None:
        self.in_hand -= 1
        self._progress.set()

    async def room(self) -> None:
        """Wait until fewer than MAX_IN_HAND updates are queued or being handled."""
        while self.in_hand >= MAX_IN_HAND:
            self._progress.clear()
            await self._progress.wait()

    async def replay(self, bot: Bot) -> int:
        """Queue the updates received but never handled (the last run stopped first)."""
        if self._db is None:
            return 0
        async with self._db.transaction() as repos:
            await repos.inbox.prune(self._clock.now() - KEEP_HANDLED)
            pending = await repos.inbox.unhandled()
        for stored in pending:
            try:
                update = Update.de_json(json.loads(stored.payload), bot)
            except Exception:
                log.exception("stored update %s cannot be read: dropped", stored.update_id)
                await self.handled(stored.update_id)
                continue
            await self.queue.requeue(update)
        if pending:
            log.info("handling %d update(s) received before the restart", len(pending))
        return len(pending)


class InboxQueue(asyncio.Queue[object]):
    """The application's update queue: an update is stored before it is queued."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self._inbox = inbox
        self.received = 0  # updates received (and stored) by this process

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            if self._inbox.deferred:
                self._inbox.start_receiving(item)  # checked by InboxProcessor once stored
            elif not await self._inbox.receive(item):
                log.info("update %s was received before: not handled again", item.update_id)
                return
            self.received += 1
            self._inbox.metrics.received(item)
        self._inbox.in_hand += 1
        await super().put(item)

    async def requeue(self, update: Update) -> None:
        """Queue an update that is in the inbox already."""
        self._inbox.in_hand += 1
        await super().put(update)


class InboxProcessor(BaseUpdateProcessor):
    """Runs an update's handlers, then marks it handled in the inbox."""

    def __init__(self, inbox: Inbox, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._inbox = inbox
        # a chat's and a user's updates in turn (channels/telegram/ordering.py)
        self._order = UpdateOrder()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await self._process(update, coroutine)
        finally:
            self._inbox.finished()

    async def _process(self, update: object, coroutine: Awaitable[Any]) -> None:
        async with self._order.turn(update):
            if isinstance(update, Update) and not await self._inbox.first_time(update):
                log.info("update %s was received before: not handled again", update.update_id)
                if inspect.iscoroutine(coroutine):
                    coroutine.close()
                return
            started = time.perf_counter()
            await coroutine
        if isinstance(update, Update):
            self._inbox.metrics.handled(update, time.perf_counter() - started)
            await self._inbox.handled(update.update_id)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class InboxGate(WrappedRequest):
    """The ``getUpdates`` transport: no ``getUpdates`` (which confirms the updates before it)
    is sent until every update fetched so far is stored. Its first call puts the inbox in
    ``deferred`` mode; a webhook never calls it, so there ``put`` stores each update first."""

    def __init__(self, inner: BaseRequest, inbox: Inbox) -> None:
        super().__init__(inner)
        self._inbox = inbox

    async def around(self, endpoint: str, call: Call) -> tuple[int, bytes]:
        self._inbox.deferred = True
        await self._inbox.room()  # fetch no more while many are in hand: Telegram keeps them
        await self._inbox.stored()
        return await call()


class PollingBot(ExtBot[Any]):
    """The bot, reading each fetched update on its own.

    python-telegram-bot reads a ``getUpdates`` batch as a whole: one update it cannot parse
    (a field it requires missing, a malformed value) fails the whole call, so the offset never
    advances and the Updater fetches the same batch again and again, in a tight loop, logging
    the raw batch (who pressed which button) at CRITICAL each time: polling stops there. Here
    an update that cannot be parsed is logged at WARNING by its id alone and replaced by an
    empty update with that id: the Updater confirms it like any other (it is not fetched
    again), the inbox records its id, no handler acts on it, and the rest of the batch is
    handled as usual.

    ``fetched``: where to keep the JSON of each update read, by id, for the inbox to store.
    """

    def __init__(self, *args: Any, fetched: dict[int, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fetched = fetched

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,  # noqa: ASYNC109 (Bot.get_updates' signature)
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        # What Bot.get_updates sends, and its read timeout: the long poll's time on top.
        data: JSONDict = {
            "timeout": timeout,
            "offset": offset,
            "limit": limit,
            "allowed_updates": allowed_updates,
        }
        if isinstance(read_timeout, DefaultValue):
            base = self._request[0].read_timeout or 0
        else:
            base = read_timeout or 0
        wait = timeout.total_seconds() if isinstance(timeout, timedelta) else (timeout or 0)
        result = await self._post(
            "getUpdates",
            data,
            read_timeout=base + wait,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        updates = tuple(update for update in (self.read_update(item) for item in result) if update)
        for update in updates:
            self.insert_callback_data(update)
        return updates

    def read_update(self, data: Any) -> Update | None:
        """One update as fetched or posted to the webhook; an empty update with its id if it
        cannot be read, None if it has no id either."""
        try:
            update = Update.de_json(data, self)
        except Exception as error:
            update_id = data.get("update_id") if isinstance(data, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                log.warning("an update without an id could not be read: skipped")
                return None
            # The error's text may quote the update (a secret ballot's press): its type only.
            log.warning(
                "update %s could not be read (%s): skipped", update_id, type(error).__name__
            )
            return Update(update_id=update_id)
        if self._fetched is not None:
            self._fetched[update.update_id] = json.dumps(data, ensure_ascii=False)
        return update
