from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.auxil.harness import Harness
from tests.conftest import migrated_postgres_database, migrated_sqlite_copy

# `h` is the running bot and its emulated Telegram; tests read as h.say(chat, user, text).


def _no_handler_errors(caplog: pytest.LogCaptureFixture) -> None:
    failures = [
        record.getMessage()
        for record in caplog.get_records("call")
        if record.levelno >= logging.ERROR
    ]
    assert failures == [], f"the bot logged errors: {failures}"


@asynccontextmanager
async def running(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, **options: Any
) -> AsyncIterator[Harness]:
    """A started harness, stopped afterwards; the test fails if the bot logged an error.
    Its database is migrated already (tests/conftest.py): the upgrade at start-up is a no-op."""
    harness = Harness(tmp_path, **options)
    if "database_url" not in options:
        await migrated_sqlite_copy(tmp_path / "yishi.db")
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
    _no_handler_errors(caplog)


@asynccontextmanager
async def running_on(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, **options: Any
) -> AsyncIterator[Harness]:
    """``running`` on ``database``: "sqlite", or "postgresql" (a new database of its own)."""
    if database == "sqlite":
        async with running(tmp_path, caplog, **options) as harness:
            yield harness
    else:
        async with (
            migrated_postgres_database() as url,
            running(tmp_path, caplog, database_url=url, **options) as harness,
        ):
            yield harness


@pytest.fixture
async def h(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    async with running(tmp_path, caplog) as harness:
        yield harness


@pytest.fixture
async def h_en(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    async with running(tmp_path, caplog, locale="en") as harness:
        yield harness


@pytest.fixture
async def h_pg(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    """The bot on PostgreSQL instead of SQLite."""
    async with (
        migrated_postgres_database() as url,
        running(tmp_path, caplog, database_url=url) as harness,
    ):
        yield harness


@pytest.fixture(params=["sqlite", "postgresql"])
def both(request: pytest.FixtureRequest) -> Harness:
    """The same test on SQLite, then on PostgreSQL."""
    harness: Harness = request.getfixturevalue("h" if request.param == "sqlite" else "h_pg")
    return harness
