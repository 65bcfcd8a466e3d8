"""The migrations build exactly the schema the code declares."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.database import Database
from storage.tables import metadata
from tests.conftest import open_postgres, open_sqlite


@pytest.fixture(params=["sqlite", "postgresql"])
async def upgraded_from_empty(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Database]:
    """Every migration run on an empty database, not a copy of a migrated one (the
    ``database`` fixture's)."""
    if request.param == "sqlite":
        async with open_sqlite(tmp_path / "yishi.db", from_empty=True) as database:
            yield database
    else:
        async with open_postgres(from_empty=True) as database:
            yield database


async def test_migrations_match_the_declared_tables(upgraded_from_empty: Database) -> None:
    database = upgraded_from_empty

    def differences(sync_connection: object) -> list[object]:
        context = MigrationContext.configure(
            sync_connection,  # type: ignore[arg-type]
            opts={"compare_type": False, "target_metadata": metadata},
        )
        return list(compare_metadata(context, metadata))

    async with database.connection() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []


async def test_an_upgrade_leaves_nothing_in_the_engines_statement_cache(
    upgraded_from_empty: Database,
) -> None:
    """The fixture's database was just upgraded from empty, on the engine the bot goes on to
    use: none of the migrations' statements, run once, stays compiled in its cache (on SQLite
    they held 3.8 MB: batch mode's reflected and rebuilt tables)."""
    database = upgraded_from_empty
    cache = database.engine.sync_engine._compiled_cache  # SQLAlchemy's LRU of compiled statements
    assert cache is not None and len(cache) == 0
    async with database.transaction() as repos:  # the bot's own statements are still cached
        await repos.topics.get(1)
    assert len(cache) == 1
