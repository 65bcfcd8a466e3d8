"""``yishi status`` as an operator runs it: against a database with no bot, with a bot that
was killed, with a running bot (whose health endpoint adds the Telegram side), and against a
database that cannot be reached. Exit status 0 when ready, 1 when not."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.lease import LEASE_NAME
from bot.settings import SettingsError, load_settings
from storage import migrate
from storage.database import Database
from tests.auxil.process import ROOT
from tests.conftest import fresh_postgres_database
from tests.ops.conftest import Served, wait_for_readiness


async def yishi_status(
    database_url: str, health_listen: str = "off", clock: Path | None = None
) -> tuple[int, str]:
    """``yishi status``'s exit status and output; ``clock``: the bot's test clock file (as
    ``yishi run`` reads it, tests/auxil/process.py), for a bot whose time the test moves."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("YISHI_", "TELEGRAM_", "DATABASE_URL"))
    } | {
        "DATABASE_URL": database_url,
        "YISHI_HEALTH_LISTEN": health_listen,
        "PTB_TIMEDELTA": "1",
        "PYTHONPATH": str(ROOT),
    }
    if clock is not None:
        environment["YISHI_CLOCK_FILE"] = str(clock)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "status",
        env=environment,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, " ".join(out.decode("utf-8").split())  # columns: one space


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'yishi.db'}"
    else:
        async with fresh_postgres_database() as url:
            yield url


async def test_no_bot_then_a_killed_bot(database_url: str) -> None:
    database = Database(database_url)
    try:
        await migrate.upgrade(database)
        code, out = await yishi_status(database_url)
        assert code == 1, out
        assert "not running (no instance holds the lease)" in out
        assert "database answers (schema revision" in out
        assert "NOT ready: the bot is not running." in out
        # A bot killed ten minutes ago left its lease behind.
        beat = datetime.now(UTC) - timedelta(minutes=10)
        async with database.transaction() as repos:
            await repos.leases.take(
                LEASE_NAME, "host pid 42 (abc123)", beat, beat + timedelta(seconds=20)
            )
        code, out = await yishi_status(database_url)
    finally:
        await database.close()
    assert code == 1, out
    assert "not running: host pid 42 (abc123) stopped its heartbeat 10 min ago" in out


async def test_a_running_bot_is_ready(hs: Served, tmp_path: Path) -> None:
    hs.user(10, "王主任")
    await hs.group(-100, "社区工作群", admins=[10])  # the bot's greeting: an update handled
    await hs.settle()
    await wait_for_readiness(hs, True)
    assert hs.app is not None and hs.app.bot_data.health_server is not None
    port = hs.app.bot_data.health_server.port
    clock = tmp_path / "clock.txt"
    clock.write_text(hs.clock.now().isoformat(), encoding="utf-8")
    code, out = await yishi_status(hs.database_url, f"127.0.0.1:{port}", clock)
    assert code == 0, out
    holder = hs.app.bot_data.health.lease.holder if hs.app.bot_data.health else "?"
    assert f"running: {holder}" in out
    assert "updates polling: getUpdates answered" in out
    assert "last update handled" in out
    assert "outbox nothing waiting" in out
    assert "due work nothing is due" in out
    assert out.endswith("Ready.")
    # Its endpoint off (or another's): the database's facts alone, still ready.
    code, out = await yishi_status(hs.database_url, clock=clock)
    assert code == 0, out
    assert "updates unknown (YISHI_HEALTH_LISTEN is off)" in out


async def test_a_database_that_cannot_be_reached(tmp_path: Path) -> None:
    missing = tmp_path / "yishi.db"
    code, out = await yishi_status(f"sqlite+aiosqlite:///{missing}")
    assert code == 1, out
    assert "database cannot be reached (no such file)" in out
    assert not missing.exists()  # asking did not create an empty database
    for url in (
        f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'yishi.db'}",
        "postgresql+asyncpg://yishi:pg-secret-pass@127.0.0.1:1/yishi",
    ):
        code, out = await yishi_status(url)
        assert code == 1, out
        assert "database cannot be reached" in out
        assert "NOT ready: the database cannot be reached." in out
        assert "pg-secret-pass" not in out


def test_the_health_listener_setting() -> None:
    """YISHI_HEALTH_LISTEN: loopback by default, ``off``, any host:port; a bad value is
    refused naming the variable."""
    assert load_settings(_env_file=None).health_address == ("127.0.0.1", 9464)
    assert load_settings(YISHI_HEALTH_LISTEN="off", _env_file=None).health_address is None
    assert load_settings(YISHI_HEALTH_LISTEN="0.0.0.0:9100", _env_file=None).health_address == (
        "0.0.0.0",
        9100,
    )
    assert load_settings(YISHI_HEALTH_LISTEN="[::1]:9464", _env_file=None).health_address == (
        "::1",
        9464,
    )
    for bad in ("9464", "localhost:99999", "http://x:1"):
        with pytest.raises(SettingsError, match="YISHI_HEALTH_LISTEN"):
            load_settings(YISHI_HEALTH_LISTEN=bad, _env_file=None)
