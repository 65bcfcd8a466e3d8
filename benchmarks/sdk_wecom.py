"""The WeCom baseline as ``ingest_http``'s bare python-telegram-bot bot is Telegram's: a bot on
WeCom's own Python SDK (``wecom-aibot-python-sdk``, WecomTeam) that only answers.

What a developer gets who writes the bot the documented way: ``WSClient`` with its handlers,
no database, no logic. ``@bot /topic <title>`` is answered with the same vote card as
``benchmarks/bare_wecom.py``'s (Yishi's three options and ids); a press on it with that card
again (no tally, nothing stored), through the SDK's ``update_template_card`` on the press's
req_id. Its logger keeps warnings and errors only, as a bot in production would.

Two settings point it at the emulator and change nothing else: ``ws_url``, and the SDK's TLS
context, which it passes to ``websockets.connect`` even for a ``ws://`` address (the
emulator's; ``websockets`` refuses TLS settings there), so for ``ws://`` it is left out.

    python -m benchmarks.sdk_wecom --url ws://127.0.0.1:8082/ --bot-id aib_bench --secret ...
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
import warnings
from typing import Any

from benchmarks.bare_wecom import main, until_signalled, vote_card

with warnings.catch_warnings():  # the SDK imports a name websockets 14+ calls deprecated
    warnings.simplefilter("ignore", DeprecationWarning)
    import aibot.ws
    from aibot import WSClient, WSClientOptions


class QuietLogger:
    """The SDK's logger interface; warnings and errors to stderr, as in production."""

    def debug(self, message: str, *args: object) -> None:
        pass

    info = debug

    def warn(self, message: str, *args: object) -> None:
        print(f"[AiBotSDK] {message}", *args, file=sys.stderr)

    error = warn


class SdkBot:
    def __init__(self, url: str, bot_id: str, secret: str) -> None:
        if url.startswith("ws://"):
            aibot.ws._SSL_CONTEXT = None  # type: ignore[assignment]
        options = WSClientOptions(bot_id=bot_id, secret=secret, ws_url=url, logger=QuietLogger())
        self.client = WSClient(options)
        self._numbers = itertools.count(1)
        self._cards: dict[str, dict[str, Any]] = {}
        self.client.on("message.text", self.on_text)
        self.client.on("event.template_card_event", self.on_press)

    async def on_text(self, frame: dict[str, Any]) -> None:
        text = str(frame["body"].get("text", {}).get("content", ""))
        title = text.partition("/topic")[2].strip()
        task_id = f"sdk-{next(self._numbers)}"
        card = self._cards[task_id] = vote_card(task_id, title)
        with contextlib.suppress(RuntimeError, TimeoutError):  # refused or dropped: next one
            await self.client.reply_template_card(frame, card)

    async def on_press(self, frame: dict[str, Any]) -> None:
        pressed = frame["body"]["event"]["template_card_event"]
        task_id = str(pressed.get("task_id", ""))
        card = self._cards.get(task_id) or vote_card(task_id, "议题")
        with contextlib.suppress(RuntimeError, TimeoutError):
            await self.client.update_template_card(frame, card)


async def serve(url: str, bot_id: str, secret: str) -> None:
    bot = SdkBot(url, bot_id, secret)

    async def stop() -> None:
        bot.client.disconnect()
        await asyncio.sleep(0.1)  # the SDK closes the socket in a task of its own

    await until_signalled(bot.client.connect, stop)


if __name__ == "__main__":
    main(serve, __doc__)
