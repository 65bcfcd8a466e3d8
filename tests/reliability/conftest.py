from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.auxil.harness import Harness
from tests.conftest import fresh_postgres_database
from tests.e2e.conftest import running

# `h` / `h_pg`: the running bot and its emulated Telegram on SQLite / PostgreSQL, as in
# tests/e2e (the test fails if the bot logged an error).


@pytest.fixture
async def h(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    async with running(tmp_path, caplog) as harness:
        yield harness


@pytest.fixture
async def h_pg(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    async with (
        fresh_postgres_database() as url,
        running(tmp_path, caplog, database_url=url) as harness,
    ):
        yield harness


@pytest.fixture(params=["sqlite", "postgresql"])
def both(request: pytest.FixtureRequest) -> Harness:
    """The same test on SQLite, then on PostgreSQL."""
    harness: Harness = request.getfixturevalue("h" if request.param == "sqlite" else "h_pg")
    return harness
