"""Webhook mode (`yishi run` with YISHI_WEBHOOK_URL): the bot as a process, Telegram's posts
coming from the emulator through a stand-in for the TLS reverse proxy (tests/auxil/webhook.py).

Anyone who learns the address can post to it: without the secret token nothing is stored or
run; a repeated update is handled once; an update answered 200 survives a SIGKILL.
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.tables import app_settings, bind_codes, inbox, registrations
from tests.auxil.harness import SUPERADMIN
from tests.auxil.process import rows
from tests.auxil.webhook import PUBLIC_URL, WebhookProcessHarness
from tests.auxil.world import BUILDING_CHAT, RESIDENT, STAFF_CHAT, community
from tests.conftest import fresh_postgres_database
from tests.crash.conftest import FAILURE

SECRET_PATH = re.compile(re.escape(PUBLIC_URL) + r"/[0-9a-f]{32}")
REFUSED = "webhook: refused a request"


@asynccontextmanager
async def webhook_bot(
    tmp_path: Path, database_url: str | None = None, **options: Any
) -> AsyncIterator[WebhookProcessHarness]:
    harness = WebhookProcessHarness(tmp_path, database_url=database_url, **options)
    await harness.emu.start()
    try:
        await harness.start_bot()
        yield harness
    except BaseException:
        print(harness.logs())  # shown by pytest for a failing test
        raise
    finally:
        await harness.stop()
    failures = FAILURE.findall(harness.logs())
    assert failures == [], f"the bot logged failures:\n{harness.logs()}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def wh(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[WebhookProcessHarness]:
    """The bot in webhook mode, its secret generated, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        async with webhook_bot(tmp_path) as harness:
            yield harness
    else:
        async with fresh_postgres_database() as url, webhook_bot(tmp_path, url) as harness:
            yield harness


