"""The bot as a process in webhook mode (``yishi run`` with ``YISHI_WEBHOOK_URL``).

The emulator posts each update to the bot's server as Telegram would, through its stand-in
for the TLS reverse proxy (``emu.webhook.route``): ``https://yishi.test/...`` goes to the
bot's plain HTTP port. Tests can also post to that port themselves (:meth:`post`), as anyone
who learned the address could.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import aiohttp

from emulators.telegram.webhook import SECRET_HEADER
from tests.auxil.process import PATIENCE, ProcessHarness

PUBLIC = "https://yishi.test"
PUBLIC_URL = f"{PUBLIC}/telegram"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WebhookProcessHarness(ProcessHarness):
    def __init__(
        self, tmp_path: Path, *, database_url: str | None = None, secret: str | None = None
    ) -> None:
        super().__init__(tmp_path, database_url=database_url)
        self.port = free_port()
        self.secret = secret
        self.emu.webhook.route(PUBLIC, f"http://127.0.0.1:{self.port}")

    def environment(self) -> dict[str, str]:
        environment = {
            **super().environment(),
            "YISHI_WEBHOOK_URL": PUBLIC_URL,
            "YISHI_WEBHOOK_PORT": str(self.port),
        }
        if self.secret is not None:
            environment["YISHI_WEBHOOK_SECRET"] = self.secret
        return environment

    async def start_bot(self, *args: str, **environment: str) -> None:
        """Start the bot and wait until it has set its webhook."""
        first_call = len(self.emu.calls)
        process = self.spawn(*args, **environment)
        self.process = process
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        while not any(c.method == "setWebhook" and c.ok for c in self.emu.calls[first_call:]):
            if not process.running:
                status = process.popen.returncode
                raise AssertionError(f"the bot exited ({status}):\n{process.output()}")
            if loop.time() > deadline:
                await process.kill()
                raise TimeoutError(f"the bot did not set its webhook:\n{process.output()}")
            await asyncio.sleep(0.05)

    def set_webhook_calls(self) -> list[dict[str, Any]]:
        return [c.params for c in self.emu.calls if c.method == "setWebhook" and c.ok]

    @property
    def local_url(self) -> str:
        """Where the proxy forwards the registered URL: the bot's server, at its path."""
        return self.emu.webhook.target(self.emu.world.webhook.url)

    async def post(
        self, update: dict[str, Any], *, secret: str | None, url: str | None = None
    ) -> int:
        """POST an update to the bot's server (no header if ``secret`` is None): the status."""
        headers = {} if secret is None else {SECRET_HEADER: secret}
        async with (
            aiohttp.ClientSession() as session,
            session.post(url or self.local_url, json=update, headers=headers) as answer,
        ):
            await answer.read()
            return answer.status
