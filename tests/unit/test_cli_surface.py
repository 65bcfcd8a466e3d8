"""What ``yishi`` tells an operator about itself (issue 13, item 7): its version, every
environment variable with its meaning and default, and logs at YISHI_LOG_LEVEL in
YISHI_LOG_FORMAT — on SQLite and PostgreSQL (``yishi db upgrade`` against each)."""

from __future__ import annotations

import asyncio
import json
import re
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.environment_help import default_text, variables
from bot.settings import Settings
from tests.conftest import fresh_postgres_database
from tests.unit.test_cli import yishi

LICENSE = Path(__file__).resolve().parents[2] / "LICENSE"


def test_version_is_the_installed_package_version(tmp_path: Path) -> None:
    result = yishi("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"yishi {version('yishi')}"


def test_help_lists_every_environment_variable_with_its_meaning_and_default(
    tmp_path: Path,
) -> None:
    result = yishi("--help", cwd=tmp_path)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # wrapped lines joined
    for name, field in Settings.model_fields.items():
        variable = field.alias or name.upper()
        assert re.search(rf"(^|\s){variable}\s", result.stdout), variable
        assert field.description and field.description in text, variable
    assert "DATABASE_URL SQLAlchemy URL" in text
    assert "(default: sqlite+aiosqlite:///./yishi.db)" in text
    assert "YISHI_ESCALATION_SLA" in text and "(default: 3d)" in text
    assert "YISHI_DIGEST_TIME daily digest time, local (default: 08:30)" in text
    assert "YISHI_LOG_LEVEL how much the bot logs (default: INFO)" in text
    assert "YISHI_LOG_FORMAT" in text and "(default: text)" in text


def test_every_setting_says_what_it_means() -> None:
    """A variable added without a description would show an empty line in --help."""
    assert [name for name, field in variables() if not field.description] == []
    assert default_text(None) == "unset" and default_text(frozenset()) == "unset"


@pytest.mark.parametrize(
    ("variable", "value"), [("YISHI_LOG_LEVEL", "loud"), ("YISHI_LOG_FORMAT", "xml")]
)
def test_a_bad_logging_setting_names_the_variable_and_changes_nothing(
    tmp_path: Path, variable: str, value: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}"
    result = yishi("db", "upgrade", cwd=tmp_path, DATABASE_URL=url, **{variable: value})
    assert result.returncode == 2
    assert f"{variable}={value!r} is not valid" in result.stderr
    assert not (tmp_path / "untouched.db").exists()


async def _upgrade_logs(url: str, cwd: Path, **env: str) -> list[str]:
    result = await asyncio.to_thread(yishi, "db", "upgrade", cwd=cwd, DATABASE_URL=url, **env)
    assert result.returncode == 0, result.stderr
    assert "revision" in result.stdout
    return [line for line in result.stderr.splitlines() if line.strip()]


async def _logging_follows_the_settings(url: str, tmp_path: Path) -> None:
    debug = await _upgrade_logs(url, tmp_path, YISHI_LOG_LEVEL="debug", YISHI_LOG_FORMAT="json")
    records = [json.loads(line) for line in debug]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(record["level"] == "DEBUG" for record in records)
    # Never DEBUG from the libraries that would show raw updates or SQL parameters.
    assert not [
        r
        for r in records
        if r["level"] == "DEBUG" and r["logger"].startswith(("aiosqlite", "telegram"))
    ]
    quiet = await _upgrade_logs(url, tmp_path, YISHI_LOG_LEVEL="WARNING")
    assert not [line for line in quiet if " DEBUG " in line or " INFO " in line]
    text = await _upgrade_logs(url, tmp_path, YISHI_LOG_LEVEL="DEBUG")
    assert text and all(not line.startswith("{") for line in text)
    assert any(" DEBUG " in line for line in text)


async def test_logging_follows_the_settings_on_sqlite(tmp_path: Path) -> None:
    await _logging_follows_the_settings(f"sqlite+aiosqlite:///{tmp_path / 'y.db'}", tmp_path)


@pytest.mark.postgres
async def test_logging_follows_the_settings_on_postgresql(tmp_path: Path) -> None:
    async with fresh_postgres_database() as url:
        await _logging_follows_the_settings(url, tmp_path)


def test_the_license_is_the_declared_one() -> None:
    text = LICENSE.read_text("utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 the Yishi authors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text
    assert 'license = { text = "MIT" }' in (LICENSE.parent / "pyproject.toml").read_text("utf-8")
