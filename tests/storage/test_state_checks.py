"""The state columns hold only the values the code knows (storage/records.py): the database
refuses any other, on SQLite and PostgreSQL, whether it was made new or upgraded by 0011."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import CheckConstraint, delete, insert, inspect, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage import migrate
from storage.backup.facts import code_head
from storage.database import Database
from storage.records import EscalationState, Level, TopicStatus
from storage.tables import chats, escalations, metadata, nodes, topics
from tests.conftest import POSTGRES_URL, require_postgres

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
QUOTED = re.compile(r"'([^']*)'")
# The checks that are not lists of values: a range, columns set together, an order of times.
_NOT_STATE_CHECKS = frozenset(
    {
        "ck_households_area_range",
        "ck_household_invitations_expires_after_issued",
        "ck_household_invitations_redeemed_by_whom",
        "ck_household_invitations_revoked_by_whom",
    }
)


def _declared() -> dict[tuple[str, str], set[str]]:
    """(table, constraint name) -> the values each state CHECK of storage/tables.py allows."""
    found = {}
    for table in metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint) and " IN " in str(constraint.sqltext):
                sql = str(
                    constraint.sqltext.compile(
                        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
                    )
                )
                found[(table.name, str(constraint.name))] = set(QUOTED.findall(sql))
    return found


def _in_database(connection: Connection) -> dict[tuple[str, str], set[str]]:
    inspector = inspect(connection)
    found = {}
    for table in metadata.tables:
        for check in inspector.get_check_constraints(table):
            if check["name"] and check["name"] not in _NOT_STATE_CHECKS:
                found[(table, check["name"])] = set(QUOTED.findall(check["sqltext"]))
    return found


async def test_the_database_has_the_checks_the_tables_declare(database: Database) -> None:
    declared = _declared()
    assert ("topics", "ck_topics_status") in declared
    assert declared[("topics", "ck_topics_status")] == set(TopicStatus)
    async with database.connection() as connection:
        assert await connection.run_sync(_in_database) == declared


async def _node(database: Database) -> int:
    async with database.transaction() as repos:
        node = await repos.orgs.create_node(
            level=Level.BUILDING, name="1号楼", parent_id=None, created_by=1, now=NOW
        )
    return node.id


async def _refused(database: Database, statement: object) -> str:
    with pytest.raises(IntegrityError) as refused:
        async with database.transaction() as repos:
            await repos.connection.execute(statement)  # type: ignore[call-overload]
    return str(refused.value)


async def test_a_state_the_code_does_not_know_is_refused(database: Database) -> None:
    node_id = await _node(database)
    topic = {
        "node_id": node_id,
        "title": "加装电梯",
        "description": "",
        "options": ["同意", "反对"],
        "rule": "majority",
        "status": "open",
        "deadline": NOW + timedelta(days=3),
        "created_by": 1,
        "created_at": NOW,
    }
    assert "ck_topics_status" in await _refused(
        database, insert(topics).values(**(topic | {"status": "archived"}))
    )
    assert "ck_topics_rule" in await _refused(
        database, insert(topics).values(**(topic | {"rule": "unanimous"}))
    )
    assert "ck_nodes_level" in await _refused(
        database, update(nodes).where(nodes.c.id == node_id).values(level="district")
    )
    chat = {"chat_id": -100, "address": "-100", "type": "group", "updated_at": NOW}
    chat |= {"bot_status": "banned"}
    assert "ck_chats_bot_status" in await _refused(database, insert(chats).values(**chat))

    async with database.transaction() as repos:  # the known values are taken, as before
        created = await repos.topics.create(**topic)
        await repos.connection.execute(insert(chats).values(**(chat | {"bot_status": "member"})))
        hop = await repos.escalations.add(
            topic_id=created.id,
            from_node_id=node_id,
            to_node_id=node_id,
            reason="tie",
            note=None,
            escalated_by=None,
            created_at=NOW,
            sla_due_at=None,
        )
    assert created.status is TopicStatus.OPEN
    assert hop.state is EscalationState.OPEN
    assert "ck_escalations_state" in await _refused(
        database, update(escalations).where(escalations.c.id == hop.id).values(state="done")
    )


@asynccontextmanager
async def _at_0010(kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A database migrated as far as 0010, the revision before the checks."""
    if kind == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        try:
            await migrate.upgrade(database, "0010")
            yield database
        finally:
            await database.close()
        return
    await require_postgres()
    schema = f"yishi_test_{secrets.token_hex(6)}"
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(POSTGRES_URL, schema=schema)
    try:
        await migrate.upgrade(database, "0010")
        yield database
    finally:
        await database.close()
        async with admin.engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_upgrade_names_the_rows_it_cannot_take_and_changes_nothing(
    kind: str, tmp_path: Path
) -> None:
    async with _at_0010(kind, tmp_path) as database:
        node_id = await _node(database)
        async with database.transaction() as repos:
            await repos.connection.execute(
                insert(nodes).values(level="district", name="东区", parent_id=None, created_at=NOW)
            )
        with pytest.raises(RuntimeError) as refused:
            await migrate.upgrade(database)
        message = str(refused.value)
        assert "Migration 0011" in message
        assert "nodes.level: 'district' (1 rows)" in message
        assert "Nothing was changed" in message
        assert await migrate.current_revision(database) == "0010"

        async with database.transaction() as repos:
            await repos.connection.execute(delete(nodes).where(nodes.c.level == "district"))
        await migrate.upgrade(database)
        assert await migrate.current_revision(database) == code_head()  # 0011 and beyond
        assert "ck_nodes_level" in await _refused(
            database, update(nodes).where(nodes.c.id == node_id).values(level="district")
        )
        async with database.transaction() as repos:  # the rows are all still there
            kept = (await repos.connection.execute(select(nodes.c.name))).scalars().all()
            assert kept == ["1号楼"]
            if kind == "sqlite":
                check = await repos.connection.exec_driver_sql("PRAGMA integrity_check")
                assert check.scalars().all() == ["ok"]
