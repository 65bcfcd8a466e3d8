"""``yishi run --channel wecom``: configured by YISHI_WECOM_*; a missing or bad value stops it
naming the variable; running, it answers on the long connection and stops gracefully."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import configured_channel
from bot.settings import load_settings
from emulators.wecom.server import WeComEmulator
from tests.emulator_wecom.conftest import BOT_ID, GROUP, SECRET
from tests.unit.test_cli import yishi


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "YISHI_WECOM_BOT_ID is not set"),
        ({"YISHI_WECOM_BOT_ID": BOT_ID}, "YISHI_WECOM_SECRET is not set"),
        (
            {"YISHI_WECOM_BOT_ID": BOT_ID, "YISHI_WECOM_SECRET": SECRET, "YISHI_WECOM_WS_URL": "x"},
            "YISHI_WECOM_WS_URL='x' is not valid",
        ),
    ],
)
def test_a_missing_or_bad_wecom_setting_stops_it_naming_the_variable(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}"
    result = yishi("run", "--channel", "wecom", cwd=tmp_path, DATABASE_URL=url, **env)
    assert result.returncode == 2
    assert named in result.stderr, result.stderr
    assert not (tmp_path / "untouched.db").exists()


async def test_it_runs_on_the_long_connection_and_stops_on_sigterm(
    tmp_path: Path, emu: WeComEmulator
) -> None:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "YISHI_", "DATABASE_URL"))
    }
    environment |= {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'yishi.db'}",
        "YISHI_WECOM_BOT_ID": BOT_ID,
        "YISHI_WECOM_SECRET": SECRET,
        "YISHI_WECOM_WS_URL": emu.ws_url,
        "YISHI_HEALTH_LISTEN": "off",
    }
    log = (tmp_path / "yishi.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--channel",
        "wecom",
        cwd=tmp_path,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        await emu.wait_for(lambda: BOT_ID in emu.live, timeout=60)
        issued = await emu.mention("zhangsan", GROUP, "/help")
        frame = await emu.wait_for_frame("aibot_respond_msg", req_id=issued.req_id, timeout=10)
        assert frame.errcode == 0
        assert "@议事 /bind" in (emu.world.seen_by("lisi")[-1].text or "")  # an unbound group
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        log.close()
    output = (tmp_path / "yishi.log").read_text()
    assert SECRET not in output


@pytest.mark.parametrize(
    ("env", "channel"),
    [
        ({"TELEGRAM_BOT_TOKEN": "1:x"}, "telegram"),
        ({"YISHI_WECOM_BOT_ID": BOT_ID}, "wecom"),
        ({"TELEGRAM_BOT_TOKEN": "1:x", "YISHI_WECOM_BOT_ID": BOT_ID}, "both"),
        ({}, "telegram"),  # neither: Telegram's explanation of what it needs
    ],
)
def test_without_channel_it_runs_what_is_configured(env: dict[str, str], channel: str) -> None:
    settings = load_settings(_env_file=None, **env)
    assert configured_channel(settings) == channel


def test_both_channels_need_the_wecom_settings_too(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}"
    result = yishi(
        "run", "--channel", "both", cwd=tmp_path, DATABASE_URL=url, TELEGRAM_BOT_TOKEN="1:x"
    )
    assert result.returncode == 2
    assert "YISHI_WECOM_BOT_ID is not set" in result.stderr, result.stderr
    assert not (tmp_path / "untouched.db").exists()
