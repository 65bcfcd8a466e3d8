"""Start-up: from ``yishi run`` (process start) to polling (the first ``getUpdates`` the
emulator receives), with 100,000 open topics and 10,000 meeting series in the database.

Baselines, same run: Yishi on an empty (migrated) database, and the bare stock PTB bot.

    .venv/bin/python -m benchmarks.startup [--db postgres]
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    bench_database,
    figure,
    free_port,
    heading,
    machine_note,
    median,
    parser,
    python_process,
    ratio,
    stop_process,
    wait_for_port,
)
from benchmarks.dataset import make_meetings, make_topics, make_tree
from emulators.telegram import EmulatorClient
from storage import migrate
from storage.database import Database

TOKEN = "123456:TEST-TOKEN"
RUNS = 3


async def prepare(url: str, *, topics: int, meetings: int) -> None:
    database = Database(url)
    try:
        await migrate.upgrade(database)
        if topics or meetings:
            tree = await make_tree(database, grids=30, buildings=300)
            await make_topics(database, tree, count=topics, due=0, ballots_per_due=0)
            await make_meetings(database, tree, count=meetings)
    finally:
        await database.close()


async def time_to_polling(kind: str, url: str | None, folder: Path) -> float:
    """Seconds from spawning the bot to the emulator's first getUpdates."""
    port = free_port()
    emulator = python_process(["-m", "emulators.telegram", "--port", str(port)])
    bot = None
    try:
        await wait_for_port(port)
        base_url = f"http://127.0.0.1:{port}/bot"
        async with EmulatorClient(f"http://127.0.0.1:{port}") as client:
            started = time.perf_counter()
            if kind == "yishi":
                assert url is not None
                env = {
                    "TELEGRAM_BOT_TOKEN": TOKEN,
                    "TELEGRAM_BASE_URL": base_url,
                    "DATABASE_URL": url,
                    "YISHI_ADMIN_IDS": "1",
                    "YISHI_LEASE_TTL": "1s",
                }
                bot = python_process(["-m", "bot", "run"], env=env, log=folder / "yishi.log")
            else:
                args = ["-m", "benchmarks.bare_bot", "--base-url", base_url, "--token", TOKEN]
                bot = python_process(args, log=folder / "bare.log")
            while True:
                counted = await client.call("call_counts", method="getUpdates")
                if counted["total"]:
                    return time.perf_counter() - started
                if bot.poll() is not None:
                    raise SystemExit(f"the {kind} bot exited; see {folder}")
                if time.perf_counter() - started > 120:
                    raise TimeoutError(f"the {kind} bot did not poll within 120 s")
                await asyncio.sleep(0.01)
    finally:
        if bot is not None:
            stop_process(bot)
        stop_process(emulator)


async def main() -> None:
    args = parser(__doc__).parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    machine_note()
    heading(f"start-up to polling ({args.db})")
    with tempfile.TemporaryDirectory(prefix="yishi-bench-") as folder:
        path = Path(folder)
        (path / "empty").mkdir()
        (path / "big").mkdir()
        bare = median([await time_to_polling("bare", None, path) for _ in range(RUNS)])
        async with bench_database(args.db, path / "empty") as empty_url:
            await prepare(empty_url, topics=0, meetings=0)
            empty = median([await time_to_polling("yishi", empty_url, path) for _ in range(RUNS)])
        async with bench_database(args.db, path / "big") as big_url:
            await prepare(big_url, topics=100_000, meetings=10_000)
            big = median([await time_to_polling("yishi", big_url, path) for _ in range(RUNS)])
    figure("bare stock PTB bot", bare, "s")
    figure("Yishi, empty database", empty, "s")
    figure("Yishi, 100k open topics + 10k meeting series", big, "s", "<= 3 s")
    ratio("Yishi (big database) / bare bot", big, bare)
    ratio("Yishi big / empty database", big, empty)


if __name__ == "__main__":
    asyncio.run(main())
