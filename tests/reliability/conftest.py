from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.auxil.harness import Harness

# `h` / `h_pg` / `both`: the running bot and its emulated Telegram on SQLite, PostgreSQL, or
# each in turn, as in tests/e2e (the test fails if the bot logged an error).
from tests.e2e.conftest import both, h, h_pg, running_on

__all__ = ["both", "h", "h_pg", "paced_postgres", "paced_sqlite"]


async def _paced(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Harness]:
    (tmp_path / database).mkdir()
    async with running_on(
        database, tmp_path / database, caplog, production_limits=True, tally_interval=3.0
    ) as harness:
        yield harness


# At Telegram's pace: the production limiter and tally interval. Two at once (one per
# database) share the machine, as a test of both in one minute needs.
@pytest.fixture
async def paced_sqlite(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    async for harness in _paced("sqlite", tmp_path, caplog):
        yield harness


@pytest.fixture
async def paced_postgres(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Harness]:
    async for harness in _paced("postgresql", tmp_path, caplog):
        yield harness
