"""The image builds and runs as it should - where a Docker daemon answers; skipped, saying
why, elsewhere (the lint in test_container_lint.py runs everywhere)."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
BUILD_TIMEOUT = 1800  # seconds: a first build downloads the base image, the font, the wheels


def _docker_unavailable() -> str | None:
    """None when a Docker daemon answers, else why the image cannot be built here."""
    docker = shutil.which("docker")
    if docker is None:
        return "there is no docker command on this machine"
    try:
        info = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 60 s"
    if info.returncode != 0 or not info.stdout.strip():
        said = (info.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"no Docker daemon answers here (`docker info`: {said})"
    return None


UNAVAILABLE = _docker_unavailable()
pytestmark = pytest.mark.skipif(
    UNAVAILABLE is not None,
    reason=f"the image is not built: {UNAVAILABLE}; the Dockerfile and compose.yaml are "
    "still linted (tests/ops/test_container_lint.py)",
)


def _docker(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    tag = f"yishi-test:{secrets.token_hex(4)}"
    built = _docker("build", "--tag", tag, str(ROOT), timeout=BUILD_TIMEOUT)
    assert built.returncode == 0, built.stderr[-4000:]
    yield tag
    _docker("image", "rm", "--force", tag)


def test_the_image_runs_yishi_as_its_own_user(image: str) -> None:
    version = _docker("run", "--rm", image, "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("yishi ")
    who = _docker("run", "--rm", "--entrypoint", "id", image, "-u")
    assert who.stdout.strip() not in {"", "0"}


def test_the_image_keeps_its_database_on_the_volume(image: str) -> None:
    mount = f"yishi-test-{secrets.token_hex(4)}:/var/lib/yishi"
    try:
        upgraded = _docker("run", "--rm", "--volume", mount, image, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        listed = _docker("run", "--rm", "-v", mount, "--entrypoint", "ls", image, "/var/lib/yishi")
        assert "yishi.db" in listed.stdout.split()
    finally:
        _docker("volume", "rm", "--force", mount.partition(":")[0])


def test_the_image_says_how_it_stops_and_how_it_is_checked(image: str) -> None:
    inspected = _docker("image", "inspect", image)
    config = json.loads(inspected.stdout)[0]["Config"]
    assert config["StopSignal"] == "SIGTERM"
    assert config["Healthcheck"]["Test"][0] == "CMD"
    assert config["Volumes"] == {"/var/lib/yishi": {}}
