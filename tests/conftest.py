"""Shared fixtures: databases (SQLite and PostgreSQL) and the end-to-end harness."""

from __future__ import annotations

import os

# python-telegram-bot 22 warns (an error under our filterwarnings) unless opted in to timedeltas.
os.environ.setdefault("PTB_TIMEDELTA", "1")
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import migrate
from storage.database import Database
from tests.auxil.scratch import scratch_database

POSTGRES_URL = os.environ.get(
    "YISHI_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# .ci/run sets this so that an unreachable PostgreSQL fails the run instead of skipping.
REQUIRE_POSTGRES = os.environ.get("YISHI_REQUIRE_POSTGRES", "") not in ("", "0", "false")


async def _postgres_reachable() -> str | None:
    """None if PostgreSQL answers, else why not."""
    probe = Database(POSTGRES_URL)
    try:
        async with probe.connection() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means "not available here"
        return f"{type(error).__name__}: {error}"
    finally:
        await probe.close()
    return None


async def require_postgres() -> None:
    """Skip (locally) or fail (in CI) when PostgreSQL does not answer."""
    problem = await _postgres_reachable()
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_URL} is not reachable ({problem})"
        if REQUIRE_POSTGRES:
            pytest.fail(f"{message}; YISHI_REQUIRE_POSTGRES is set")
        pytest.skip(f"{message}; set YISHI_TEST_POSTGRES_URL to run these tests")


@asynccontextmanager
async def open_sqlite(path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{path}")
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.close()


@asynccontextmanager
async def open_postgres() -> AsyncIterator[Database]:
    """A fresh schema in the PostgreSQL test database, migrated, dropped afterwards."""
    await require_postgres()
    schema = f"yishi_test_{secrets.token_hex(6)}"
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(POSTGRES_URL, schema=schema)
    try:
        await migrate.upgrade(database)
        yield database
    finally:
        await database.close()
        async with admin.engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.close()


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_sqlite(tmp_path / "yishi.db") as database:
        yield database


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The same test on both stores."""
    if request.param == "sqlite":
        async with open_sqlite(tmp_path / "yishi.db") as database:
            yield database
    else:
        async with open_postgres() as database:
            yield database


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for a whole application; dropped afterwards."""
    await require_postgres()
    async with scratch_database(POSTGRES_URL, prefix="yishi_e2e") as url:
        yield url
