"""The staff pages of a city-sized database, over HTTP against the real web server: the
sweep benchmark's tree and topics (30 grids, 300 buildings, 100,000 topics) with 3,000 open
escalations across the 30 grids (the last 3,000 topics, closed), their audit rows and the
topics' (100,000 ``topic.published``).

Figures, per page: median and p95 of repeated GETs (the page rendered, sent and read by a
client in the same process: the client's share is in the figure), and the SQL statements
one request runs (the page's query budget). Pages: the board of community staff (every
grid: 3,000 rows, 100 shown), the same filtered to one grid, the board of a grid worker
(their grid), a matter's page, the participation page (this year, and this month against
last month) and the record's first page. Budget: 300 ms each.

    .venv/bin/python -m benchmarks.staff_pages [--db postgres] [--requests 40]
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import event, text, update

from benchmarks.common import (
    Timer,
    bench_database,
    figure,
    heading,
    machine_note,
    parser,
    percentile,
)
from benchmarks.dataset import NOW, insert, make_escalations, make_topics, make_tree
from bot.catalogue import load_catalogue
from bot.clock import ManualClock
from bot.services import Services
from bot.services.actors import Actor
from bot.services.web.staff_board import BoardFilters, StaffBoard
from bot.services.web.topic_pages import StoredMembership, TopicPages
from bot.settings import load_settings
from channels.web.security import sign
from channels.web.server import SESSION_COOKIE, Web, WebServer
from locales import Translator
from storage import migrate
from storage.database import Database
from storage.records import RoleName
from storage.tables import audit_log, topics, users

ESCALATIONS = 3_000
TOPICS = 100_000
STAFF, WORKER = 2, 3
BUDGET_MS = 300.0


async def build(database: Database) -> tuple[int, int]:
    """The city; returns (a grid's node id, an escalated topic's id at that grid)."""
    tree = await make_tree(database, grids=30, buildings=300)
    await make_topics(database, tree, count=TOPICS, due=0, ballots_per_due=0)
    first = TOPICS - ESCALATIONS + 1
    async with database.transaction() as repos:
        await repos.connection.execute(
            update(topics)
            .where(topics.c.id >= first)
            .values(
                status="closed",
                closed_at=NOW - timedelta(days=1),
                outcome={"verdict": "unresolved", "reason": "tie", "cast": 8, "eligible": 40},
                category="public_affairs",
            )
        )
        for user_id, name in ((STAFF, "李社工"), (WORKER, "张网格")):
            await repos.connection.execute(
                users.insert().values(
                    user_id=user_id,
                    address=str(user_id),
                    first_name=name,
                    language_code="zh-hans",
                    first_seen=NOW,
                    last_seen=NOW,
                )
            )
        await repos.roles.grant(
            user_id=STAFF,
            node_id=tree.community,
            role=RoleName.COMMUNITY_STAFF,
            granted_by=None,
            now=NOW,
        )
        await repos.roles.grant(
            user_id=WORKER,
            node_id=tree.grids[0],
            role=RoleName.GRID_WORKER,
            granted_by=None,
            now=NOW,
        )
    await make_escalations(database, tree, count=ESCALATIONS, first=first)

    def audit_rows() -> Iterator[dict[str, Any]]:
        for i in range(TOPICS):
            building = tree.buildings[i % len(tree.buildings)]
            yield {
                "at": NOW - timedelta(days=1),
                "actor_id": 1,
                "action": "topic.published",
                "node_id": building,
                "details": {"topic_id": i + 1},
            }
        for i in range(ESCALATIONS):
            building_index = (first + i - 1) % len(tree.buildings)
            yield {
                "at": NOW - timedelta(hours=1),
                "actor_id": None,
                "action": "escalation.opened",
                "node_id": tree.grids[building_index % len(tree.grids)],
                "details": {"topic_id": first + i},
            }

    await insert(database, audit_log, audit_rows())
    async with database.transaction() as repos:  # the statistics a live database would have
        await repos.connection.execute(text("ANALYZE"))
    # Topic ``first`` is in building 0's grid: grid 0.
    return tree.grids[0], first


class Statements:
    """Counts the SQL statements the engine runs."""

    def __init__(self, database: Database) -> None:
        self.count = 0
        event.listen(database.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def measure(db: str, folder: Path, requests: int) -> list[tuple[str, float]]:
    results: list[tuple[str, float]] = []
    async with bench_database(db, folder) as url:
        database = Database(url)
        try:
            await migrate.upgrade(database)
            grid, matter = await build(database)
            settings = load_settings(
                DATABASE_URL=url,
                YISHI_PUBLIC_URL="http://127.0.0.1",
                _env_file=None,
            )
            services = Services.build(
                database, ManualClock(NOW), settings, load_catalogue(None), realtime=False
            )
            probe = StoredMembership(services.work, services.clock, None)
            pages = TopicPages(
                services.work, services.clock, services.topics, services.opinions, probe
            )
            site = Web(
                services, Translator("zh_CN"), pages, public_url="http://127.0.0.1", bot_token=None
            )
            server = WebServer(site, "127.0.0.1", 0)
            await server.start()
            statements = Statements(database)
            try:
                cookies = {}
                for user in (STAFF, WORKER):
                    opened = await services.web_sessions.open_session(user)
                    cookies[user] = sign(site.key, opened.token)
                # The board's reading alone (no HTTP, no HTML): the service's share.
                board = StaffBoard(services.work, services.clock)
                reads: list[float] = []
                for _ in range(requests):
                    with Timer() as read:
                        await board.board(Actor(STAFF), BoardFilters())
                    reads.append(read.seconds)
                print("\nthe board's reading alone (StaffBoard.board, community staff)")
                figure("median", percentile(reads, 0.5) * 1000, "ms")
                cases = [
                    ("board, community staff (3,000 waiting)", STAFF, "/staff/board"),
                    ("board, one grid's filter", STAFF, f"/staff/board?grid={grid}"),
                    ("board, overdue first, page 2", STAFF, "/staff/board?page=1"),
                    ("board, a grid worker (their grid)", WORKER, "/staff/board"),
                    ("a matter's page", STAFF, f"/staff/matters/{matter}"),
                    ("participation, this year", STAFF, "/staff/participation?preset=this_year"),
                    ("participation, two periods", STAFF, COMPARED),
                    ("the record, first page", STAFF, "/staff/record"),
                ]
                for name, user, path in cases:
                    jar = {SESSION_COOKIE: cookies[user]}
                    async with aiohttp.ClientSession(cookies=jar) as client:
                        times: list[float] = []
                        before = statements.count
                        for index in range(requests + 3):
                            start = asyncio.get_running_loop().time()
                            async with client.get(server.url + path) as answer:
                                body = await answer.text()
                                assert answer.status == 200, (answer.status, body[:300])
                            if index == 2:
                                before = statements.count
                            if index >= 3:  # the first ones warm the caches
                                times.append(asyncio.get_running_loop().time() - start)
                        per_request = (statements.count - before) / requests
                    median_ms = percentile(times, 0.5) * 1000
                    p95_ms = percentile(times, 0.95) * 1000
                    print(f"\n{name}: {path} ({len(body):,} bytes)")
                    figure("median", median_ms, "ms", f"<= {BUDGET_MS:.0f} ms")
                    figure("p95", p95_ms, "ms", f"<= {BUDGET_MS:.0f} ms")
                    figure("SQL statements a request", per_request, "")
                    results.append((name, p95_ms))
            finally:
                await server.stop()
        finally:
            await database.close()
    return results


COMPARED = "/staff/participation?preset=this_month&cpreset=last_month"


async def main() -> None:
    args = parser(__doc__)
    args.add_argument("--requests", type=int, default=40)
    parsed = args.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    machine_note()
    heading(f"the staff pages of a city ({parsed.db}): {TOPICS:,} topics, {ESCALATIONS:,} open")
    folder = Path(tempfile.mkdtemp(prefix="yishi-staff-pages-"))
    results = await measure(parsed.db, folder, parsed.requests)
    over = [name for name, p95 in results if p95 > BUDGET_MS]
    print("\nall within budget" if not over else f"\nover budget: {', '.join(over)}")


if __name__ == "__main__":
    asyncio.run(main())
