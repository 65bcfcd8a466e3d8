"""End-to-end harness: the real PTB Application, polling the Bot API emulator over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram.ext import AIORateLimiter

from bot.clock import ManualClock
from bot.services import Services
from bot.settings import Settings, load_settings
from channels.telegram.app import (
    Companion,
    YishiApplication,
    build_application,
    start_polling,
    stop_polling,
)
from emulators.telegram import BotApiEmulator, EmuMessage

SUPERADMIN = 1
START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai


class Harness:
    """A running bot and the emulated Telegram it talks to, driven as users would."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        locale: str = "zh_CN",
        tally_interval: float = 0.05,
        database_url: str | None = None,
        production_limits: bool = False,
        settings: dict[str, str] | None = None,
        serve_health: bool = False,
        companions: Callable[[Settings], Sequence[Companion]] | None = None,
    ) -> None:
        self.tally_interval = tally_interval
        # True: the flood limits `yishi run` keeps (channels/telegram/ratelimit.py) instead of none.
        self.production_limits = production_limits
        self.extra_settings = settings or {}  # more variables, e.g. YISHI_HEALTH_LISTEN
        self.serve_health = serve_health  # /healthz, /readyz, /metrics as `yishi run` serves
        self.companions = companions  # the process's other channels, given its settings
        self.emu = BotApiEmulator()
        self.clock = ManualClock(START)
        self.database_url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'yishi.db'}"
        self.locale = locale
        self.app: YishiApplication | None = None

    async def start(self) -> None:
        await self.emu.start()
        await self.start_bot()

    async def start_bot(self) -> None:
        settings = load_settings(
            TELEGRAM_BOT_TOKEN=self.emu.token,
            TELEGRAM_BASE_URL=self.emu.base_url,
            DATABASE_URL=self.database_url,
            YISHI_ADMIN_IDS=str(SUPERADMIN),
            YISHI_LOCALE=self.locale,
            _env_file=None,
            **self.extra_settings,
        )
        # Telegram's flood limits are not what most tests are about: lift them.
        limiter = (
            None
            if self.production_limits
            else AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=1)
        )
        self.app = build_application(
            settings,
            clock=self.clock,
            rate_limiter=limiter,
            tally_interval=self.tally_interval,
            serve_health=self.serve_health,
            companions=self.companions(settings) if self.companions else (),
        )
        await start_polling(self.app, poll_timeout=1)

    async def stop(self) -> None:
        await self.stop_bot()
        await self.emu.stop()

    async def stop_bot(self) -> None:
        if self.app is not None:
            await stop_polling(self.app)
            self.app = None

    async def restart(self) -> None:
        """Stop the bot and start a new one on the same database and emulated Telegram."""
        await self.stop_bot()
        await self.start_bot()

    @property
    def services(self) -> Services:
        assert self.app is not None
        return self.app.bot_data.services

    # The world ------------------------------------------------------------------------------

    def user(self, user_id: int, name: str, *, language_code: str = "zh-hans") -> int:
        self.emu.add_user(user_id, name, language_code=language_code)
        return user_id

    async def group(
        self,
        chat_id: int,
        title: str,
        *,
        members: Iterable[int] = (),
        admins: Iterable[int] = (),
    ) -> int:
        """A group with the bot added as administrator; waits for the bot's greeting."""
        members, admins = list(members), list(admins)
        creator = admins[0] if admins else None
        self.emu.add_group(
            chat_id, title, members=members, admins=admins, creator=creator, added_by=creator
        )
        await self.emu.wait_for_bot_message(chat_id)
        return chat_id

    # Acting as users ------------------------------------------------------------------------

    async def say(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        thread: int | None = None,
    ) -> EmuMessage:
        """A user sends ``text`` (in forum topic ``thread``); returns the bot's first message
        in that chat after it."""
        sent = self.emu.send_message(chat_id, user_id, text, reply_to=reply_to, thread=thread)
        return await self.emu.wait_for_bot_message(chat_id, after=sent.message_id)

    async def press(
        self, chat_id: int, message_id: int, user_id: int, button_text: str
    ) -> dict[str, Any]:
        """A user presses the button with this text; returns the bot's callback answer."""
        query_id = self.emu.press_button(chat_id, message_id, user_id, button_text)
        return await self.emu.wait_for_answer(query_id)

    async def edited(self, chat_id: int, message_id: int) -> EmuMessage:
        """The message once the bot has edited it."""

        def is_edited() -> bool:
            message = self.emu.message(chat_id, message_id)
            return message is not None and message.edit_date is not None

        await self.emu.wait_until(is_edited)
        message = self.emu.message(chat_id, message_id)
        assert message is not None
        return message

    async def settle(self) -> None:
        """Wait until the bot has fetched every update, refreshed its messages, gone quiet."""
        await self.emu.wait_idle()
        assert self.app is not None
        # Every fetched update handled to the end: a handler that has answered may still be
        # at work (/topic for every building posts to each after its reply), and on a busy
        # machine it can stay quiet for longer than wait_idle's quiet spell below.
        async with asyncio.timeout(60):
            await self.app.update_queue.join()
        await self.app.bot_data.runtime.settle()
        await self.emu.wait_idle(quiet=0.05)

    async def pass_time(self, delta: timedelta) -> None:
        """Move the clock and let the due work (deadlines, nudges) run, as the scheduler would."""
        self.clock.advance(delta)
        await self.services.timers.run_due()
        await self.settle()

    def last_bot_message(self, chat_id: int) -> EmuMessage:
        return self.emu.bot_messages(chat_id)[-1]
