"""Large databases for the sweep, start-up and digest benchmarks, written in bulk.

A community of grids and buildings (each bound to a chat), topics with their ballot posts,
close timers and ballots, meeting series; rows go in with multi-row INSERTs, thousands per
statement, so even a million topics take seconds, not the hours that publishing them
through the bot would.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table

from storage.database import Database
from storage.tables import (
    ballots,
    chat_bindings,
    chats,
    escalations,
    meeting_occurrences,
    meetings,
    nodes,
    timers,
    topic_posts,
    topics,
)

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
OPTIONS = ["同意", "反对", "弃权"]
CHUNK = 5_000


@dataclass
class Tree:
    community: int
    grids: list[int]
    buildings: list[int]  # node ids; building i is bound to chat building_chat(i)


def grid_chat(index: int) -> int:
    return -1007000000000 - index


def building_chat(index: int) -> int:
    return -1008000000000 - index


async def insert(database: Database, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    """Insert rows in chunks, one transaction per chunk; returns how many."""
    count, chunk = 0, []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            count += await _flush(database, table, chunk)
            chunk = []
    return count + await _flush(database, table, chunk)


async def _flush(database: Database, table: Table, chunk: list[dict[str, Any]]) -> int:
    if chunk:
        async with database.transaction() as repos:
            await repos.connection.execute(table.insert(), chunk)
    return len(chunk)


async def make_tree(database: Database, grids: int, buildings: int) -> Tree:
    """A community with ``grids`` grids and ``buildings`` buildings spread over them."""

    def node(id_: int, level: str, name: str, parent: int | None) -> dict[str, Any]:
        return {
            "id": id_,
            "level": level,
            "name": name,
            "parent_id": parent,
            "requires_approval": False,
            "created_by": 1,
            "created_at": NOW,
        }

    grid_ids = [2 + i for i in range(grids)]
    building_ids = [2 + grids + i for i in range(buildings)]
    await insert(database, nodes, iter([node(1, "community", "幸福社区", None)]))
    await insert(
        database, nodes, (node(g, "grid", f"第{i + 1}网格", 1) for i, g in enumerate(grid_ids))
    )
    await insert(
        database,
        nodes,
        (
            node(b, "building", f"{i + 1}号楼", grid_ids[i % grids])
            for i, b in enumerate(building_ids)
        ),
    )
    bound = [(1, -1006000000000)]
    bound += [(g, grid_chat(i)) for i, g in enumerate(grid_ids)]
    bound += [(b, building_chat(i)) for i, b in enumerate(building_ids)]
    await insert(
        database,
        chats,
        (
            {
                "chat_id": c,
                "address": str(c),
                "type": "supergroup",
                "title": str(n),
                "updated_at": NOW,
            }
            for n, c in bound
        ),
    )
    await insert(
        database,
        chat_bindings,
        (
            {"node_id": n, "chat_id": c, "active": True, "bound_by": 1, "bound_at": NOW}
            for n, c in bound
        ),
    )
    return Tree(1, grid_ids, building_ids)


async def make_topics(
    database: Database, tree: Tree, *, count: int, due: int, ballots_per_due: int = 9
) -> None:
    """``count`` open topics in the buildings, ``due`` of them past their deadline (with
    ballots, a third of them ties); every one has its ballot post and close timer."""
    rng = random.Random(6)
    buildings = tree.buildings

    def topic_rows() -> Iterator[dict[str, Any]]:
        for i in range(count):
            deadline = NOW - timedelta(minutes=1) if i < due else NOW + timedelta(days=7)
            yield {
                "id": i + 1,
                "node_id": buildings[i % len(buildings)],
                "title": f"议题{i + 1}",
                "description": "",
                "options": OPTIONS,
                "rule": "majority",
                "secret": False,
                "household": False,
                "hide_results": False,
                "scope": "here",
                "status": "open",
                "deadline": deadline,
                "created_by": 1,
                "created_at": NOW - timedelta(days=1),
            }

    def post_rows() -> Iterator[dict[str, Any]]:
        for i in range(count):
            b = i % len(buildings)
            yield {
                "topic_id": i + 1,
                "chat_id": building_chat(b),
                "node_id": buildings[b],
                "message_id": 10 + i,
                "voting": True,
                "members": 40,
                "rendered_hash": "x",
            }

    def timer_rows() -> Iterator[dict[str, Any]]:
        for i in range(count):
            due_at = NOW - timedelta(minutes=1) if i < due else NOW + timedelta(days=7)
            yield {"kind": "topic.close", "ref": str(i + 1), "due_at": due_at, "payload": {}}

    def ballot_rows() -> Iterator[dict[str, Any]]:
        for i in range(due):
            tie = i % 3 == 0
            for voter in range(ballots_per_due - (1 if tie else 0)):
                option = voter % 2 if tie else (0 if voter < 6 else rng.choice((1, 2)))
                yield {
                    "topic_id": i + 1,
                    "voter_key": f"u:{100_000 + voter}",
                    "option": option,
                    "user_id": 100_000 + voter,
                    "node_id": buildings[i % len(buildings)],
                    "channel": "button",
                    "updated_at": NOW - timedelta(hours=1),
                }

    await insert(database, topics, topic_rows())
    await insert(database, topic_posts, post_rows())
    await insert(database, timers, timer_rows())
    await insert(database, ballots, ballot_rows())
    await _reset_sequences(database)


async def make_meetings(database: Database, tree: Tree, *, count: int) -> None:
    """``count`` weekly meeting series, each with its next occurrence scheduled."""

    def meeting_rows() -> Iterator[dict[str, Any]]:
        for i in range(count):
            b = i % len(tree.buildings)
            yield {
                "id": i + 1,
                "node_id": tree.buildings[b],
                "chat_id": building_chat(b),
                "title": f"议事日{i + 1}",
                "note": "",
                "repeat": "weekly",
                "repeat_day": i % 7,
                "local_time": "19:00",
                "reminders": [86400, 3600],
                "topic_ids": [],
                "scope": "here",
                "holiday_shift": False,
                "status": "active",
                "created_by": 1,
                "created_at": NOW,
            }

    def occurrence_rows() -> Iterator[dict[str, Any]]:
        for i in range(count):
            starts = NOW + timedelta(days=1 + i % 7, hours=10)
            yield {
                "id": i + 1,
                "meeting_id": i + 1,
                "planned_at": starts,
                "starts_at": starts,
                "reminders_after": NOW,
                "status": "scheduled",
                "created_at": NOW,
            }

    await insert(database, meetings, meeting_rows())
    await insert(database, meeting_occurrences, occurrence_rows())
    await _reset_sequences(database)


async def make_escalations(database: Database, tree: Tree, *, count: int, first: int) -> None:
    """``count`` open escalations of topics ``first``.. from their building to its grid."""
    parents = {b: tree.grids[i % len(tree.grids)] for i, b in enumerate(tree.buildings)}

    def rows() -> Iterator[dict[str, Any]]:
        for i in range(count):
            building = tree.buildings[(first + i - 1) % len(tree.buildings)]
            yield {
                "topic_id": first + i,
                "from_node_id": building,
                "to_node_id": parents[building],
                "reason": "tie",
                "state": "open",
                "created_at": NOW - timedelta(days=i % 10),
                "sla_due_at": NOW + timedelta(days=3 - i % 10),
            }

    await insert(database, escalations, rows())
    await _reset_sequences(database)


async def _reset_sequences(database: Database) -> None:
    """PostgreSQL: serial columns continue after the ids written explicitly."""
    if database.dialect != "postgresql":
        return
    from sqlalchemy import text

    async with database.transaction() as repos:
        for table in (
            "nodes",
            "topics",
            "timers",
            "meetings",
            "meeting_occurrences",
            "escalations",
        ):
            await repos.connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
            )
