"""Which statements the tests ran scan a whole table on SQLite (EXPLAIN QUERY PLAN).

    YISHI_QUERY_PLANS=/tmp/plans .venv/bin/python -m pytest -p tests.auxil.query_plans \
        tests/e2e tests/e2e_web
    .venv/bin/python -m benchmarks.query_plans /tmp/plans

Reads the statements ``tests/auxil/query_plans.py`` kept, asks SQLite for each one's plan on a
freshly migrated database, and prints those whose plan has a ``SCAN`` of a table, grouped by
table. Expected among them: the migrations' own checks (``... NOT IN (...)`` of the state
columns, left out here), what start-up reads once (the messages to refresh), the tests' own
counts, and small tables read whole (nodes, subscriptions). Anything on a table that grows
with use — ballots, memberships, registrations, opinions, the audit log — read per press,
per page or per card is worth an index (docs/PERFORMANCE.md, "Statements through indexes").
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import re
import sqlite3
import tempfile
from collections import defaultdict
from pathlib import Path

from storage import migrate
from storage.database import Database

SCAN = re.compile(r"^SCAN (\w+)")


async def migrated(path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await migrate.upgrade(database)
    finally:
        await database.close()


def scans(statements: dict[str, list[object]], path: Path) -> dict[str, list[tuple[str, str]]]:
    """Each scanned table's statements, with the plan's step."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with sqlite3.connect(path) as connection:
        for statement, parameters in statements.items():
            if " NOT IN (" in statement:  # a migration checking a state column's values
                continue
            try:
                plan = connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            except sqlite3.Error:
                continue  # a table a test made, a temporary one
            for *_, step in plan:
                match = SCAN.match(str(step))
                if match and not match.group(1).startswith(("sqlite_", "json_each")):
                    found[match.group(1)].append((str(step), " ".join(statement.split())))
    return found


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("prefix", help="YISHI_QUERY_PLANS as the tests ran with it")
    arguments.add_argument("--width", type=int, default=160, help="characters of each statement")
    args = arguments.parse_args()
    statements: dict[str, list[object]] = {}
    for name in sorted(glob.glob(f"{args.prefix}-*.json")):
        statements.update(json.loads(Path(name).read_text(encoding="utf-8")))
    if not statements:
        raise SystemExit(f"no statements kept under {args.prefix}-*.json: run the tests first")
    with tempfile.TemporaryDirectory(prefix="yishi-plans-") as folder:
        path = Path(folder) / "plans.db"
        asyncio.run(migrated(path))
        found = scans(statements, path)
    print(f"{len(statements)} statements; {sum(map(len, found.values()))} scan a table")
    for table in sorted(found):
        print(f"\n{table}:")
        for step, statement in sorted(set(found[table])):
            print(f"  {step}: {statement[: args.width]}")


if __name__ == "__main__":
    main()
