"""Schema migrations (Alembic), applied by ``yishi db upgrade`` and by ``yishi run``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from storage.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    broken = broken_references(connection)
    if broken:
        raise RuntimeError(
            f"The upgrade to {revision} would leave rows referring to missing rows "
            f"({broken[:3]}); it was rolled back, nothing was changed."
        )


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` inside one transaction."""
    sqlite = database.dialect == "sqlite"
    async with database.engine.connect() as connection:
        # Not into the engine's cache of compiled statements, which the bot keeps using: a
        # migration's DDL and reflection run once, and on a fresh database (SQLite's batch mode
        # reflects and rebuilds tables) they held 3.8 MB there for the life of the process.
        await connection.execution_options(compiled_cache=None)
        if sqlite:
            await connection.run_sync(sqlite_foreign_keys, False)
        try:
            async with connection.begin():
                await connection.run_sync(_upgrade, revision)
        finally:
            if sqlite:
                await connection.run_sync(sqlite_foreign_keys, True)


def sqlite_foreign_keys(connection: Connection, enforced: bool) -> None:
    """SQLite's way to change a table's columns is to build it again and drop the old one
    (Alembic's batch mode), which fails with foreign keys enforced while rows refer to it.
    So enforcement is off for a migration's transaction (it can only change between
    transactions) and the references are checked before it commits (broken_references), as
    SQLite's documentation of ALTER TABLE prescribes."""
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.cursor().execute("PRAGMA foreign_keys=ON" if enforced else "PRAGMA foreign_keys=OFF")


def broken_references(connection: Connection) -> list[tuple[object, ...]]:
    """Rows referring to rows that do not exist (SQLite; PostgreSQL enforces them always)."""
    if connection.dialect.name != "sqlite":
        return []
    return [tuple(row) for row in connection.exec_driver_sql("PRAGMA foreign_key_check")]


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(database: Database) -> str | None:
    async with database.engine.connect() as connection:
        return await connection.run_sync(_current)
