"""Webhook mode: Telegram posts each update to our own aiohttp server.

The server speaks plain HTTP on ``YISHI_WEBHOOK_LISTEN:YISHI_WEBHOOK_PORT`` behind a TLS
reverse proxy (README.md). Anyone who learns its address could post an update claiming to
come from anyone, so:

- ``setWebhook`` is given a secret token (``YISHI_WEBHOOK_SECRET``, or one generated on the
  first start and kept in the database) and Telegram sends it with every update in the
  ``X-Telegram-Bot-Api-Secret-Token`` header. A request without the right one is answered
  403 before its body is read: nothing stored, nothing run, one warning without the body.
- The address has a path nobody can guess (derived one-way from the secret, so an access log
  that shows the path does not show the secret).

An update that passes goes into the same durable inbox as a polled one (channels/telegram/inbox.py):
it is stored before the request is answered 200, so a crash after the answer loses nothing (it is
handled after the restart), and an update posted again (Telegram retrying, or a replay) is
not handled a second time.

:class:`WebhookUpdater` is python-telegram-bot's ``Updater`` with ``start_webhook`` serving
this endpoint instead of the library's tornado server, so ``Application.run_webhook`` keeps
its start-up, signal handling and shutdown.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from socket import socket
from urllib.parse import urlsplit

from aiohttp import web
from telegram.error import BadRequest
from telegram.ext import Updater

from bot.clock import Clock
from channels.telegram.inbox import Inbox, PollingBot
from channels.telegram.transport import DEFAULT_80, DEFAULT_IP, DefaultValue, DVType
from storage.database import Database

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_KEY = "telegram_webhook_secret"  # app_settings: the generated secret
MAX_CONNECTIONS = 40  # Telegram's default: updates of different chats posted at once
SHUTDOWN_TIMEOUT = 5.0  # for requests in flight at a stop (unanswered ones are posted again)


def new_secret() -> str:
    """256 bits in 43 characters of Telegram's alphabet for secret tokens (A-Z a-z 0-9 _ -)."""
    return secrets.token_urlsafe(32)


async def stored_secret(database: Database, clock: Clock) -> str:
    """The secret generated on the first start in webhook mode (made now if there is none)."""
    async with database.transaction() as repos:
        return await repos.app_settings.get_or_create(SECRET_KEY, new_secret(), clock.now())


def webhook_path(public_url: str, secret: str) -> str:
    """Where Telegram posts: the public URL's own path, then 32 hex digits (128 bits) derived
    from the secret. The proxy forwards the path unchanged."""
    digest = hashlib.sha256(f"yishi-webhook-path:{secret}".encode()).hexdigest()[:32]
    return urlsplit(public_url).path.rstrip("/") + "/" + digest


def registered_url(public_url: str, path: str) -> str:
    url = urlsplit(public_url)
    return f"{url.scheme}://{url.netloc}{path}"


class WebhookEndpoint:
    """The request handler: checks the secret, reads the update, stores it, answers."""

    def __init__(self, path: str, secret: str, bot: PollingBot, inbox: Inbox) -> None:
        self.path = path
        self._secret = secret.encode()
        self._bot = bot
        self._inbox = inbox

    def add_to(self, app: web.Application) -> None:
        app.router.add_post(self.path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        # Compared in constant time; the body is not even read.
        if given is None or not hmac.compare_digest(given.encode(), self._secret):
            log.warning(
                "webhook: refused a request from %s %s the secret token (403)",
                request.remote,
                "without" if given is None else "with a wrong",
            )
            return web.Response(status=403)
        try:
            data = json.loads(await request.read())
        except ValueError:
            log.warning("webhook: a request whose body is not JSON: refused (400)")
            return web.Response(status=400)
        update = self._bot.read_update(data)  # logs an unreadable update by its id only
        if update is None:
            return web.Response(status=400)
        self._bot.insert_callback_data(update)
        await self._inbox.room()  # answer later while many are in hand: Telegram waits
        await self._inbox.queue.put(update)  # stored before the 200 (a repeat: not queued)
        return web.Response(status=200)


class WebhookRefused(Exception):
    """Webhook mode cannot start: the address is taken, or Telegram refused the URL."""


class WebhookServer:
    def __init__(self, endpoint: WebhookEndpoint) -> None:
        self.app = web.Application()
        endpoint.add_to(self.app)
        self._runner: web.AppRunner | None = None

    async def start(self, listen: str, port: int) -> None:
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            await web.TCPSite(runner, listen, port).start()
        except OSError as error:
            await runner.cleanup()
            raise WebhookRefused(
                f"Cannot serve webhooks on {listen}:{port} ({error.strerror or error}). "
                "Choose another YISHI_WEBHOOK_LISTEN / YISHI_WEBHOOK_PORT (--listen, --port)."
            ) from None
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


class WebhookUpdater(Updater):
    """``Updater`` whose ``start_webhook`` serves :class:`WebhookEndpoint` (polling as usual).

    ``secret``: where the secret comes from when ``run_webhook`` is given none; called once
    storage is open (``post_init`` has run).
    """

    def __init__(
        self,
        bot: PollingBot,
        inbox: Inbox,
        secret: Callable[[], Awaitable[str]],
    ) -> None:
        super().__init__(bot, inbox.queue)
        self._reader = bot
        self._inbox = inbox
        self._secret = secret
        self._server: WebhookServer | None = None
        self.webhook_set = False  # Telegram accepted setWebhook (readiness, bot/health.py)

    @property
    def serving_webhook(self) -> bool:
        return self._server is not None

    async def start_webhook(
        self,
        listen: DVType[str] = DEFAULT_IP,
        port: DVType[int] = DEFAULT_80,
        url_path: str = "",
        cert: str | Path | None = None,
        key: str | Path | None = None,
        bootstrap_retries: int = 0,
        webhook_url: str | None = None,
        allowed_updates: Sequence[str] | None = None,
        drop_pending_updates: bool | None = None,
        ip_address: str | None = None,
        max_connections: int = MAX_CONNECTIONS,
        secret_token: str | None = None,
        unix: str | Path | socket | None = None,
    ) -> asyncio.Queue[object]:
        if webhook_url is None:
            raise ValueError("webhook mode needs the public URL")
        if cert or key or unix or ip_address or url_path:
            raise ValueError("TLS is the reverse proxy's; the path is derived from the secret")
        secret = secret_token or await self._secret()
        path = webhook_path(webhook_url, secret)
        server = WebhookServer(WebhookEndpoint(path, secret, self._reader, self._inbox))
        address, number = DefaultValue.get_value(listen), DefaultValue.get_value(port)
        await server.start(address, number)
        self._server = server
        self._running = True  # from here on, stop() takes the server down
        try:
            await self.bot.set_webhook(
                url=registered_url(webhook_url, path),
                allowed_updates=allowed_updates,
                drop_pending_updates=drop_pending_updates,
                max_connections=max_connections,
                secret_token=secret,
            )
        except BadRequest as refused:  # e.g. "bad webhook: Failed to resolve host"
            raise WebhookRefused(
                f"Telegram refused the webhook URL {webhook_url}: {refused.message}. "
                "Check YISHI_WEBHOOK_URL (--webhook-url): a public https address Telegram "
                "can reach, on port 443, 80, 88 or 8443."
            ) from None
        self.webhook_set = True
        log.info(
            "webhook set: Telegram posts to %s (a secret path under it), served on %s:%s",
            webhook_url,
            address,
            number,
        )
        return self.update_queue

    async def stop(self) -> None:
        server, self._server = self._server, None
        self.webhook_set = False
        if server is not None:
            await server.stop()
        await super().stop()
