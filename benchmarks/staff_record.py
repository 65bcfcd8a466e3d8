"""The staff pages' reads on a city-sized database: the sweep benchmark's community (30
grids, 300 buildings, 100,000 topics) read as a super-admin sees it: the record searched
(everything, by words in titles and descriptions, by state) a page at a time with its count,
and the participation page's figures (/stats's, this year) with turnout by grid and building.
Service calls, as the pages make them (no HTTP, no template): the median of five runs each.

    .venv/bin/python -m benchmarks.staff_record [--db postgres] [--topics 100000]
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.common import Timer, bench_database, figure, heading, machine_note, median, parser
from benchmarks.dataset import NOW, make_topics, make_tree
from benchmarks.sweep import open_database, services_on
from bot.services.actors import Actor
from bot.services.web.staff_record import RecordFilters, StaffRecord, preset_period

RUNS = 5


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    await call()  # warm: the first read fills the caches
    seconds = []
    for _ in range(RUNS):
        with Timer() as timer:
            await call()
        seconds.append(timer.seconds)
    return median(seconds) * 1000


async def run(db: str, folder: Path, count: int) -> None:
    async with bench_database(db, folder) as url:
        database = await open_database(url)
        try:
            tree = await make_tree(database, 30, 300)
            await make_topics(database, tree, count=count, due=0)
            record = StaffRecord(services_on(database))
            actor = Actor(1, is_superadmin=True)
            roots = await record.roots(actor)
            scope = await record.nodes(actor, roots)
            heading(f"{db}: {count:,} topics, 30 grids, 300 buildings")
            searches = {
                "record: everything (a page and the count)": RecordFilters(),
                "record: words in titles and descriptions": RecordFilters(text="9999"),
                "record: a state": RecordFilters(status="closed"),
            }
            for name, filters in searches.items():
                ms = await timed(lambda f=filters: record.search(actor, f, scope=scope))
                figure(name, ms, "ms", "300 ms")
            period = preset_period("this_year", NOW, ZoneInfo("Asia/Shanghai"))
            ms = await timed(lambda: record.participation(actor, roots[0], period))
            figure("participation: this year's figures", ms, "ms", "300 ms")
        finally:
            await database.close()


async def main() -> None:
    arguments = parser(__doc__)
    arguments.add_argument("--topics", type=int, default=100_000)
    args = arguments.parse_args()
    machine_note()
    with tempfile.TemporaryDirectory(prefix="yishi-bench-") as folder:
        await run(args.db, Path(folder), args.topics)


if __name__ == "__main__":
    asyncio.run(main())