def command(update_id: int, chat_id: int, user_id: int, text: str) -> dict[str, Any]:
    """A message update as Telegram would post it (a group command)."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "chat": {"id": chat_id, "type": "supergroup", "title": "幸福社区工作群"},
            "from": {"id": user_id, "is_bot": False, "first_name": "王主任"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": text.index(" ")}],
        },
    }


async def generated_secret(h: WebhookProcessHarness) -> str:
    values = await h.rows(select(app_settings.c.value))
    assert len(values) == 1
    return str(values[0].value)


async def test_forged_and_replayed_posts_change_nothing(wh: WebhookProcessHarness) -> None:
    h = wh
    # The secret was generated and kept; Telegram was given it and a path nobody can guess.
    secret = await generated_secret(h)
    [registered] = h.set_webhook_calls()
    assert registered["secret_token"] == secret
    assert len(secret) >= 43
    assert SECRET_PATH.fullmatch(registered["url"])
    assert secret not in registered["url"]
    # People use the bot: every update comes by webhook, with the secret; none by polling.
    await community(h)
    await h.settle()
    assert not [c for c in h.emu.calls if c.method == "getUpdates"]
    deliveries = h.emu.webhook.deliveries
    assert deliveries and {d.status for d in deliveries} == {200}
    codes = await h.count(rows(bind_codes))
    stored = await h.count(rows(inbox))
    staff_messages = len(h.emu.bot_messages(STAFF_CHAT))

    # A forged update "from the super-admin": no header, a wrong secret, the right secret on
    # a path that is not the bot's.
    forged = command(90_001, STAFF_CHAT, SUPERADMIN, "/newgrid 伪造网格")
    assert await h.post(forged, secret=None) == 403
    assert await h.post(forged, secret=secret[:-1] + ("A" if secret[-1] != "A" else "B")) == 403
    assert await h.post(forged, secret="") == 403
    wrong_path = h.local_url.rsplit("/", 1)[0] + "/" + "0" * 32
    assert await h.post(forged, secret=secret, url=wrong_path) == 404
    # A replayed update: the one that created the first bind code, posted again with the
    # right secret (as a retrying Telegram, or someone who captured it, would).
    newgrid = next(d.update for d in deliveries if "/newgrid" in str(d.update))
    assert await h.post(newgrid, secret=secret) == 200
    # With the secret, an update the library cannot read (a press without chat_instance) is
    # taken (200: Telegram would post it again and again) and skipped; one with no id is not.
    unreadable = {
        "update_id": 90_002,
        "callback_query": {"id": "q", "from": {"id": RESIDENT, "is_bot": False}, "data": "x"},
    }
    assert await h.post(unreadable, secret=secret) == 200
    assert await h.post({"not": "an update"}, secret=secret) == 400
    await h.settle()

    assert await h.count(rows(bind_codes)) == codes  # no grid bind code made, none twice
    assert await h.count(rows(inbox)) == stored + 1  # the unreadable one, not the forged one
    assert await h.rows(select(inbox).where(inbox.c.update_id == 90_002))
    assert not await h.rows(select(inbox).where(inbox.c.update_id == 90_001))
    assert len(h.emu.bot_messages(STAFF_CHAT)) == staff_messages  # nothing said
    log = h.logs()
    assert log.count(REFUSED) == 3  # one warning per refused request
    assert "伪造网格" not in log and "newgrid" not in log  # and never the body
    assert "update 90002 could not be read" in log


async def test_an_update_answered_200_is_handled_after_a_kill(wh: WebhookProcessHarness) -> None:
    h = wh
    await community(h)
    await h.settle()
    secret = await generated_secret(h)
    # The bot is stuck replying to a resident's /topics; their /register comes next in that
    # chat: Telegram posts it and the bot answers 200 (it is stored), then it is killed
    # before handling it.
    h.emu.hold("sendMessage")
    h.emu.send_message(BUILDING_CHAT, RESIDENT, "/topics")
    await h.held("sendMessage", BUILDING_CHAT)
    register = h.emu.send_message(BUILDING_CHAT, RESIDENT, "/register 2-502 89.5")

    def answered_200() -> bool:
        return any(d.status == 200 and "/register" in str(d.update) for d in deliveries())

    def deliveries() -> list[Any]:
        return h.emu.webhook.deliveries

    await h.emu.wait_until(answered_200)
    assert h.emu.pending_updates == 0  # Telegram will not post it again
    await h.kill_bot()
    assert await h.count(rows(registrations)) == 0
    h.emu.release("sendMessage")

    await h.start_bot()

    def replies() -> list[Any]:
        return [m for m in h.emu.bot_messages(BUILDING_CHAT) if m.message_id > register.message_id]

    # /register's answer in the group may come after its update is marked handled: wait for it.
    await h.emu.wait_until(lambda: len(replies()) >= 2)
    await h.settle()
    assert await h.count(rows(registrations)) == 1
    assert len(replies()) == 2  # /topics answered once, /register once
    assert not await h.rows(select(inbox).where(inbox.c.handled_at.is_(None)))
    # The restart kept the generated secret.
    assert [c["secret_token"] for c in h.set_webhook_calls()] == [secret, secret]


async def test_the_command_line_and_a_configured_secret_then_back_to_polling(
    tmp_path: Path,
) -> None:
    secret = "a-configured-secret_0123456789"
    async with webhook_bot(tmp_path, secret=secret) as h:
        await h.stop_bot()  # started from the environment; now as the command line
        await h.start_bot(
            "--webhook",
            "--webhook-url",
            "https://yishi.test/from-the-flag",
            "--port",
            str(h.port),
            YISHI_WEBHOOK_URL="https://elsewhere.test/ignored",
            YISHI_WEBHOOK_PORT="1",
        )
        registered = h.set_webhook_calls()[-1]
        assert registered["url"].startswith("https://yishi.test/from-the-flag/")
        assert registered["secret_token"] == secret  # YISHI_WEBHOOK_SECRET: nothing generated
        assert await h.count(rows(app_settings)) == 0
        h.user(SUPERADMIN, "王主任")
        await h.group(STAFF_CHAT, "幸福社区工作群", admins=[SUPERADMIN])
        reply = await h.say(STAFF_CHAT, SUPERADMIN, "/setup 幸福社区")
        assert "幸福社区" in (reply.text or "")
        # Back to long polling: the webhook is deleted (getUpdates would answer 409 while it
        # is set) and commands are answered.
        await h.stop_bot()
        h.process = h.spawn(YISHI_WEBHOOK_URL="", YISHI_WEBHOOK_SECRET="")
        await h.emu.wait_for_call("getUpdates", timeout=60)
        assert h.emu.world.webhook.url == ""
        assert "幸福社区" in ((await h.say(STAFF_CHAT, SUPERADMIN, "/help")).text or "")
        await h.stop_bot()


@pytest.mark.parametrize(
    ("arguments", "environment", "said"),
    [
        (["--webhook"], {}, "Webhook mode needs the public https URL"),
        (["--webhook", "--webhook-url", "http://bot.example.org"], {}, "YISHI_WEBHOOK_URL="),
        ([], {"YISHI_WEBHOOK_URL": "https://bot.example.org:9999/tg"}, "port 443, 80, 88"),
        ([], {"YISHI_WEBHOOK_URL": PUBLIC_URL, "YISHI_WEBHOOK_SECRET": "short"}, "16 to 256"),
        ([], {"YISHI_WEBHOOK_URL": PUBLIC_URL, "YISHI_WEBHOOK_PORT": "http"}, "a port number"),
    ],
)
async def test_bad_webhook_settings_are_refused_with_a_reason(
    tmp_path: Path, arguments: list[str], environment: dict[str, str], said: str
) -> None:
    h = WebhookProcessHarness(tmp_path)
    await h.emu.start()
    try:
        process = h.spawn(*arguments, **{"YISHI_WEBHOOK_URL": "", **environment})
        assert await process.wait(timeout=60) == 2
        assert said in process.output()
        assert "short" not in process.output()  # a refused secret is not repeated
        assert "Traceback" not in process.output()
        assert not h.emu.calls  # it stopped before talking to Telegram
    finally:
        await h.stop()


async def test_a_taken_port_or_a_refused_url_stops_with_a_reason(tmp_path: Path) -> None:
    h = WebhookProcessHarness(tmp_path)
    await h.emu.start()
    try:
        with socket.socket() as taken:
            # the port the kernel gives this socket, taken from here on (a port found free
            # and bound later could be another worker's by then)
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            process = h.spawn(YISHI_WEBHOOK_PORT=str(port))
            assert await process.wait(timeout=60) == 2
        assert f"Cannot serve webhooks on 127.0.0.1:{port}" in process.output()
        assert not [c for c in h.emu.calls if c.method == "setWebhook"]
        h.emu.fail_next("setWebhook", 400, "Bad Request: bad webhook: Failed to resolve host")
        process = h.spawn()
        assert await process.wait(timeout=60) == 2
        said = process.output()
        assert f"Telegram refused the webhook URL {PUBLIC_URL}: " in said
        assert "failed to resolve host" in said.lower()  # Telegram's reason
        for output in (said, h.logs()):
            assert "Traceback" not in output
    finally:
        await h.stop()
