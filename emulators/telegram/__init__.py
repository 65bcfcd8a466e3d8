"""A local Telegram Bot API emulator (aiohttp) for end-to-end tests, demos and benchmarks.

Typical use with python-telegram-bot::

    emu = BotApiEmulator()
    await emu.start()
    app = (
        Application.builder()
        .token(emu.token)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )
    emu.add_user(1001, "Alice")
    emu.add_group(-1001, "Building 3", members=[1001])
    sent = emu.send_message(-1001, 1001, "/start")
    reply = await emu.wait_for_bot_message(-1001, after=sent.message_id)
"""

from emulators.telegram.control import EmulatorClient, EmulatorError
from emulators.telegram.errors import ApiError
from emulators.telegram.server import BotApiEmulator
from emulators.telegram.world import (
    ApiCall,
    CallbackRecord,
    EmuChat,
    EmuFile,
    EmuMessage,
    EmuUser,
    MessageVersion,
)

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "CallbackRecord",
    "EmuChat",
    "EmuFile",
    "EmuMessage",
    "EmuUser",
    "EmulatorClient",
    "EmulatorError",
    "MessageVersion",
]
