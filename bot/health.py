"""Is the bot alive, and ready? The facts behind ``/healthz``, ``/readyz`` and ``/metrics``.

Ready means every check passes:

- ``database``: the database answers a few aggregate queries within ``DATABASE_TIMEOUT``;
- ``lease``: this process holds the instance lease (bot/lease.py) and the row in the database
  still says so, unexpired: a process whose heartbeats stall could be taken over;
- ``updates``: updates can come in. Long polling: the last ``getUpdates`` answered 200, and
  not too long ago (a long poll lasts ``poll timeout`` seconds, so a silent one is a stuck
  one). Webhook mode: the server is up and Telegram accepted ``setWebhook``;
- ``due_work``: the oldest due work that has not run (deadlines, SLAs, reminders, digests) is
  less than ``TIMER_LAG_BOUND`` late. After an outage it is late until the catch-up is done.

Alive (``/healthz``) is only that the process's event loop answers: restart on that, alert on
readiness.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock, SystemClock
from bot.lease import InstanceLease
from bot.metrics import Metrics, Snapshot
from channels.telegram.transport import Call, WrappedRequest
from storage.database import Database
from storage.records import Lease
from storage.repositories.operations import OperationalFacts

DATABASE_TIMEOUT = 3.0  # seconds for the readiness queries
TIMER_LAG_BOUND = timedelta(minutes=5)  # the safety wake-up runs every 30 s
# A long poll answers within its timeout (10 s for `yishi run`) plus the read timeout (15 s).
POLL_SILENCE_BOUND = 60.0  # seconds


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: dict[str, Check]
    lease: Lease | None
    facts: OperationalFacts | None
    now: datetime

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in self.checks.items()},
            "lease_holder": self.lease.holder if self.lease else None,
        }


class PollWatch(WrappedRequest):
    """The ``getUpdates`` transport, noting when a call last answered and how."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.answered_at: float | None = None  # time.monotonic()
        self.status: int | None = None  # None: no answer yet, or the last call failed
        self.error: str | None = None

    async def around(self, endpoint: str, call: Call) -> tuple[int, bytes]:
        try:
            status, payload = await call()
        except Exception as error:
            self.status, self.error = None, type(error).__name__
            self.answered_at = time.monotonic()
            raise
        self.status, self.error, self.answered_at = status, None, time.monotonic()
        return status, payload

    def check(self) -> Check:
        if self.answered_at is None:
            return Check(False, "polling: no answer from getUpdates yet")
        silent = time.monotonic() - self.answered_at
        if self.status != 200:
            why = self.error or f"HTTP {self.status}"
            return Check(False, f"polling: the last getUpdates failed ({why})")
        if silent > POLL_SILENCE_BOUND:
            return Check(False, f"polling: no answer from getUpdates for {silent:.0f} s")
        return Check(True, f"polling: getUpdates answered {silent:.0f} s ago")


class Health:
    """The readiness checks of one application; storage is attached once it is open."""

    def __init__(
        self,
        *,
        lease: InstanceLease,
        metrics: Metrics,
        updates: Callable[[], Check],
        clock: Clock,
    ) -> None:
        self.lease = lease
        self.metrics = metrics
        self._updates = updates
        self._clock = clock  # the services' clock: due work is late by its time
        self._wall = SystemClock()  # the lease's times are wall-clock times
        self.database: Database | None = None

    async def readiness(self) -> Readiness:
        now = self._clock.now()
        checks: dict[str, Check] = {}
        facts: OperationalFacts | None = None
        lease: Lease | None = None
        database = self.database
        if database is None:
            checks["database"] = Check(False, "storage is not open (starting or stopping)")
        else:
            try:
                facts, lease = await asyncio.wait_for(self._read(database, now), DATABASE_TIMEOUT)
                checks["database"] = Check(True, f"{database.dialect} answered")
            except TimeoutError:
                checks["database"] = Check(False, f"no answer within {DATABASE_TIMEOUT:.0f} s")
            except Exception as error:
                checks["database"] = Check(False, f"unreachable ({type(error).__name__})")
        checks["lease"] = self._lease_check(lease, facts is not None)
        checks["updates"] = self._updates()
        checks["due_work"] = _due_work_check(facts, now)
        readiness = Readiness(checks, lease, facts, now)
        self.metrics.observe(
            Snapshot(
                now=now,
                wall=self._wall.now(),
                facts=facts,
                lease=lease,
                lease_ours=checks["lease"].ok,
                checks={name: check.ok for name, check in checks.items()},
            )
        )
        return readiness

    async def _read(
        self, database: Database, now: datetime
    ) -> tuple[OperationalFacts, Lease | None]:
        async with database.transaction() as repos:
            facts = await repos.operations.facts(now)
            lease = await repos.leases.current(self.lease.name)
        return facts, lease

    def _lease_check(self, row: Lease | None, read: bool) -> Check:
        if self.lease.lost:
            return Check(False, "another instance took the lease over: this one stops")
        if not self.lease.held:
            return Check(False, "this process does not hold the lease (yet)")
        if not read:
            return Check(False, "the lease cannot be read (the database did not answer)")
        if row is None or row.holder != self.lease.holder:
            holder = row.holder if row else "nobody"
            return Check(False, f"the database says the lease is held by {holder}")
        if row.expires_at <= self._wall.now():
            return Check(
                False, f"the lease expired at {row.expires_at:%H:%M:%S} UTC (heartbeats stalled)"
            )
        return Check(True, f"held by {row.holder}")


def _due_work_check(facts: OperationalFacts | None, now: datetime) -> Check:
    if facts is None:
        return Check(False, "unknown (the database did not answer)")
    if facts.due_oldest is None:
        return Check(True, "nothing is due")
    lag = max(timedelta(), now - facts.due_oldest)
    text = f"{facts.due_pending} due, the oldest {lag.total_seconds():.0f} s late"
    return Check(
        lag < TIMER_LAG_BOUND,
        text + ("" if lag < TIMER_LAG_BOUND else f" (bound {TIMER_LAG_BOUND})"),
    )
