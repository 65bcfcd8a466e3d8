"""Telegram's side of a webhook: pending updates POSTed to the URL ``setWebhook`` gave.

As Telegram does: each update is sent as JSON with the ``X-Telegram-Bot-Api-Secret-Token``
header when a secret was set; it is confirmed (removed from the pending updates) only by a
2xx answer and sent again after a pause otherwise; updates of one chat go one at a time, in
order (different chats' at once, up to ``max_connections``). ``getUpdates`` answers 409 while
a webhook is set (methods_chat.py).

Telegram posts to https only; in tests the bot serves plain HTTP behind a TLS reverse proxy.
:meth:`WebhookSender.route` plays that proxy: a public https prefix is delivered to a local
http address.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from emulators.telegram.world import World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
FIRST_RETRY = 0.1  # seconds; doubled per failure of the same chat's update, up to MAX_RETRY
MAX_RETRY = 2.0
TIMEOUT = 60.0  # how long Telegram waits for a webhook's answer


@dataclass
class WebhookSettings:
    """What ``setWebhook`` set (``url`` empty: no webhook, ``getUpdates`` works)."""

    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST of an update: the answer's HTTP status, or None when none came."""

    update_id: int
    url: str
    status: int | None
    time: float
    update: dict[str, Any]  # what was posted


@dataclass
class WebhookSender:
    world: World
    deliveries: list[Delivery] = field(default_factory=list)
    routes: dict[str, str] = field(default_factory=dict)
    _busy: dict[Any, asyncio.Task[None]] = field(default_factory=dict)
    _retry_at: dict[Any, float] = field(default_factory=dict)
    _failures: dict[Any, int] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _session: aiohttp.ClientSession | None = None
    _armed: asyncio.Event = field(default_factory=asyncio.Event)

    def route(self, public_prefix: str, local_prefix: str) -> None:
        """Deliver what is addressed to ``https://public...`` to ``http://local...`` (the TLS
        reverse proxy in front of the bot)."""
        self.routes[public_prefix.rstrip("/")] = local_prefix.rstrip("/")

    def target(self, url: str) -> str:
        for public, local in self.routes.items():
            if url == public or url.startswith(public + "/"):
                return local + url[len(public) :]
        return url

    def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        session, self._session = self._session, None
        tasks = [task for task in (self._task, *self._busy.values()) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        self._busy.clear()
        if session is not None:
            await session.close()

    def notice(self) -> None:
        """setWebhook was called: start watching (idle without a webhook, so polling tests
        do not pay for a wake-up at every change of the world)."""
        self._armed.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._session is not None:  # (3.11's wait_for could swallow the cancellation)
            if not self.world.webhook.url:
                self._armed.clear()
                await self._armed.wait()
                continue
            changed = self.world.change_event()
            wake = self._start_deliveries(loop.time())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wake):
                    await changed.wait()

    def _start_deliveries(self, now: float) -> float:
        """Start what may go now; how long until a retry falls due (at most 1 s)."""
        settings: WebhookSettings = self.world.webhook
        wake = 1.0
        if not settings.url:
            return wake
        waiting = set(self._busy)  # a chat's later updates wait for its earlier one
        for update in list(self.world.updates.pending):
            key = _queue_of(update)
            if key in waiting:
                continue
            waiting.add(key)
            if len(self._busy) >= settings.max_connections:
                break
            retry_at = self._retry_at.get(key, 0.0)
            if retry_at > now:
                wake = min(wake, retry_at - now)
                continue
            self._busy[key] = asyncio.create_task(self._deliver(update, key, settings))
        return wake

    async def _deliver(self, update: dict[str, Any], key: Any, settings: WebhookSettings) -> None:
        world = self.world
        url = settings.url
        headers = {SECRET_HEADER: settings.secret_token} if settings.secret_token else {}
        status: int | None = None
        session = self._session
        if session is None:  # stopping
            return
        try:
            async with session.post(self.target(url), json=update, headers=headers) as answer:
                status = answer.status
                await answer.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            settings.last_error_message = f"Connection failed: {type(error).__name__}"
        finally:
            self._busy.pop(key, None)
            self.deliveries.append(Delivery(_update_id(update), url, status, world.clock(), update))
        if status is not None and 200 <= status < 300:
            world.updates.pending = [u for u in world.updates.pending if u is not update]
            world.updates.confirmed_offset = max(
                world.updates.confirmed_offset, _update_id(update) + 1
            )
            self._failures.pop(key, None)
            self._retry_at.pop(key, None)
        else:
            if status is not None:
                settings.last_error_message = f"Wrong response from the webhook: {status}"
            settings.last_error_date = world.now()
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
            delay = min(FIRST_RETRY * 2 ** (failures - 1), MAX_RETRY)
            self._retry_at[key] = asyncio.get_running_loop().time() + delay
        world.changed()


def _update_id(update: dict[str, Any]) -> int:
    value = update.get("update_id")
    return value if isinstance(value, int) else 0


def _queue_of(update: dict[str, Any]) -> Any:
    """Which updates go one at a time: a chat's messages and member changes; a person's
    button presses (presses of different people in one chat go at once)."""
    for kind in ("message", "edited_message", "channel_post", "my_chat_member", "chat_member"):
        body = update.get(kind)
        if isinstance(body, dict) and isinstance(body.get("chat"), dict):
            return ("chat", body["chat"].get("id"))
    query = update.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("from"), dict):
        return ("user", query["from"].get("id"))
    return ("update", _update_id(update))
