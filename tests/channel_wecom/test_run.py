"""``yishi run --channel wecom`` (``--wecom-callback``): configured by YISHI_WECOM_*; a missing or
bad value stops it naming the variable; running, it answers on the long connection or, in
callback mode, WeCom's POSTs, and stops gracefully."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.cli import configured_channel
from bot.settings import load_settings
from channels.wecom.crypto import WeComCrypto
from emulators.wecom.callback_client import CallbackClient
from emulators.wecom.server import WeComEmulator
from tests.emulator_wecom.conftest import BOT_ID, GROUP, SECRET
from tests.unit.test_cli import yishi

CALLBACK = {
    "YISHI_WECOM_TOKEN": "yishiCallbackToken2026",
    "YISHI_WECOM_AES_KEY": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
}
LONG: tuple[str, ...] = ()  # the long connection: no flag
BY_CALLBACK = ("--wecom-callback",)


@pytest.mark.parametrize(
    ("flags", "env", "named"),
    [
        (LONG, {}, "YISHI_WECOM_BOT_ID is not set"),
        (LONG, {"YISHI_WECOM_BOT_ID": BOT_ID}, "YISHI_WECOM_SECRET is not set"),
        (
            LONG,
            {"YISHI_WECOM_BOT_ID": BOT_ID, "YISHI_WECOM_SECRET": SECRET, "YISHI_WECOM_WS_URL": "x"},
            "YISHI_WECOM_WS_URL='x' is not valid",
        ),
        (BY_CALLBACK, {}, "YISHI_WECOM_TOKEN is not set"),
        (
            BY_CALLBACK,
            {"YISHI_WECOM_TOKEN": CALLBACK["YISHI_WECOM_TOKEN"]},
            "YISHI_WECOM_AES_KEY is not set",
        ),
        (
            BY_CALLBACK,
            CALLBACK | {"YISHI_WECOM_AES_KEY": "tooShort"},
            "YISHI_WECOM_AES_KEY='<hidden>' is not valid: expected the EncodingAESKey",
        ),
        (
            BY_CALLBACK,
            CALLBACK | {"YISHI_WECOM_TOKEN": "with spaces!"},
            "YISHI_WECOM_TOKEN='<hidden>' is not valid",
        ),
        (
            BY_CALLBACK,
            CALLBACK | {"YISHI_WECOM_LISTEN": "nowhere"},
            "YISHI_WECOM_LISTEN='nowhere' is not valid: expected host:port",
        ),
    ],
)
def test_a_missing_or_bad_wecom_setting_stops_it_naming_the_variable(
    tmp_path: Path, flags: tuple[str, ...], env: dict[str, str], named: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}"
    result = yishi("run", "--channel", "wecom", *flags, cwd=tmp_path, DATABASE_URL=url, **env)
    assert result.returncode == 2
    assert named in result.stderr, result.stderr
    assert not (tmp_path / "untouched.db").exists()
    assert "tooShort" not in result.stderr  # a secret is not repeated, even a wrong one


@asynccontextmanager
async def yishi_running(
    tmp_path: Path, *flags: str, **env: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``yishi run --channel wecom <flags>`` as a process, its output in yishi.log; killed at
    the end if it is still running."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "YISHI_", "DATABASE_URL"))
    }
    environment |= {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'yishi.db'}",
        "YISHI_HEALTH_LISTEN": "off",
    } | env
    with (tmp_path / "yishi.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--channel",
            "wecom",
            *flags,
            cwd=tmp_path,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_it_runs_on_the_long_connection_and_stops_on_sigterm(
    tmp_path: Path, emu: WeComEmulator
) -> None:
    credentials = {"YISHI_WECOM_BOT_ID": BOT_ID, "YISHI_WECOM_SECRET": SECRET}
    async with yishi_running(tmp_path, YISHI_WECOM_WS_URL=emu.ws_url, **credentials) as process:
        await emu.wait_for(lambda: BOT_ID in emu.live, timeout=60)
        issued = await emu.mention("zhangsan", GROUP, "/help")
        frame = await emu.wait_for_frame("aibot_respond_msg", req_id=issued.req_id, timeout=10)
        assert frame.errcode == 0
        assert "@议事 /bind" in (emu.world.seen_by("lisi")[-1].text or "")  # an unbound group
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
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


def test_callback_mode_is_not_telegrams(tmp_path: Path) -> None:
    result = yishi(
        "run", "--channel", "telegram", "--wecom-callback", cwd=tmp_path, TELEGRAM_BOT_TOKEN="1:x"
    )
    assert result.returncode == 2
    assert "--wecom-callback is for --channel wecom or both" in result.stderr


@pytest.mark.parametrize(
    ("env", "channel"),
    [({}, "wecom"), ({"TELEGRAM_BOT_TOKEN": "1:x"}, "both")],
)
def test_wecom_callback_asks_for_wecom(env: dict[str, str], channel: str) -> None:
    settings = load_settings(_env_file=None, **env)
    assert configured_channel(settings, wecom_callback=True) == channel


def test_both_channels_in_callback_mode_need_its_settings(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}"
    result = yishi(
        "run",
        "--wecom-callback",
        cwd=tmp_path,
        DATABASE_URL=url,
        TELEGRAM_BOT_TOKEN="1:x",
        YISHI_WECOM_TOKEN=CALLBACK["YISHI_WECOM_TOKEN"],
    )
    assert result.returncode == 2
    assert "YISHI_WECOM_AES_KEY is not set" in result.stderr, result.stderr
    assert not (tmp_path / "untouched.db").exists()


def test_an_address_in_use_stops_it_naming_the_variable(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        result = yishi(
            "run",
            "--channel",
            "wecom",
            "--wecom-callback",
            cwd=tmp_path,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'yishi.db'}",
            YISHI_WECOM_LISTEN=listen,
            YISHI_HEALTH_LISTEN="off",
            **CALLBACK,
        )
    assert result.returncode == 2
    assert f"YISHI_WECOM_LISTEN={listen}: the WeCom callback server cannot listen" in (
        result.stderr
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_it_runs_in_callback_mode_and_stops_on_sigterm(
    tmp_path: Path, emu: WeComEmulator
) -> None:
    port = free_port()
    crypto = WeComCrypto(CALLBACK["YISHI_WECOM_TOKEN"], CALLBACK["YISHI_WECOM_AES_KEY"])
    client = CallbackClient(f"http://127.0.0.1:{port}/wecom/callback", crypto, clock=emu.clock)
    listen = f"127.0.0.1:{port}"
    async with yishi_running(
        tmp_path, *BY_CALLBACK, YISHI_WECOM_LISTEN=listen, **CALLBACK
    ) as process:
        await until_listening(port)
        assert await client.verify_url("1616140317555161061") == "1616140317555161061"
        emu.attach_callback(BOT_ID, client)
        issued = await emu.mention("zhangsan", GROUP, "/help")
        frame = await emu.wait_for_frame("aibot_respond_msg", req_id=issued.req_id)
        assert frame.errcode == 0 and frame.via == "callback"
        assert "/bind" in (emu.world.seen_by("lisi")[-1].text or "")  # an unbound group's help
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    output = (tmp_path / "yishi.log").read_text()
    assert "callback mode" in output
    assert CALLBACK["YISHI_WECOM_TOKEN"] not in output
    assert CALLBACK["YISHI_WECOM_AES_KEY"] not in output


async def until_listening(port: int) -> None:
    """Waits (up to a minute: start-up migrates the database) until the port takes connections."""
    async with asyncio.timeout(60):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return
