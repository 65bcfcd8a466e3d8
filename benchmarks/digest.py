"""The community staff digest of a big community: 30 grids, 300 buildings, 10,000 topics
(2,000 of them closed in the last weeks) and 500 open escalations.

Figures: composing the digest (its queries), rendering its text (and CSV), drawing the
weekly chart. Baseline, same run: the same digest of a small community (1 grid, 10 buildings,
100 topics, 5 escalations), so the ratio shows how the cost grows with size.

    .venv/bin/python -m benchmarks.digest [--db postgres]
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

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
from benchmarks.dataset import NOW, make_escalations, make_topics, make_tree
from bot.catalogue import load_catalogue
from bot.services.reports.digest import compose_digest
from bot.services.reports.digest_chart import ChartLabels, render_chart
from channels.telegram.reports.digest_render import DigestRenderer
from locales import Translator
from storage import migrate
from storage.database import Database
from storage.tables import topics

SIZES = {
    "big": {"grids": 30, "buildings": 300, "topics": 10_000, "closed": 2_000, "escalations": 500},
    "small": {"grids": 1, "buildings": 10, "topics": 100, "closed": 20, "escalations": 5},
}


async def build(database: Database, size: dict[str, int]) -> None:
    tree = await make_tree(database, grids=size["grids"], buildings=size["buildings"])
    await make_topics(database, tree, count=size["topics"], due=0, ballots_per_due=0)
    closed = size["closed"]
    async with database.transaction() as repos:  # closed over the last 8 weeks, with outcomes
        for index in range(8):
            first, last = index * closed // 8 + 1, (index + 1) * closed // 8
            await repos.connection.execute(
                update(topics)
                .where(topics.c.id.between(first, last))
                .values(
                    status="closed",
                    closed_at=NOW - timedelta(days=7 * index + 1),
                    created_at=NOW - timedelta(days=7 * index + 3),
                    outcome={"verdict": "passed", "cast": 30, "eligible": 40},
                    category="public_affairs",
                )
            )
    await make_escalations(database, tree, count=size["escalations"], first=closed + 1)


async def measure(db: str, folder: Path, name: str) -> dict[str, float]:
    size = SIZES[name]
    (folder / name).mkdir(exist_ok=True)
    translator = Translator("zh_CN")
    renderer = DigestRenderer(translator, load_catalogue(None), NOW.tzinfo)  # type: ignore[arg-type]
    labels = ChartLabels("近8周上报与参与", "新上报", "已办结", "参与率")
    async with bench_database(db, folder / name) as url:
        database = Database(url)
        try:
            await migrate.upgrade(database)
            await build(database, size)
            composes, renders, charts = [], [], []
            for _ in range(5):
                with Timer() as compose:
                    async with database.transaction() as repos:
                        community = await repos.orgs.node(1)
                        assert community is not None
                        digest = await compose_digest(
                            repos, community, NOW - timedelta(days=7), NOW, weekly=True
                        )
                with Timer() as render:
                    rendered = renderer.render("zh_CN", digest)
                assert digest.weekly is not None
                with Timer() as chart:
                    render_chart(digest.weekly, labels)
                composes.append(compose.seconds)
                renders.append(render.seconds)
                charts.append(chart.seconds)
        finally:
            await database.close()
    result = {
        "compose": median(composes) * 1000,
        "render": median(renders) * 1000,
        "text": (median(composes) + median(renders)) * 1000,
        "chart": median(charts) * 1000,
    }
    print(
        f"\n{name}: {size['grids']} grids, {size['buildings']} buildings, {size['topics']:,} "
        f"topics, {size['escalations']} open escalations; {len(digest.open)} open items, "
        f"{len(rendered.messages)} message(s)"
    )
    figure("compose (queries)", result["compose"], "ms")
    figure("render text and CSV", result["render"], "ms")
    figure("digest text in all", result["text"], "ms", "<= 300 ms" if name == "big" else "")
    figure("chart", result["chart"], "ms", "<= 1,500 ms" if name == "big" else "")
    return result


async def main() -> None:
    args = parser(__doc__).parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    machine_note()
    heading(f"the community digest ({args.db})")
    with tempfile.TemporaryDirectory(prefix="yishi-bench-") as folder:
        small = await measure(args.db, Path(folder), "small")
        big = await measure(args.db, Path(folder), "big")
    heading("big community / small community")
    ratio("digest text", big["text"], small["text"])
    ratio("chart", big["chart"], small["chart"])


if __name__ == "__main__":
    asyncio.run(main())
