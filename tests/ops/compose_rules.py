"""What a reviewer checks in compose.yaml and .dockerignore, as code (see dockerfile_rules.py).

compose.yaml: PostgreSQL health-checked and Yishi started only once it answers, Yishi's
DATABASE_URL pointing at it, secrets only from .env, named volumes (the one for Yishi where
the image keeps its data), restart policies, and enough time for a graceful stop.
.dockerignore: the build context holds what the Dockerfile copies, and no database, .env,
virtualenv, git history or cache.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

from tests.ops.dockerfile_rules import SECRET_NAME

RESTART_POLICIES = {"always", "unless-stopped", "on-failure"}
INTERPOLATION = re.compile(r"\$\{\w+(:?[?-][^}]*)?\}")
INTERPOLATED = "${}"  # what a URL is parsed with in place of each ${...}


def _url(value: str) -> SplitResult:
    """A URL with compose interpolations in it (their `?`, ` ` and `:` are not the URL's)."""
    return urlsplit(INTERPOLATION.sub(INTERPOLATED, value))


def seconds(duration: str | int) -> float:
    """A compose duration ("30s", "1m30s", "1500ms") in seconds."""
    if isinstance(duration, int):
        return float(duration)
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"not a compose duration: {duration!r}")
    return sum(float(number) * units[unit] for number, unit in parts)


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.partition("=")[::2] for item in raw)
    return {name: str(value) for name, value in raw.items()}


def _services(compose: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(the PostgreSQL service's name, Yishi's)."""
    services = compose.get("services") or {}
    postgres = next(
        (name for name, s in services.items() if str(s.get("image", "")).startswith("postgres:")),
        None,
    )
    yishi = next((name for name, s in services.items() if "build" in s), None)
    return postgres, yishi


def compose_problems(
    compose: Mapping[str, Any],
    *,
    image_volumes: list[str],
    pg_client_major: str | None,
    stop_grace: float,
) -> list[str]:
    postgres_name, yishi_name = _services(compose)
    if postgres_name is None or yishi_name is None:
        return ["services: compose.yaml needs a postgres:<tag> service and one built from ."]
    postgres = compose["services"][postgres_name]
    yishi = compose["services"][yishi_name]
    problems = _postgres_problems(postgres, pg_client_major)
    problems += _yishi_problems(yishi, postgres_name, postgres, stop_grace)
    problems += _volume_problems(compose, yishi, image_volumes)
    for name, service in compose["services"].items():
        if service.get("restart") not in RESTART_POLICIES:
            problems.append(f"restart: {name} is not restarted after a crash or a reboot")
        for key, value in environment_of(service).items():
            password = _url(value).password if "://" in value else None
            if SECRET_NAME.search(key) and not INTERPOLATION.fullmatch(value):
                problems.append(f"compose-secret: {name}.{key} is written in compose.yaml")
            elif password not in (None, INTERPOLATED):
                problems.append(f"compose-secret: {name}.{key} has a literal password")
    return problems


def _postgres_problems(postgres: Mapping[str, Any], pg_client_major: str | None) -> list[str]:
    problems: list[str] = []
    tag = str(postgres["image"]).partition(":")[2]
    if not tag or tag == "latest":
        problems.append("postgres-tag: the PostgreSQL image is not pinned to a version")
    elif pg_client_major is not None and tag.split(".")[0].split("-")[0] != pg_client_major:
        problems.append(
            f"postgres-tag: postgres:{tag} but the image's pg_dump is {pg_client_major}"
            " (pg_dump refuses a newer server)"
        )
    test = (postgres.get("healthcheck") or {}).get("test") or []
    if "pg_isready" not in " ".join(test if isinstance(test, list) else [test]):
        problems.append("postgres-health: PostgreSQL has no pg_isready health check")
    return problems


def _yishi_problems(
    yishi: Mapping[str, Any],
    postgres_name: str,
    postgres: Mapping[str, Any],
    stop_grace: float,
) -> list[str]:
    problems: list[str] = []
    depends = yishi.get("depends_on") or {}
    if not isinstance(depends, Mapping) or (depends.get(postgres_name) or {}).get("condition") != (
        "service_healthy"
    ):
        problems.append("depends-healthy: Yishi does not wait for PostgreSQL to be healthy")
    url = environment_of(yishi).get("DATABASE_URL", "")
    parts = _url(url)
    pg_env = environment_of(postgres)
    if parts.scheme != "postgresql+asyncpg" or parts.hostname != postgres_name:
        problems.append(f"database-url: DATABASE_URL {url!r} does not point at {postgres_name}")
    elif parts.path.lstrip("/") != pg_env.get("POSTGRES_DB") or parts.username != pg_env.get(
        "POSTGRES_USER"
    ):
        problems.append("database-url: DATABASE_URL's user or database is not POSTGRES_*'s")
    if not yishi.get("env_file"):
        problems.append("env-file: Yishi reads no env_file (where the token belongs)")
    if seconds(yishi.get("stop_grace_period", "10s")) <= stop_grace:
        problems.append(f"stop-grace: the stop grace period leaves no room for {stop_grace} s")
    if yishi.get("build") not in (".", {"context": "."}):
        problems.append("build: Yishi is not built from the Dockerfile beside compose.yaml")
    return problems


def _volume_problems(
    compose: Mapping[str, Any], yishi: Mapping[str, Any], image_volumes: list[str]
) -> list[str]:
    problems: list[str] = []
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for mount in service.get("volumes") or []:
            source = str(mount).partition(":")[0]
            if source.startswith((".", "/", "~")) or source not in declared:
                problems.append(f"named-volumes: {name} mounts {source}, not a named volume")
    targets = {str(mount).split(":")[1] for mount in yishi.get("volumes") or []}
    for volume in image_volumes:
        if volume not in targets:
            problems.append(f"named-volumes: nothing keeps Yishi's {volume} across re-creation")
    return problems


def _pattern(glob: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match, plus **) as a regex on a context path;
    a pattern that names a directory also names everything below it."""
    glob = glob.strip("/")
    out = ""
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif glob[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return re.compile(out + "(?:/.*)?")


def ignored(path: str, dockerignore: str) -> bool:
    """Whether Docker leaves `path` (relative to the context) out: the last matching line
    decides, a `!` line takes back what an earlier one excluded."""
    verdict = False
    for line in dockerignore.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        if _pattern(line.lstrip("!")).fullmatch(path):
            verdict = not exception
    return verdict


def context_problems(
    dockerignore: str, *, copied: Iterable[str], must_leave_out: Iterable[str]
) -> list[str]:
    problems = [
        f"context-includes: {path} is copied but ignored"
        for path in copied
        if ignored(path, dockerignore)
    ]
    problems += [
        f"context-excludes: {path} would be sent to the builder"
        for path in must_leave_out
        if not ignored(path, dockerignore)
    ]
    return problems
