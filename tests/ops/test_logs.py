"""Structured logs (YISHI_LOG_FORMAT=json) and the secrets cut out of both formats.

Each secret the bot knows (the token's secret part, the webhook secret configured or
generated, WeCom's secret, AES key and callback token, a push webhook's key, the database
password) is logged in a message, as an argument, in an exception, in a stack and as an
``extra=`` field, through the formatters ``yishi`` installs: none of it is written, in
either format, and every JSON line is one object.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.log_output import JsonLines, RedactedText
from bot.redaction import REDACTED, RedactSecrets, SecretRegistry, register_settings
from bot.settings import Settings, load_settings
from emulators.telegram import BotApiEmulator
from tests.auxil.process import ROOT

TOKEN = "424242:AAE-secret-PART-that-must-never-be-shown"
WEBHOOK_SECRET = "configured_webhook_secret_0123456789"
GENERATED_SECRET = "generated-by-the-bot-at-its-first-start-XYZ"
WECOM_SECRET = "wecom-corp-secret-Zk39fj2KQ"
WECOM_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WECOM_TOKEN = "wecomCallbackTok"
PUSH_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
PUSH_URL = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={PUSH_KEY}"
DB_PASSWORD = "pg-pass-w0rd-secret"


def _registry() -> SecretRegistry:
    settings = Settings(
        TELEGRAM_BOT_TOKEN=TOKEN,
        YISHI_WEBHOOK_SECRET=WEBHOOK_SECRET,
        YISHI_WECOM_SECRET=WECOM_SECRET,
        YISHI_WECOM_AES_KEY=WECOM_AES_KEY,
        YISHI_WECOM_TOKEN=WECOM_TOKEN,
        DATABASE_URL=f"postgresql+asyncpg://yishi:{DB_PASSWORD}@db:5432/yishi",
        _env_file=None,
    )
    registry = SecretRegistry()
    register_settings(settings, registry)
    # as channels/telegram/app.py does once it generated the webhook secret
    registry.add(GENERATED_SECRET)
    return registry


# What must not be written, and what stays of it.
SECRETS = {
    "token": (TOKEN.split(":", 1)[1], f"424242:{REDACTED}"),
    "webhook secret": (WEBHOOK_SECRET, REDACTED),
    "generated webhook secret": (GENERATED_SECRET, REDACTED),
    "WeCom secret": (WECOM_SECRET, REDACTED),
    "WeCom AES key": (WECOM_AES_KEY, REDACTED),
    "WeCom token": (WECOM_TOKEN, REDACTED),
    "push webhook key": (PUSH_KEY, f"webhook/send?key={REDACTED}"),
    "push webhook upload key": (PUSH_KEY, f"webhook/upload_media?key={REDACTED}"),
    "database password": (DB_PASSWORD, REDACTED),
}
QUOTED = {  # how each appears in a log line
    "token": f"https://api.telegram.org/bot{TOKEN}/getMe",
    "push webhook key": PUSH_URL,
    "push webhook upload key": PUSH_URL.replace("/send?", "/upload_media?") + "&type=file",
    "database password": f"postgresql://yishi:{DB_PASSWORD}@db:5432/yishi",
}


@pytest.fixture
def captured(request: pytest.FixtureRequest) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    fmt, registry = request.param, _registry()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines(registry) if fmt == "json" else RedactedText(registry))
    handler.addFilter(RedactSecrets(registry))
    log = logging.getLogger(f"tests.ops.logs.{fmt}")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    try:
        yield log, stream
    finally:
        log.removeHandler(handler)


def _log_everywhere(log: logging.Logger, text: str) -> None:
    log.info(f"in the message: {text}")
    log.warning("as an argument: %s", text)
    log.info("in a field", extra={"url": text})
    try:
        raise RuntimeError(f"failed: {text}")
    except RuntimeError:
        log.exception("in an exception", stack_info=True)


@pytest.mark.parametrize("captured", ["text", "json"], indirect=True)
@pytest.mark.parametrize("kind", list(SECRETS))
def test_each_secret_is_redacted_in_both_formats(
    captured: tuple[logging.Logger, io.StringIO], kind: str
) -> None:
    log, stream = captured
    secret, shown = SECRETS[kind]
    _log_everywhere(log, QUOTED.get(kind, secret))
    written = stream.getvalue()
    assert secret not in written, written
    assert written.count(shown) >= 3, written  # message, argument, exception (JSON: field)
    if log.name.endswith("json"):
        lines = written.splitlines()
        assert len(lines) == 4
        entries = [json.loads(line) for line in lines]
        assert all(isinstance(entry, dict) for entry in entries)
        assert [e["level"] for e in entries] == ["INFO", "WARNING", "INFO", "ERROR"]
        assert shown in entries[2]["url"]
        assert shown in entries[3]["exception"] and "RuntimeError" in entries[3]["exception"]
        assert "stack" in entries[3]


def test_every_secret_setting_is_registered() -> None:
    """A SecretStr setting added later (the WeCom adapter's) is redacted with no more code."""
    settings = load_settings(
        TELEGRAM_BOT_TOKEN=TOKEN, YISHI_WEBHOOK_SECRET=WEBHOOK_SECRET, _env_file=None
    )
    registry = SecretRegistry()
    register_settings(settings, registry)
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            expected = secret.split(":", 1)[1] if field.alias == "TELEGRAM_BOT_TOKEN" else secret
            assert expected in registry, field.alias
    assert registry.redact("x" * 3) == "xxx"  # short values are not secrets: nothing cut


async def test_a_running_bot_logs_json_lines_without_its_token(tmp_path: Path) -> None:
    """``yishi run`` with YISHI_LOG_FORMAT=json: Telegram fails some calls, the bot logs
    warnings and errors; every line it writes is one JSON object and none holds a secret."""
    emu = BotApiEmulator(token=TOKEN)
    await emu.start()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("YISHI_", "TELEGRAM_", "DATABASE_URL"))
    } | {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": emu.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'yishi.db'}",
        "YISHI_ADMIN_IDS": "1",
        "YISHI_LOG_FORMAT": "json",
        "YISHI_HEALTH_LISTEN": "off",
        "YISHI_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PTB_TIMEDELTA": "1",
        "PYTHONPATH": str(ROOT),
    }
    bot = await asyncio.create_subprocess_exec(
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
    try:
        await emu.wait_until(lambda: bool(emu.calls_of("getUpdates")), timeout=60)
        emu.add_user(1, "王主任")
        emu.add_group(-100, "社区工作群", admins=[1])
        await emu.wait_for_bot_message(-100, timeout=20)
        emu.fail_next("sendMessage", 500, "Internal Server Error", count=3)
        sent = emu.send_message(-100, 1, "/setup 幸福社区")  # fails, and is apologised for
        await emu.wait_for_bot_message(-100, after=sent.message_id, timeout=30)
    finally:
        if bot.returncode is None:
            bot.terminate()
        out, _ = await asyncio.wait_for(bot.communicate(), 60)
        await emu.stop()
    output = out.decode("utf-8")
    assert bot.returncode == 0, output
    entries = [json.loads(line) for line in output.splitlines()]
    assert entries and all(isinstance(entry, dict) for entry in entries), output
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    levels = {entry["level"] for entry in entries}
    assert "ERROR" in levels, output  # the failure was logged, with its traceback
    assert TOKEN.split(":", 1)[1] not in output
    assert WEBHOOK_SECRET not in output
