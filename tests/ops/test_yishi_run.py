"""``yishi run`` as a real process serves /readyz and /metrics on YISHI_HEALTH_LISTEN, in
long-polling and in webhook mode, and ``yishi status`` reads the running bot; a taken
address is a warning, and the bot consults on without its endpoint."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.auxil.process import ProcessHarness
from tests.auxil.webhook import WebhookProcessHarness, free_port
from tests.conftest import fresh_postgres_database
from tests.ops.test_status import yishi_status

USER, PRIVATE = 10, 10


async def _get(port: int, path: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"http://127.0.0.1:{port}{path}", timeout=aiohttp.ClientTimeout(total=30)
        ) as answer,
    ):
        if answer.content_type == "application/json":
            return answer.status, await answer.json()
        return answer.status, await answer.text()


async def _ready(port: int, timeout: float = 30.0) -> dict[str, Any]:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        status, body = await _get(port, "/readyz")
        if status == 200:
            return dict(body)
        assert loop.time() < deadline, body
        await asyncio.sleep(0.1)


@asynccontextmanager
async def _bot(
    kind: type[ProcessHarness], tmp_path: Path, database: str, port: int
) -> AsyncIterator[ProcessHarness]:
    async with (
        fresh_postgres_database() if database == "postgresql" else _sqlite() as url,
    ):
        harness = kind(tmp_path, database_url=url)
        await harness.emu.start()
        try:
            await harness.start_bot(YISHI_HEALTH_LISTEN=f"127.0.0.1:{port}")  # type: ignore[call-arg]
            yield harness
        finally:
            await harness.stop()


@asynccontextmanager
async def _sqlite() -> AsyncIterator[None]:
    yield None


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_yishi_run_serves_readiness_and_metrics(
    tmp_path: Path, database: str, mode: str
) -> None:
    port = free_port()
    kind = WebhookProcessHarness if mode == "webhook" else ProcessHarness
    async with _bot(kind, tmp_path, database, port) as h:
        h.user(USER, "王主任")
        sent = h.emu.send_message(PRIVATE, USER, "/start")
        await h.emu.wait_for_bot_message(PRIVATE, after=sent.message_id, timeout=30)
        body = await _ready(port)
        expected = "webhook: set" if mode == "webhook" else "polling: getUpdates answered"
        assert body["checks"]["updates"]["detail"].startswith(expected), body
        status, metrics = await _get(port, "/metrics")
        assert status == 200
        assert 'yishi_updates_handled_total{type="message"} 1.0' in metrics
        assert "yishi_lease_held 1.0" in metrics
        code, out = await yishi_status(h.database_url, f"127.0.0.1:{port}", h.clock_file)
        assert code == 0, out
        assert f"updates {expected}" in out
        # Stopped (SIGTERM): the lease was given up, and status says the bot is not running.
        await h.stop_bot()
        code, out = await yishi_status(h.database_url, f"127.0.0.1:{port}", h.clock_file)
        assert code == 1, out
        assert "not running (no instance holds the lease)" in out


async def test_a_taken_address_is_a_warning_and_the_bot_runs(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with _bot(ProcessHarness, tmp_path, "sqlite", port) as h:
            h.user(USER, "王主任")
            sent = h.emu.send_message(PRIVATE, USER, "/start")
            reply = await h.emu.wait_for_bot_message(PRIVATE, after=sent.message_id, timeout=30)
            assert reply.text
            log = h.logs()
    assert f"health and metrics are NOT served: cannot listen on 127.0.0.1:{port}" in log
    assert "choose another YISHI_HEALTH_LISTEN" in log
