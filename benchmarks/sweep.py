"""The due-work sweep: closing 10,000 due topics among 100,000, and the cost of a sweep with
nothing due at 10k, 100k and 1M open topics, with the query plans that keep it flat.

Closing a topic computes its outcome under its rule, keeps the record, queues the result
announcement in the outbox and, for a tie, escalates to the grid (an escalation with its SLA
timer). "Posting" the results is then the outbox delivering every announcement (rendered in
the chat's language and sent; the Bot API answers instantly here).

Baseline, same run: reading the due timers and their topics (the least any sweep must do).

    .venv/bin/python -m benchmarks.sweep [--db postgres] [--largest 1000000]
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from benchmarks.common import (
    Timer,
    bench_database,
    figure,
    heading,
    machine_note,
    median,
    parser,
    ratio,
)
from benchmarks.dataset import NOW, make_topics, make_tree
from bot.catalogue import load_catalogue
from bot.clock import ManualClock
from bot.services import Services
from bot.settings import load_settings
from storage import migrate
from storage.database import Database
from storage.tables import escalations, outbox, timers, topics


async def open_database(url: str) -> Database:
    database = Database(url)
    await migrate.upgrade(database)
    return database


def services_on(database: Database) -> Services:
    settings = load_settings(DATABASE_URL=database.url, _env_file=None)
    return Services.build(
        database, ManualClock(NOW), settings, load_catalogue(None), realtime=False
    )


async def count(database: Database, query: Any) -> int:
    async with database.transaction() as repos:
        return int((await repos.connection.execute(query)).scalar_one())


async def read_due(database: Database) -> int:
    """The baseline: every due timer and its topic, read."""
    read = 0
    async with database.transaction() as repos:
        while True:
            due = await repos.timers.due(NOW, limit=500)
            due = [timer for timer in due if int(timer.ref) > read]
            if not due:
                return read
            for timer in due:
                await repos.topics.get(int(timer.ref))
            read = int(due[-1].ref)
            if len(due) < 500:
                return read


async def due_sweep(db: str, folder: Path) -> None:
    heading("closing 10,000 due topics among 100,000")
    async with bench_database(db, folder) as url:
        database = await open_database(url)
        try:
            with Timer() as build:
                tree = await make_tree(database, grids=30, buildings=300)
                await make_topics(database, tree, count=100_000, due=10_000)
                # Statistics, as a database in service has them (autovacuum): without them
                # PostgreSQL guesses, and walks every open topic to close 200.
                await _analyze(database)
            figure("database built in", build.seconds, "s")
            with Timer() as baseline:
                await read_due(database)
            services = services_on(database)
            announcer = _CountingAnnouncer()
            services.outbox.attach(announcer)
            with Timer() as sweep:
                ran = await services.timers.run_due()
            with Timer() as posting:
                sent = await services.outbox.flush()
            closed = await count(
                database,
                select(func.count()).select_from(topics).where(topics.c.status == "closed"),
            )
            escalated = await count(database, select(func.count()).select_from(escalations))
            queued = await count(database, select(func.count()).select_from(outbox))
        finally:
            await database.close()
    figure("timers run", f"{ran:,}")
    figure("topics closed", f"{closed:,}")
    figure("escalations created (ties)", f"{escalated:,}")
    figure("announcements queued / delivered", f"{queued:,} / {sent:,}")
    figure("sweep: close all due topics", sweep.seconds, "s", "<= 10 s")
    figure("post the results (outbox delivery)", posting.seconds, "s")
    figure("baseline: read the due timers and topics", baseline.seconds, "s")
    ratio("sweep / baseline", sweep.seconds, baseline.seconds)
    if closed != 10_000:
        raise SystemExit(f"expected 10,000 closed topics, found {closed}")


class _CountingAnnouncer:
    """Delivers instantly (a Bot API that answers at once); counts what it was given."""

    def __init__(self) -> None:
        self.delivered = 0

    async def deliver(self, message: object) -> int:
        self.delivered += 1
        return 1_000_000 + self.delivered


async def empty_sweeps(db: str, folder: Path, sizes: list[int]) -> None:
    heading("a sweep with nothing due, by number of open topics")
    times: dict[int, float] = {}
    for size in sizes:
        async with bench_database(db, folder / str(size)) as url:
            (folder / str(size)).mkdir(exist_ok=True)
            database = await open_database(url)
            try:
                tree = await make_tree(database, grids=30, buildings=300)
                await make_topics(database, tree, count=size, due=0, ballots_per_due=0)
                await _analyze(database)
                services = services_on(database)
                samples = []
                for _ in range(30):
                    with Timer() as one:  # the sweep, and when to wake up next
                        await services.timers.run_due()
                        async with database.transaction() as repos:
                            await repos.timers.next_due()
                    samples.append(one.seconds)
                times[size] = median(samples)
                if size == sizes[-1]:
                    await explain(database)
            finally:
                await database.close()
        figure(f"empty sweep, {size:>9,} open topics", times[size] * 1000, "ms")
    ratio(
        f"empty sweep {sizes[-1]:,} / {sizes[0]:,} topics",
        times[sizes[-1]],
        times[sizes[0]],
        note="(target: flat, ~1.0)",
    )


async def _analyze(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.connection.execute(text("ANALYZE"))


async def explain(database: Database) -> None:
    """The plans of the sweep's queries: the due timers, and the next wake-up."""
    due = select(timers).where(timers.c.done_at.is_(None), timers.c.due_at <= NOW)
    due = due.order_by(timers.c.due_at, timers.c.id).limit(50)
    next_due = (
        select(timers.c.due_at)
        .where(timers.c.done_at.is_(None))
        .order_by(timers.c.done_at, timers.c.due_at)
        .limit(1)
    )
    sqlite = database.dialect == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    async with database.transaction() as repos:
        connection = repos.connection
        for name, query in (("due timers", due), ("next wake-up", next_due)):
            compiled = query.compile(
                connection.sync_connection, compile_kwargs={"literal_binds": True}
            )  # type: ignore[union-attr]
            rows = await connection.execute(text(prefix + str(compiled)))
            print(f"  plan of the {name} query:")
            for row in rows:
                print("    " + (str(row[-1]) if sqlite else str(row[0])))


async def main() -> None:
    arguments = parser(__doc__)
    arguments.add_argument("--largest", type=int, default=1_000_000)
    arguments.add_argument("--skip-due", action="store_true")
    args = arguments.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    machine_note()
    with tempfile.TemporaryDirectory(prefix="yishi-bench-") as folder:
        if not args.skip_due:
            await due_sweep(args.db, Path(folder))
        sizes = sorted({10_000, 100_000, args.largest})
        await empty_sweeps(args.db, Path(folder), sizes)


if __name__ == "__main__":
    asyncio.run(main())
