"""The bot token never appears in logs or error messages.

``yishi run`` is started as a real process with a recognisable token where Telegram (the
emulator) rejects it (401), where ``TELEGRAM_BASE_URL`` points to something that is not a
Bot API server (404), where nothing answers, and as a running bot whose calls fail (5xx on
polling and sending, then the server gone). python-telegram-bot itself writes the token into
the 401/404 error ("The token `...` was rejected by the server"): ``bot/redaction.py`` filters
every log record and the traceback of an error that ends the process.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import sys
from pathlib import Path

from bot.redaction import REDACTED, RedactSecrets, SecretRegistry, secret_part
from emulators.telegram import BotApiEmulator
from tests.auxil.process import ROOT

TOKEN = "424242:AAE-secret-PART-that-must-never-be-shown"
SECRET = TOKEN.split(":", 1)[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _yishi_run(tmp_path: Path, name: str, base_url: str) -> asyncio.subprocess.Process:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("YISHI_", "TELEGRAM_", "DATABASE_URL"))
    }
    environment |= {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / name}.db",
        "YISHI_ADMIN_IDS": "1",
        "YISHI_LEASE_TTL": "2s",
        "PTB_TIMEDELTA": "1",
        "PYTHONPATH": str(ROOT),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=environment,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _output(process: asyncio.subprocess.Process, timeout: float = 60) -> str:  # noqa: ASYNC109
    out, _ = await asyncio.wait_for(process.communicate(), timeout)
    return out.decode("utf-8", errors="replace")


async def test_a_rejected_token_is_reported_without_the_token(tmp_path: Path) -> None:
    other = BotApiEmulator(token="111:another-bot")  # Telegram answers 401 to our token
    await other.start()
    try:
        rejected, not_an_api, nothing = await asyncio.gather(
            _yishi_run(tmp_path, "rejected", other.base_url),
            _yishi_run(tmp_path, "not-an-api", other.url + "/nothing/here/bot"),
            _yishi_run(tmp_path, "nothing", f"http://127.0.0.1:{_free_port()}/bot"),
        )
        outputs = await asyncio.gather(_output(rejected), _output(not_an_api), _output(nothing))
    finally:
        await other.stop()
    for output in outputs:
        assert SECRET not in output, output
    for process, output in zip((rejected, not_an_api), outputs, strict=False):
        assert process.returncode == 2, output
        assert "Telegram did not accept TELEGRAM_BOT_TOKEN" in output
        # python-telegram-bot did put the token into its error: it was redacted.
        assert f"424242:{REDACTED}" in output
    assert nothing.returncode != 0 and "Cannot connect" in outputs[2]


async def test_a_running_bot_whose_calls_fail_logs_no_token(tmp_path: Path) -> None:
    emu = BotApiEmulator(token=TOKEN)
    await emu.start()
    bot = await _yishi_run(tmp_path, "running", emu.base_url)
    try:
        await emu.wait_until(lambda: bool(emu.calls_of("getUpdates")), timeout=60)
        emu.add_user(1, "王主任")
        emu.add_group(-100, "社区工作群", admins=[1])
        await emu.wait_for_bot_message(-100, timeout=20)
        # Three each: the transport retries a 5xx twice before the handler sees it.
        emu.fail_next("sendMessage", 500, "Internal Server Error", count=3)
        emu.fail_next("getChatMember", 502, "Bad Gateway", count=3)
        sent = emu.send_message(-100, 1, "/setup 幸福社区")  # fails, and is apologised for
        await emu.wait_for_bot_message(-100, after=sent.message_id, timeout=30)
        sent = emu.send_message(-100, 1, "/lang en")  # its check of the admin fails
        await emu.wait_for_bot_message(-100, after=sent.message_id, timeout=30)
    finally:
        if bot.returncode is None:
            bot.terminate()
        output = await _output(bot)
        await emu.stop()
    assert SECRET not in output, output
    assert "ERROR" in output and "WARNING" in output  # the failures were logged


def test_the_filter_redacts_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    registry = SecretRegistry()
    registry.add(secret_part(TOKEN))
    handler.addFilter(RedactSecrets(registry))
    log = logging.getLogger("tests.security.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("POST https://api.telegram.org/bot%s/getMe", TOKEN)
        log.warning(f"token {TOKEN} in the message itself")
        try:
            raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getUpdates failed")
        except RuntimeError:
            log.exception("polling failed", stack_info=True)
    finally:
        log.removeHandler(handler)
    written = stream.getvalue()
    assert SECRET not in written
    assert written.count(REDACTED) == 3, written  # two messages, the exception
