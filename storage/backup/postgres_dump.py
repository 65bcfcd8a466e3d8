"""PostgreSQL: ``pg_dump`` in its custom format, ``pg_restore`` back.

The tools take libpq's connection settings; DATABASE_URL is SQLAlchemy's
(``postgresql+asyncpg://user:password@host:port/db``), so it is turned into libpq's
environment variables: the password goes through ``PGPASSWORD``, never on a command line
that ``ps`` shows to every user of the machine.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.backup.facts import BackupRefused

# asyncpg's ``ssl`` query values and libpq's ``sslmode`` words.
_SSL_MODES = {"true": "require", "false": "disable"}


def libpq_environment(url: str) -> dict[str, str]:
    parsed = make_url(url)
    settings = {
        "PGHOST": parsed.host,
        "PGPORT": None if parsed.port is None else str(parsed.port),
        "PGUSER": parsed.username,
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
    }
    query = {key: str(value) for key, value in parsed.query.items()}
    if "host" in query:  # a Unix socket directory
        settings["PGHOST"] = query["host"]
    ssl = query.get("sslmode") or query.get("ssl")
    if ssl:
        settings["PGSSLMODE"] = _SSL_MODES.get(ssl.lower(), ssl)
    # Nothing of the operator's own libpq environment may redirect the tools elsewhere.
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    return inherited | {key: value for key, value in settings.items() if value}


def find_tool(name: str, server_major: int | None = None) -> str:
    found = shutil.which(name)
    if found is None:
        version = f" {server_major}" if server_major else ""
        raise BackupRefused(
            f"{name} is not installed (or not on PATH). It comes with PostgreSQL's client "
            f"programs, of the server's major version{version} or newer: e.g. "
            f"`apt install postgresql-client{'-' + str(server_major) if server_major else ''}` "
            "on Debian or Ubuntu, or use the tools of the PostgreSQL container."
        )
    return found


async def _run(arguments: list[str], environment: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        *arguments,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        tool = Path(arguments[0]).name
        said = err.decode(errors="replace").strip()
        raise BackupRefused(f"{tool} failed (exit status {process.returncode}):\n{said}")
    return out.decode(errors="replace")


async def tool_major(tool: str) -> int:
    said = await _run([tool, "--version"], dict(os.environ))  # "pg_dump (PostgreSQL) 15.20 ..."
    match = re.search(r"\)\s*(\d+)", said)
    if match is None:
        raise BackupRefused(f"Could not read the version of {tool} from {said!r}.")
    return int(match.group(1))


async def dump(url: str, destination: Path, server_major: int) -> None:
    tool = find_tool("pg_dump", server_major)
    major = await tool_major(tool)
    if major < server_major:
        raise BackupRefused(
            f"{tool} is version {major}, older than the PostgreSQL server ({server_major}): "
            f"it cannot dump it. Install postgresql-client-{server_major} and put its pg_dump "
            f"first on PATH (on Debian: /usr/lib/postgresql/{server_major}/bin)."
        )
    await _run([tool, "--format=custom", f"--file={destination}"], libpq_environment(url))


async def check_readable(path: Path) -> None:
    """Refuses a file that is not a dump pg_restore can read."""
    tool = find_tool("pg_restore")
    try:
        await _run([tool, "--list", str(path)], dict(os.environ))
    except BackupRefused as failure:
        raise BackupRefused(
            f"{path} is not a backup pg_restore can read (a custom-format pg_dump file, as "
            f"`yishi db backup` makes on PostgreSQL). {failure}"
        ) from None


async def revision_in(path: Path) -> str | None:
    """The alembic revision recorded in a dump, read from its data without restoring it."""
    tool = find_tool("pg_restore")
    script = await _run(
        [tool, "--data-only", "--table=alembic_version", "--file=-", str(path)],
        dict(os.environ),
    )
    lines = script.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line:
            following = lines[number + 1] if number + 1 < len(lines) else "\\."
            return None if following == "\\." else following.split("\t")[0]
    return None


async def restore(url: str, path: Path, *, first: str = "") -> None:
    """The dump's SQL (pg_restore) run by psql in one transaction after the SQL ``first``
    (dropping what the database holds): it all happens, or nothing does. (pg_restore's own
    ``--clean`` drops only what the dump has, in its order: tables a later migration added
    stay, and their constraints stop it.)"""
    writer = find_tool("pg_restore")
    runner = find_tool("psql")
    environment = libpq_environment(url)
    reading, writing = os.pipe()
    try:
        script = await asyncio.create_subprocess_exec(
            writer, "--no-owner", "--no-privileges", "--file=-", str(path),
            stdin=asyncio.subprocess.DEVNULL, stdout=writing,
            stderr=asyncio.subprocess.PIPE, env=environment,
        )  # fmt: skip
        commands = ["--command", first] if first else []
        applying = await asyncio.create_subprocess_exec(
            runner, "--no-psqlrc", "--quiet", "--single-transaction",
            "--set=ON_ERROR_STOP=1", *commands, "--file=-",
            stdin=reading, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, env=environment,
        )  # fmt: skip
    finally:
        os.close(reading)
        os.close(writing)
    (_, script_errors), (_, apply_errors) = await asyncio.gather(
        script.communicate(), applying.communicate()
    )
    if script.returncode != 0:
        said = script_errors.decode(errors="replace").strip()
        raise BackupRefused(f"pg_restore failed (exit status {script.returncode}):\n{said}")
    if applying.returncode != 0:
        said = apply_errors.decode(errors="replace").strip()
        raise BackupRefused(
            f"psql could not apply the backup (exit status {applying.returncode}); the "
            f"transaction was rolled back, nothing was changed:\n{said}"
        )
