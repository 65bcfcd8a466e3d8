"""Operating Yishi: the `yishi db ...` commands an operator runs, as a real process."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.auxil.harness import Harness
from tests.conftest import fresh_postgres_database
from tests.e2e.conftest import running

ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 120.0  # a cold start imports a lot, and the machine is shared


@dataclass(frozen=True)
class Ran:
    status: int
    out: str
    err: str


async def yishi(*args: str, database_url: str, cwd: Path, path: str | None = None) -> Ran:
    """``python -m bot <args>`` with DATABASE_URL, as an operator runs it; waits for it."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("YISHI_", "TELEGRAM_", "DATABASE_URL"))
    }
    environment |= {"DATABASE_URL": database_url, "PTB_TIMEDELTA": "1", "PYTHONPATH": str(ROOT)}
    if path is not None:
        environment["PATH"] = path
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=cwd, env=environment, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


@pytest.fixture(params=["sqlite", "postgresql"])
async def bot(
    request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Harness]:
    """The running bot (in-process, on the emulator) on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        async with running(tmp_path, caplog) as harness:
            yield harness
    else:
        async with (
            fresh_postgres_database() as url,
            running(tmp_path, caplog, database_url=url) as harness,
        ):
            yield harness


@asynccontextmanager
async def another_database(like: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database of the same kind as the one at ``like``."""
    if like.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / f'another-{secrets.token_hex(3)}.db'}"
    else:
        async with fresh_postgres_database() as url:
            yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a database that holds nothing yet, on SQLite, then on PostgreSQL."""
    async with another_database(request.param, tmp_path) as url:
        yield url
