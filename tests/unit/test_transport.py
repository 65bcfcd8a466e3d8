"""The aiohttp transport behaves as python-telegram-bot's httpx one, against the emulator."""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.settings import SettingsError, load_settings
from channels.telegram.app import build_application
from channels.telegram.transport import (
    READ_TIMEOUT,
    AiohttpRequest,
    RetryingRequest,
    build_requests,
)
from emulators.telegram import BotApiEmulator

USER, GROUP = 501, -100501
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x03\x00\x00\x00\x02rest"
TRANSPORTS = [AiohttpRequest, HTTPXRequest]


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    emulator.add_user(USER, "Alice")
    emulator.add_group(GROUP, "楼栋群", members=[USER], admins=[USER], creator=USER)
    try:
        yield emulator
    finally:
        await emulator.stop()


def bot_on(emu: BotApiEmulator, request: BaseRequest) -> Bot:
    return Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url, request=request)


async def test_calls_buttons_uploads_and_downloads(emu: BotApiEmulator) -> None:
    async with bot_on(emu, AiohttpRequest()) as bot:
        assert (await bot.get_me()).username == emu.bot_user["username"]
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("同意", callback_data="v:1:0")]])
        sent = await bot.send_message(
            GROUP, "<b>议题</b> &amp; 表决", "HTML", reply_markup=keyboard
        )
        assert sent.text == "议题 & 表决"
        assert emu.message(GROUP, sent.message_id).button_texts() == ["同意"]
        document = await bot.send_document(
            GROUP, io.BytesIO(b"a,b\n1,2\n"), filename="议题 #1.csv", caption="导出"
        )
        assert document.document is not None and document.document.file_name == "议题 #1.csv"
        assert document.caption == "导出"
        photo = await bot.send_photo(GROUP, PNG, caption="图表")
        assert (photo.photo[-1].width, photo.photo[-1].height) == (3, 2)
        upload = emu.calls_of("sendDocument")[-1].params["document"]
        assert upload == {"upload": "议题 #1.csv", "size": 8, "content_type": "text/csv"}
        file = await bot.get_file(document.document.file_id)
        assert bytes(await file.download_as_bytearray()) == b"a,b\n1,2\n"


@pytest.mark.parametrize("transport", TRANSPORTS, ids=lambda t: t.__name__)
@pytest.mark.parametrize(
    ("code", "description", "expected"),
    [
        (400, "Bad Request: message is not modified", BadRequest),
        (403, "Forbidden: bot was blocked by the user", Forbidden),
        (409, "Conflict: terminated by other getUpdates request", Conflict),
        (502, "Bad Gateway", NetworkError),
    ],
)
async def test_http_errors_map_as_with_httpx(
    emu: BotApiEmulator,
    transport: type[BaseRequest],
    code: int,
    description: str,
    expected: type[TelegramError],
) -> None:
    async with bot_on(emu, transport()) as bot:
        emu.fail_next("sendMessage", code, description)
        with pytest.raises(expected) as raised:
            await bot.send_message(GROUP, "x")
        assert type(raised.value) is expected
        # PTB drops the "Bad Request: " prefix, whichever transport brought the answer.
        assert description.split(": ")[-1].lower() in raised.value.message.lower()


@pytest.mark.parametrize("transport", TRANSPORTS, ids=lambda t: t.__name__)
async def test_flood_and_migration_parameters(
    emu: BotApiEmulator, transport: type[BaseRequest]
) -> None:
    async with bot_on(emu, transport()) as bot:
        emu.fail_next("answerCallbackQuery", 429, retry_after=7)
        with pytest.raises(RetryAfter) as flood:
            await bot.answer_callback_query("1")
        assert flood.value.retry_after.total_seconds() == 7  # type: ignore[union-attr]
        emu.fail_next("sendMessage", 400, "Bad Request: group chat was upgraded")
        emu._faults["sendMessage"][0].parameters = {"migrate_to_chat_id": -100777}
        with pytest.raises(ChatMigrated) as migrated:
            await bot.send_message(GROUP, "x")
        assert migrated.value.new_chat_id == -100777


