"""A running bot that serves /healthz, /readyz and /metrics, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.auxil.harness import Harness
from tests.conftest import fresh_postgres_database


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
