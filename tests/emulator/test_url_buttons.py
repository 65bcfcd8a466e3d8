"""The emulator checks inline buttons that open a page as Telegram does: a ``url`` is an
http(s) URL with a host or a tg:// link; a ``web_app`` button only in a private chat with the
bot (Bot API, InlineKeyboardButton), its URL https. Driven by python-telegram-bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from telegram.error import BadRequest

from emulators.telegram import BotApiEmulator

pytestmark = pytest.mark.asyncio

ALICE = 1001
GROUP = -1001234567890


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    emulator.add_user(ALICE, "Alice")
    emulator.add_group(GROUP, "Building", members=[ALICE], creator=ALICE, added_by=ALICE)
    emulator.send_message(ALICE, ALICE, "/start")
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest_asyncio.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as b:
        yield b


def keyboard(button: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("vote", callback_data="v:1:0")], [button]])


@pytest.mark.parametrize(
    "url",
    [
        "https://yishi.example.org/t/12",
        "http://127.0.0.1:8080/m/3",
        "https://t.me/yishi_bot/yishi?startapp=t12",
        "tg://resolve?domain=yishi_bot",
    ],
)
async def test_url_buttons_telegram_accepts(emu: BotApiEmulator, bot: Bot, url: str) -> None:
    sent = await bot.send_message(
        GROUP, "ballot", reply_markup=keyboard(InlineKeyboardButton("🌐", url=url))
    )
    message = emu.message(GROUP, sent.message_id)
    assert message is not None and message.button("🌐")["url"] == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://yishi.example.org/t/12", "Unsupported URL protocol"),
        ("https:///t/12", "Wrong HTTP URL"),
        ("yishi.example.org/t/12", "Unsupported URL protocol"),
        ("https://yishi.example.org/t/1 2", "BUTTON_URL_INVALID"),
    ],
)
async def test_url_buttons_telegram_refuses(
    emu: BotApiEmulator, bot: Bot, url: str, says: str
) -> None:
    before = len(emu.bot_messages(GROUP))
    with pytest.raises(BadRequest, match=rf"(?i){says}"):
        await bot.send_message(
            GROUP, "ballot", reply_markup=keyboard(InlineKeyboardButton("🌐", url=url))
        )
    assert len(emu.bot_messages(GROUP)) == before


async def test_a_web_app_button_only_in_a_private_chat(emu: BotApiEmulator, bot: Bot) -> None:
    button = InlineKeyboardButton("🌐", web_app=WebAppInfo("https://yishi.example.org/tg"))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_TYPE_INVALID"):
        await bot.send_message(GROUP, "ballot", reply_markup=keyboard(button))
    sent = await bot.send_message(
        GROUP,
        "ballot",
        reply_markup=keyboard(InlineKeyboardButton("🌐", url="https://yishi.example.org/t/1")),
    )
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_TYPE_INVALID"):
        await bot.edit_message_reply_markup(GROUP, sent.message_id, reply_markup=keyboard(button))
    await bot.send_message(ALICE, "your page", reply_markup=keyboard(button))
    plain = InlineKeyboardButton("🌐", web_app=WebAppInfo("http://yishi.example.org/tg"))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_URL_INVALID"):
        await bot.send_message(ALICE, "your page", reply_markup=keyboard(plain))
