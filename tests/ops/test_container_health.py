"""The image's HEALTHCHECK command, run here as Docker runs it inside the container: against a
real bot serving its health listener. Healthy while the bot answers /healthz; unhealthy once
it stopped (or never served it)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.ops.conftest import Served, served
from tests.ops.dockerfile_rules import exec_form, runtime_stage

ROOT = Path(__file__).parents[2]


def _health_command() -> list[str]:
    health = runtime_stage((ROOT / "Dockerfile").read_text()).last("HEALTHCHECK")
    assert health is not None
    argv = exec_form(health.arguments.partition(" CMD ")[2].strip())
    assert argv is not None and argv[:2] == ["python", "-c"]
    return argv


def _healthy(listen: str) -> bool:
    _, flag, code = _health_command()
    environment = {**os.environ, "YISHI_HEALTH_LISTEN": listen}
    result = subprocess.run(
        [sys.executable, flag, code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environment,
    )
    assert result.returncode in (0, 1), result.stderr  # Docker: 0 healthy, 1 unhealthy
    return result.returncode == 0


def _listen(harness: Served) -> str:
    return harness.health_url.removeprefix("http://")


async def test_healthy_while_the_bot_serves_and_unhealthy_once_it_stopped(
    tmp_path: Path,
) -> None:
    async with served(tmp_path) as harness:
        listen = _listen(harness)
        # In a thread: the bot answering /healthz runs on this test's event loop.
        assert await asyncio.to_thread(_healthy, listen)
    assert not _healthy(listen)


def test_unhealthy_when_the_health_listener_is_off() -> None:
    assert not _healthy("off")
