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
