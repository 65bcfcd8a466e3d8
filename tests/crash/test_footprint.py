"""What ``yishi run`` loads: PTB without Telegram Passport's ``cryptography``
(channels/telegram/ptb.py), which the WeCom adapter installs and a Telegram bot does not use."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.auxil.harness import SUPERADMIN
from tests.auxil.process import ProcessHarness
from tests.auxil.world import STAFF_CHAT


async def test_a_running_telegram_bot_has_not_loaded_cryptography(ph: ProcessHarness) -> None:
    ph.user(SUPERADMIN, "王主任")
    await ph.group(STAFF_CHAT, "幸福社区工作群", admins=[SUPERADMIN])
    await ph.say(STAFF_CHAT, SUPERADMIN, "/help")  # it answers as before
    assert ph.emu.bot_messages(STAFF_CHAT), "the bot answered /help"
    assert ph.process is not None and ph.process.running
    maps = Path(f"/proc/{ph.process.popen.pid}/maps")
    mapped = await asyncio.to_thread(maps.read_text)
    assert "cryptography" not in mapped, "cryptography's native library is loaded"