@pytest.mark.parametrize("transport", TRANSPORTS, ids=lambda t: t.__name__)
async def test_a_refused_connection_is_a_network_error(transport: type[BaseRequest]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = transport()
    async with request:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot1:x/getMe")
        assert not isinstance(raised.value, TimedOut)
        assert "Connect" in raised.value.message


@pytest.mark.parametrize("transport", TRANSPORTS, ids=lambda t: t.__name__)
async def test_a_slow_answer_times_out(emu: BotApiEmulator, transport: type[BaseRequest]) -> None:
    async with bot_on(emu, transport(read_timeout=0.1)) as bot:  # type: ignore[call-arg]
        emu.latency = 0.5
        with pytest.raises(TimedOut):
            await bot.send_message(GROUP, "slow")
        # A caller's timeout wins over the instance's default.
        sent = await bot.send_message(GROUP, "patient", read_timeout=2)
        assert sent.text == "patient"


async def test_a_full_pool_times_out_without_sending(emu: BotApiEmulator) -> None:
    async with bot_on(emu, AiohttpRequest(connection_pool_size=1, pool_timeout=0.05)) as bot:
        emu.latency = 0.3
        before = len(emu.calls_of("sendMessage"))
        results = await asyncio.gather(
            bot.send_message(GROUP, "first"),
            bot.send_message(GROUP, "second"),
            return_exceptions=True,
        )
        failures = [r for r in results if isinstance(r, TimedOut)]
        assert len(failures) == 1 and "Pool timeout" in failures[0].message
        assert len(emu.calls_of("sendMessage")) == before + 1


async def test_lifecycle_is_that_of_httpx(emu: BotApiEmulator) -> None:
    request = AiohttpRequest()
    url = f"{emu.base_url}{emu.token}/getMe"
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(url)
    async with request:
        assert (await request.post(url))["is_bot"] is True  # type: ignore[index]
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(url)
    await request.initialize()  # a shut-down request can be opened again, like httpx's
    try:
        assert (await request.post(url))["is_bot"] is True  # type: ignore[index]
    finally:
        await request.shutdown()
    await request.shutdown()  # twice is harmless


def test_the_setting_picks_the_transport(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YISHI_HTTP_CLIENT", raising=False)
    default = load_settings(TELEGRAM_BOT_TOKEN="1:x", DATABASE_URL="sqlite+aiosqlite:///x.db")
    assert default.http_client == "aiohttp"
    application = build_application(default)  # so the end-to-end tests run on aiohttp
    assert isinstance(application.bot.request, RetryingRequest)
    assert isinstance(application.bot.request.inner, AiohttpRequest)
    monkeypatch.setenv("YISHI_HTTP_CLIENT", "HTTPX")
    settings = load_settings(TELEGRAM_BOT_TOKEN="1:x", DATABASE_URL="sqlite+aiosqlite:///x.db")
    assert settings.http_client == "httpx"
    application = build_application(settings)
    assert isinstance(application.bot.request, RetryingRequest)
    assert isinstance(application.bot.request.inner, HTTPXRequest)
    monkeypatch.setenv("YISHI_HTTP_CLIENT", "urllib")
    with pytest.raises(SettingsError, match=r"YISHI_HTTP_CLIENT='urllib'.*aiohttp or httpx"):
        load_settings()
    for client, kind in (("aiohttp", AiohttpRequest), ("httpx", HTTPXRequest)):
        request, get_updates = build_requests(client)  # type: ignore[arg-type]
        assert isinstance(request, RetryingRequest) and isinstance(request.inner, kind)
        assert request.read_timeout == READ_TIMEOUT
        assert isinstance(get_updates, kind)  # the updater retries getUpdates itself


@pytest.mark.parametrize("transport", TRANSPORTS, ids=lambda t: t.__name__)
async def test_broken_connections_and_5xx_are_retried_twice(
    emu: BotApiEmulator, transport: type[BaseRequest]
) -> None:
    async with bot_on(emu, RetryingRequest(transport(), delays=(0.01, 0.01))) as bot:
        emu.fail_next("sendMessage", 502, "Bad Gateway")
        emu.reset_next("sendMessage")
        sent = await bot.send_message(GROUP, "once")
        assert [m.text for m in emu.bot_messages(GROUP)] == ["once"]
        assert [c.ok for c in emu.calls_of("sendMessage")] == [False, False, True]
        emu.reset_next("getChatMember", count=2)  # the known "Server disconnected" flake
        assert (await bot.get_chat_member(GROUP, USER)).status == "creator"
        emu.fail_next("sendMessage", 500, count=3)  # a longer outage: the caller hears of it
        with pytest.raises(NetworkError):
            await bot.send_message(GROUP, "lost")
        assert len(emu.calls_of("sendMessage")) == 6
        # An edit whose answer was lost after Telegram made it: the retry finds nothing to
        # change, and "message is not modified" to an edit is success.
        emu.reset_next("editMessageText", after=True)
        assert await bot.edit_message_text("edited", GROUP, sent.message_id) is True
        assert emu.message(GROUP, sent.message_id).text == "edited"
        assert [c.ok for c in emu.calls_of("editMessageText")] == [True, False]
        with pytest.raises(BadRequest, match="not found"):  # other 400s stay errors
            await bot.edit_message_text("x", GROUP, 9999)


async def test_timeouts_and_get_updates_are_not_retried(emu: BotApiEmulator) -> None:
    retrying = RetryingRequest(AiohttpRequest(read_timeout=0.2), delays=(0.01, 0.01))
    async with bot_on(emu, retrying) as bot:
        emu.slow_next("sendMessage", 1.0)
        with pytest.raises(TimedOut):  # slow is not broken: sent once, never twice
            await bot.send_message(GROUP, "slow")
        assert len(emu.calls_of("sendMessage")) == 1
        emu.fail_next("getUpdates", 502, "Bad Gateway")
        with pytest.raises(NetworkError):
            await bot.get_updates(timeout=0)
        assert len(emu.calls_of("getUpdates")) == 1
