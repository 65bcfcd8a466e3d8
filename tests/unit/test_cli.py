"""The command line as an operator meets it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def yishi(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "YISHI_", "DATABASE_URL"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_without_a_token_explains_how_to_get_one(tmp_path: Path) -> None:
    result = yishi("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "BotFather" in result.stderr and "yishi demo" in result.stderr


def test_a_bad_setting_names_the_variable(tmp_path: Path) -> None:
    result = yishi("run", cwd=tmp_path, YISHI_TIMEZONE="Nowhere/Land")
    assert result.returncode == 2
    assert "YISHI_TIMEZONE='Nowhere/Land'" in result.stderr


def test_db_upgrade_migrates_a_fresh_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    first = yishi("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)
    assert first.returncode == 0, first.stderr
    assert "revision" in first.stdout
    again = yishi("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)
    assert again.returncode == 0 and again.stdout == first.stdout


@pytest.mark.parametrize("args", [(), ("frobnicate",), ("db",)])
def test_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    assert yishi(*args, cwd=tmp_path).returncode == 2


def test_a_bad_catalogue_is_refused_at_start_up_with_the_field(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text('default = "x"\n[[entries]]\nkey = "x"\nname_zh = "甲"\n', "utf-8")
    result = yishi(
        "run",
        cwd=tmp_path,
        TELEGRAM_BOT_TOKEN="123:abc",
        YISHI_CATALOG=str(catalogue),
    )
    assert result.returncode == 2
    assert "YISHI_CATALOG" in result.stderr and "name_en" in result.stderr
