"""``yishi status``: the facts behind ``/readyz``, read from the database, for a person.

It works whether the bot runs or not (and says which): the database answers or not, who holds
the lease and how fresh its heartbeat is, when an update was last handled, the outbox's
backlog, how late due work is and the escalations waiting. When the bot's health endpoint
(``YISHI_HEALTH_LISTEN``) answers for the lease's holder, its view of the connection to
Telegram is shown too. Exit status 0 when ready, 1 when not.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.clock import Clock, SystemClock
from bot.health import DATABASE_TIMEOUT, TIMER_LAG_BOUND
from bot.lease import LEASE_NAME
from bot.settings import Settings
from storage import migrate
from storage.database import Database
from storage.records import Lease
from storage.repositories.operations import OperationalFacts

ENDPOINT_TIMEOUT = 2.0  # seconds


@dataclass
class Status:
    database: str  # the URL without its password
    lines: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems

    def add(self, label: str, text: str, problem: str | None = None) -> None:
        self.lines.append((label, text))
        if problem is not None:
            self.problems.append(problem)

    def render(self) -> str:
        width = max(len(label) for label, _ in self.lines) if self.lines else 0
        out = [f"Yishi on {self.database}"]
        out += [f"  {label.ljust(width)}  {text}" for label, text in self.lines]
        if self.ready:
            out.append("Ready.")
        else:
            out.append("NOT ready: " + "; ".join(self.problems) + ".")
        return "\n".join(out)


async def read_status(settings: Settings, clock: Clock | None = None) -> Status:
    now = (clock or SystemClock()).now()
    wall = SystemClock().now()
    url = make_url(settings.database_url)
    status = Status(url.render_as_string(hide_password=True))
    if _no_sqlite_file(settings.database_url):  # opening it would create an empty one
        status.add("database", "cannot be reached (no such file)", "the database cannot be reached")
        return status
    database = Database(settings.database_url)
    try:
        read = await asyncio.wait_for(_read(database, now), DATABASE_TIMEOUT + 7)
    except Exception as error:
        why = "no answer" if isinstance(error, TimeoutError) else type(error).__name__
        status.add("database", f"cannot be reached ({why})", "the database cannot be reached")
        return status
    finally:
        await database.close()
    revision, facts, lease = read
    if revision is None:
        status.add("database", "answers, but holds no Yishi tables", "run `yishi db upgrade`")
        return status
    status.add("database", f"answers (schema revision {revision})")
    running = _describe_lease(status, lease, wall, settings.lease_ttl)
    if running and lease is not None:
        _ask_the_bot(status, settings, lease)
    assert facts is not None
    _describe_facts(status, facts, now)
    return status


def _no_sqlite_file(database_url: str) -> bool:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return False
    return not Path(str(url.database)).is_file()


async def _read(
    database: Database, now: datetime
) -> tuple[str | None, OperationalFacts | None, Lease | None]:
    revision = await migrate.current_revision(database)
    if revision is None:
        return None, None, None
    async with database.transaction() as repos:
        return revision, await repos.operations.facts(now), await repos.leases.current(LEASE_NAME)


def _describe_lease(status: Status, lease: Lease | None, wall: datetime, ttl: timedelta) -> bool:
    if lease is None:
        status.add("bot", "not running (no instance holds the lease)", "the bot is not running")
        return False
    beat = _ago(wall - lease.heartbeat_at)
    if lease.expires_at <= wall:
        status.add(
            "bot",
            f"not running: {lease.holder} stopped its heartbeat {beat} ago (killed?); "
            "the next start takes the lease over",
            "the bot is not running",
        )
        return False
    status.add(
        "bot",
        f"running: {lease.holder}, since {lease.acquired_at:%Y-%m-%d %H:%M:%S} UTC, "
        f"heartbeat {beat} ago (every {_ago(ttl / 5)})",
    )
    return True


def _ask_the_bot(status: Status, settings: Settings, lease: Lease) -> None:
    """The bot's own readiness, if its endpoint answers for the lease's holder."""
    address = settings.health_address
    if address is None:
        status.add("updates", "unknown (YISHI_HEALTH_LISTEN is off)")
        return
    host, port = address
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=ENDPOINT_TIMEOUT) as answer:
            body: dict[str, Any] = json.loads(answer.read())
    except urllib.error.HTTPError as error:  # 503: not ready, with the same body
        body = json.loads(error.read())
    except (OSError, ValueError):
        status.add("updates", f"unknown (the health endpoint {url} does not answer)")
        return
    if body.get("lease_holder") != lease.holder:
        status.add("updates", f"unknown ({url} is another instance's)")
        return
    for name, check in body.get("checks", {}).items():
        if name in ("updates",):
            problem = None if check.get("ok") else "the bot is not receiving updates"
            status.add(name, str(check.get("detail")), problem)


def _describe_facts(status: Status, facts: OperationalFacts, now: datetime) -> None:
    if facts.last_update_handled is None:
        status.add("last update", "none handled in the last two days")
    else:
        status.add("last update", f"handled {_ago(now - facts.last_update_handled)} ago")
    if facts.outbox_backlog == 0:
        status.add("outbox", "nothing waiting")
    else:
        oldest = _ago(now - facts.outbox_oldest) if facts.outbox_oldest else "?"
        status.add("outbox", f"{facts.outbox_backlog} waiting, the oldest for {oldest}")
    if facts.due_oldest is None:
        status.add("due work", "nothing is due")
    else:
        lag = max(timedelta(), now - facts.due_oldest)
        late = lag >= TIMER_LAG_BOUND
        status.add(
            "due work",
            f"{facts.due_pending} due, the oldest {_ago(lag)} late",
            f"due work is more than {_ago(TIMER_LAG_BOUND)} late" if late else None,
        )
    if not facts.escalations:
        status.add("escalations", "none waiting")
    for counts in facts.escalations:
        status.add(
            "escalations", f"{counts.level}: {counts.open} open, {counts.overdue} past their SLA"
        )


def _ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
