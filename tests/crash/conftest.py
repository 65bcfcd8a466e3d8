"""The bot as a real process, killed and restarted on the same database (docs/RELIABILITY.md)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.auxil.process import ProcessHarness
from tests.conftest import fresh_postgres_database

# What a healthy run logs at ERROR or above: nothing (a killed process just stops logging).
FAILURE = re.compile(r"^.* (?:ERROR|CRITICAL) .*$|^Traceback.*$", re.MULTILINE)


@asynccontextmanager
async def running(tmp_path: Path, database_url: str | None = None) -> AsyncIterator[ProcessHarness]:
    harness = ProcessHarness(tmp_path, database_url=database_url)
    await harness.start()
    try:
        yield harness
    except BaseException:
        print(harness.logs())  # shown by pytest for a failing test
        raise
    finally:
        await harness.stop()
    failures = FAILURE.findall(harness.logs())
    assert failures == [], f"the bot logged failures:\n{harness.logs()}"


@pytest.fixture
async def ph(tmp_path: Path) -> AsyncIterator[ProcessHarness]:
    """The bot as a subprocess on a SQLite file."""
    async with running(tmp_path) as harness:
        yield harness


@pytest.fixture(params=["sqlite", "postgresql"])
async def ph_both(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ProcessHarness]:
    """The same scenario on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        async with running(tmp_path) as harness:
            yield harness
    else:
        async with fresh_postgres_database() as url, running(tmp_path, url) as harness:
            yield harness
