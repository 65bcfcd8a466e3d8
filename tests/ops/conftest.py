"""Operating Yishi: the `yishi db ...` commands an operator runs, as a real process, and a
running bot that serves /healthz, /readyz and /metrics, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
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


class Served(Harness):
    """The harness's bot with its health listener on a free port of the loopback address."""

    def __init__(self, tmp_path: Path, **options: Any) -> None:
        super().__init__(
            tmp_path,
            settings={"YISHI_HEALTH_LISTEN": "127.0.0.1:0"},
            serve_health=True,
            **options,
        )

    @property
    def health_url(self) -> str:
        assert self.app is not None
        server = self.app.bot_data.health_server
        assert server is not None, "the health listener did not start"
        return f"http://127.0.0.1:{server.port}"

    async def get(self, path: str) -> tuple[int, Any]:
        """GET ``path``: (status, JSON body, or the text for /metrics)."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.health_url + path, timeout=aiohttp.ClientTimeout(total=30)) as answer,
        ):
            if answer.content_type == "application/json":
                return answer.status, await answer.json()
            return answer.status, await answer.text()


@asynccontextmanager
async def served(tmp_path: Path, database_url: str | None = None) -> AsyncIterator[Served]:
    harness = Served(tmp_path, database_url=database_url)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def hs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Served]:
    """The served bot, on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        async with served(tmp_path) as harness:
            yield harness
    else:
        async with fresh_postgres_database() as url, served(tmp_path, url) as harness:
            yield harness


async def wait_for_readiness(hs: Served, ready: bool, timeout: float = 30.0) -> dict[str, Any]:  # noqa: ASYNC109
    """The /readyz answer once it says ``ready`` (polling: the bot's state changes by itself)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        status, body = await hs.get("/readyz")
        if body["ready"] is ready:
            assert status == (200 if ready else 503), (status, body)
            return body
        assert loop.time() < deadline, f"/readyz never became ready={ready}: {body}"
        await asyncio.sleep(0.1)
