"""The image's HEALTHCHECK command, run here against a stand-in for the container: a parent
process (tini's place, PID 1 in the container) with one child (yishi's place). Healthy while
the child runs; unhealthy once it is stopped or has died unreaped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.dockerfile_rules import exec_form, runtime_stage

ROOT = Path(__file__).parents[2]
CONTAINER_INIT = "/proc/1/task/1/children"
# The parent starts a child and never reaps it, so a killed child stays a zombie.
PARENT = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen(['sleep', '300'])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(300)\n"
)


def _health_command() -> list[str]:
    health = runtime_stage((ROOT / "Dockerfile").read_text()).last("HEALTHCHECK")
    assert health is not None
    argv = exec_form(health.arguments.partition(" CMD ")[2].strip())
    assert argv is not None and argv[:2] == ["python", "-c"]
    assert CONTAINER_INIT in argv[2]
    return argv


def _healthy(parent: int) -> bool:
    _, flag, code = _health_command()
    stand_in = code.replace(CONTAINER_INIT, f"/proc/{parent}/task/{parent}/children")
    result = subprocess.run(
        [sys.executable, flag, stand_in], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode in (0, 1), result.stderr  # Docker: 0 healthy, 1 unhealthy
    return result.returncode == 0


@pytest.fixture
def container() -> Iterator[tuple[int, int]]:
    """(the stand-in init's pid, its child's pid)."""
    if not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists():
        pytest.skip("this kernel does not list a task's children (CONFIG_PROC_CHILDREN)")
    with subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        try:
            yield parent.pid, child
        finally:
            for pid in (child, parent.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _wait_for_state(pid: int, states: str) -> None:
    """Until the kernel shows the process in one of `states` (a signal is asynchronous)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state in states:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never reached a state in {states!r}")


def test_healthy_while_the_bot_runs(container: tuple[int, int]) -> None:
    parent, _ = container
    assert _healthy(parent)


def test_unhealthy_when_the_bot_is_stopped(container: tuple[int, int]) -> None:
    parent, child = container
    os.kill(child, signal.SIGSTOP)
    _wait_for_state(child, "Tt")
    assert not _healthy(parent)
    os.kill(child, signal.SIGCONT)
    _wait_for_state(child, "SR")
    assert _healthy(parent)


def test_unhealthy_when_the_bot_died(container: tuple[int, int]) -> None:
    parent, child = container
    os.kill(child, signal.SIGKILL)
    _wait_for_state(child, "Z")
    assert not _healthy(parent)
