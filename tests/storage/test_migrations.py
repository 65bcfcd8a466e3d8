"""The migrations build exactly the schema the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.database import Database
from storage.tables import metadata


async def test_migrations_match_the_declared_tables(database: Database) -> None:
    def differences(sync_connection: object) -> list[object]:
        context = MigrationContext.configure(
            sync_connection,  # type: ignore[arg-type]
            opts={"compare_type": False, "target_metadata": metadata},
        )
        return list(compare_metadata(context, metadata))

    async with database.connection() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []


async def test_an_upgrade_leaves_nothing_in_the_engines_statement_cache(database: Database) -> None:
    """The fixture's database was just upgraded from empty, on the engine the bot goes on to
    use: none of the migrations' statements, run once, stays compiled in its cache (on SQLite
    they held 3.8 MB: batch mode's reflected and rebuilt tables)."""
    cache = database.engine.sync_engine._compiled_cache  # SQLAlchemy's LRU of compiled statements
    assert cache is not None and len(cache) == 0
    async with database.transaction() as repos:  # the bot's own statements are still cached
        await repos.topics.get(1)
    assert len(cache) == 1
