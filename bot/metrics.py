"""Prometheus metrics: one registry per application (tests run several in one process).

Counters and histograms are moved where the work happens, at a few choke points, and cost a
lock and an addition each: the inbox (updates received and handled, by type, and the time
their handlers took), the ballot service (ballots cast), the transport and the rate limiter
(retries and 429s by Bot API method). Nothing on the vote path touches the database for a
metric. What lives in the database (the outbox's backlog, due work's lag, escalations open
and overdue, the lease) is read when ``/metrics`` is scraped (bot/health.py) and handed to
:meth:`Metrics.observe` before the exposition is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from storage.records import Lease
from storage.repositories.operations import OperationalFacts

if TYPE_CHECKING:
    from bot.services.topics.ballots import VoteReceipt

# The update types the bot asks for (channels.telegram.app.ALLOWED_UPDATES), in the order they are
# looked for.
UPDATE_TYPES = ("message", "edited_message", "callback_query", "my_chat_member", "chat_member")
OTHER = "other"
# Handler latency: a press is answered in milliseconds; a digest with a chart takes seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def update_type(update: object) -> str:
    """``callback_query``, ``message``...: the first field of the update that is set."""
    for name in UPDATE_TYPES:
        if getattr(update, name, None) is not None:
            return name
    return OTHER


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the database and the process said at the last scrape."""

    now: datetime  # the services' clock: due work, the outbox and updates are on its time
    wall: datetime  # the lease's heartbeats are wall-clock times
    facts: OperationalFacts | None  # None: the database did not answer
    lease: Lease | None
    lease_ours: bool
    checks: dict[str, bool]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates_received = Counter(
            "yishi_updates_received",
            "Updates received (stored in the inbox), by type",
            ["type"],
            registry=r,
        )
        self.updates_handled = Counter(
            "yishi_updates_handled",
            "Updates whose handlers have finished, by type",
            ["type"],
            registry=r,
        )
        self.handler_seconds = Histogram(
            "yishi_handler_duration_seconds",
            "Time an update's handlers took, by type",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ballots_cast = Counter(
            "yishi_ballots_cast",
            "Ballots recorded (a new one or a changed choice), by channel (button: a press)",
            ["channel", "change"],
            registry=r,
        )
        self.telegram_retries = Counter(
            "yishi_telegram_retries",
            "Bot API calls tried again, by method and cause (network, 5xx, 429)",
            ["method", "cause"],
            registry=r,
        )
        self.telegram_429 = Counter(
            "yishi_telegram_too_many_requests",
            "Bot API answers 429 Too Many Requests, by method",
            ["method"],
            registry=r,
        )
        # Children made once: the press path adds to a counter, it does not look one up.
        self._received = {
            name: self.updates_received.labels(name) for name in (*UPDATE_TYPES, OTHER)
        }
        self._handled = {name: self.updates_handled.labels(name) for name in (*UPDATE_TYPES, OTHER)}
        self._latency = {name: self.handler_seconds.labels(name) for name in (*UPDATE_TYPES, OTHER)}
        self._button_ballots = {
            changed: self.ballots_cast.labels("button", "changed" if changed else "new")
            for changed in (False, True)
        }
        self._scraped = ScrapedFacts()
        r.register(self._scraped)

    # The choke points -----------------------------------------------------------------------

    def received(self, update: object) -> None:
        self._received[update_type(update)].inc()

    def handled(self, update: object, seconds: float) -> None:
        kind = update_type(update)
        self._handled[kind].inc()
        self._latency[kind].observe(seconds)

    def button_ballot(self, receipt: VoteReceipt) -> None:
        """A press recorded a ballot (a new one, or a changed choice)."""
        self._button_ballots[receipt.changed].inc()

    def ballot(self, channel: str, *, changed: bool) -> None:
        """A ballot cast another way (the web, WeCom, an officer's offline record)."""
        self.ballots_cast.labels(channel, "changed" if changed else "new").inc()

    def retried(self, method: str, cause: str) -> None:
        self.telegram_retries.labels(method, cause).inc()

    def too_many_requests(self, method: str) -> None:
        self.telegram_429.labels(method).inc()

    # The exposition -------------------------------------------------------------------------

    def observe(self, snapshot: Snapshot) -> None:
        self._scraped.snapshot = snapshot

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class ScrapedFacts(Collector):
    """Gauges from the last :class:`Snapshot` (read from the database at scrape time)."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None

    def collect(self) -> Iterable[Metric]:
        snapshot = self.snapshot
        if snapshot is None:
            return []
        return list(self._families(snapshot))

    def _families(self, s: Snapshot) -> Iterator[Metric]:
        yield _gauge(
            "yishi_database_up", "1 if the database answered the scrape", int(s.facts is not None)
        )
        checks = GaugeMetricFamily(
            "yishi_ready_check", "1 if the readiness check passes", labels=["check"]
        )
        for name, ok in s.checks.items():
            checks.add_metric([name], int(ok))
        yield checks
        yield _gauge(
            "yishi_ready", "1 if every readiness check passes", int(all(s.checks.values()))
        )
        yield _gauge(
            "yishi_lease_held", "1 if this process holds the instance lease", int(s.lease_ours)
        )
        holder = GaugeMetricFamily(
            "yishi_lease_holder", "The process holding the lease (1)", labels=["holder"]
        )
        heartbeat = GaugeMetricFamily(
            "yishi_lease_heartbeat_age_seconds", "Seconds since the lease holder's heartbeat"
        )
        if s.lease is not None:
            holder.add_metric([s.lease.holder], 1)
            heartbeat.add_metric([], _age(s.wall, s.lease.heartbeat_at))
        yield holder
        yield heartbeat
        facts = s.facts
        if facts is None:
            return
        yield _gauge(
            "yishi_outbox_backlog", "Announcements waiting to be delivered", facts.outbox_backlog
        )
        yield _gauge(
            "yishi_outbox_oldest_age_seconds",
            "Age of the oldest undelivered announcement",
            _age(s.now, facts.outbox_oldest),
        )
        yield _gauge(
            "yishi_due_work_pending",
            "Due work (deadlines, SLAs, reminders, digests) whose time has come",
            facts.due_pending,
        )
        yield _gauge(
            "yishi_due_work_lag_seconds",
            "How late the oldest pending due work is",
            _age(s.now, facts.due_oldest),
        )
        opened = GaugeMetricFamily(
            "yishi_escalations_open", "Escalated matters waiting at a level", labels=["level"]
        )
        overdue = GaugeMetricFamily(
            "yishi_escalations_overdue", "Escalated matters past their SLA", labels=["level"]
        )
        for counts in facts.escalations:
            opened.add_metric([counts.level], counts.open)
            overdue.add_metric([counts.level], counts.overdue)
        yield opened
        yield overdue
        handled = GaugeMetricFamily(
            "yishi_last_update_handled_age_seconds", "Seconds since an update was last handled"
        )
        if facts.last_update_handled is not None:  # none yet: the family without a sample
            handled.add_metric([], _age(s.now, facts.last_update_handled))
        yield handled


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _age(now: datetime, since: datetime | None) -> float:
    return 0.0 if since is None else max(0.0, (now - since).total_seconds())
