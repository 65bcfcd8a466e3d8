"""One running instance per database: a lease row with a heartbeat.

Two processes polling one bot fight over ``getUpdates`` (409 Conflict) and would both run the
due work. So the process that runs the bot holds the ``instance_lease`` row and renews it
every ``ttl / 5``. A process that finds the row held watches the holder's heartbeat: if it
moves, the holder is alive and this process refuses to start (:class:`InstanceRunning`); if
it stops (the holder was killed), the lease expires ``ttl`` after the last heartbeat and this
process takes it over. A clean shutdown deletes the row, so a restart need not wait.

Lease times are wall-clock times (``SystemClock``), whatever clock the services use: they
are about whether a process is alive, not about the consultation's calendar.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import timedelta

from bot.clock import Clock, SystemClock
from storage.database import Database
from storage.records import Lease

log = logging.getLogger(__name__)

LEASE_NAME = "bot"
HEARTBEATS_PER_TTL = 5


class InstanceRunning(Exception):
    """Another live process holds the lease on this database."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        super().__init__(
            f"Another Yishi instance is running on this database ({lease.holder}, running "
            f"since {lease.acquired_at:%Y-%m-%d %H:%M:%S} UTC; its heartbeat is fresh). "
            "Two instances would fight over getUpdates (409 Conflict) and run due work twice, "
            "so this one does not start. Stop the other instance first; if it was killed, its "
            "lease expires by itself (YISHI_LEASE_TTL after its last heartbeat)."
        )


def process_name() -> str:
    """Who holds a lease, as an operator would look for it: host and process id."""
    return f"{socket.gethostname()} pid {os.getpid()} ({secrets.token_hex(3)})"


class InstanceLease:
    def __init__(
        self,
        *,
        ttl: timedelta,
        holder: str | None = None,
        clock: Clock | None = None,
        name: str = LEASE_NAME,
    ) -> None:
        if ttl <= timedelta():
            raise ValueError("the lease needs a positive ttl")
        self.ttl = ttl
        self.holder = holder or process_name()
        self.name = name
        self.lost = False
        self._clock = clock or SystemClock()
        self._db: Database | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    @property
    def interval(self) -> float:
        return self.ttl.total_seconds() / HEARTBEATS_PER_TTL

    @property
    def held(self) -> bool:
        return self._db is not None

    async def acquire(self, database: Database) -> None:
        """Take the lease, waiting for a killed holder's lease to expire.

        Raises :class:`InstanceRunning` as soon as the holder shows it is alive (its heartbeat
        moves while we watch), which takes at most about one heartbeat interval.
        """
        watched: Lease | None = None
        while True:
            now = self._clock.now()
            async with database.transaction() as repos:
                before = await repos.leases.current(self.name)
                if await repos.leases.take(self.name, self.holder, now, now + self.ttl):
                    break
                current = await repos.leases.current(self.name)
            if current is None:
                continue  # released in between: take it now
            if watched is not None and (
                current.holder != watched.holder or current.heartbeat_at != watched.heartbeat_at
            ):
                raise InstanceRunning(current)
            if watched is None:
                log.warning(
                    "the lease is held by %s (last heartbeat %s UTC): waiting to see whether "
                    "it is alive or its lease expires",
                    current.holder,
                    f"{current.heartbeat_at:%H:%M:%S}",
                )
            watched = current
            until_expiry = (current.expires_at - self._clock.now()).total_seconds()
            await asyncio.sleep(max(0.05, min(until_expiry + 0.05, self.interval * 1.5)))
        if before is not None and before.holder != self.holder:
            log.warning(
                "took over the lease of %s, whose last heartbeat was at %s UTC",
                before.holder,
                f"{before.heartbeat_at:%H:%M:%S}",
            )
        self._db = database

    def keep(self, on_lost: Callable[[], object]) -> None:
        """Renew the lease until :meth:`release`; ``on_lost()`` if another process took it."""
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat(on_lost), name="lease heartbeat")

    async def _beat(self, on_lost: Callable[[], object]) -> None:
        while self._db is not None:
            await asyncio.sleep(self.interval)
            now = self._clock.now()
            try:
                async with self._db.transaction() as repos:
                    kept = await repos.leases.renew(self.name, self.holder, now, now + self.ttl)
            except Exception:
                log.exception("could not renew the lease; trying again")
                continue
            if not kept:
                log.critical(
                    "another instance took over the lease of this database (this process "
                    "missed its heartbeats for longer than %s): stopping",
                    self.ttl,
                )
                self.lost = True
                self._db = None
                on_lost()
                return

    async def release(self) -> None:
        """Stop the heartbeat and give the lease up, so that a restart takes it at once."""
        task, self._heartbeat = self._heartbeat, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        database, self._db = self._db, None
        if database is not None:
            async with database.transaction() as repos:
                await repos.leases.release(self.name, self.holder)
