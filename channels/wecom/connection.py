"""The long connection to WeCom (a WebSocket, the AI bot's analogue of long polling).

One :class:`LongConnection` per bot: it subscribes with the bot id and secret, pings every
``ping_interval`` seconds, and after any drop connects again with exponential backoff and
jitter. Callbacks (frames with a ``cmd``) are handed to ``on_callback``; every frame Yishi sends
waits for its ack, matched by ``headers.req_id`` (an ack carries no ``cmd``), and an ack whose
``errcode`` is not 0 raises :class:`WeComRefused`. Frames that share a req_id (the answers to
one callback) go out one after another, as WeCom's SDKs send them.

A newer connection of the same bot kicks this one (``disconnected_event``): another instance
owns the bot now, so this one stops instead of kicking it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from channels.wecom.replies import EncodedCard

log = logging.getLogger(__name__)

DEFAULT_URL = "wss://openws.work.weixin.qq.com"

Callback = Callable[[dict[str, Any]], Awaitable[None]]


class WeComRefused(Exception):
    """WeCom answered a frame with an ``errcode`` other than 0."""

    def __init__(self, cmd: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"{cmd} refused: {errcode} {errmsg}")
        self.cmd = cmd
        self.errcode = errcode
        self.errmsg = errmsg


class ConnectionLost(Exception):
    """The frame could not be sent, or its ack did not come (the connection dropped, or no
    ack within the timeout)."""


class Kicked(Exception):
    """Another connection subscribed as this bot: this instance no longer owns it."""


class AckDeadlines:
    """Fails each ack not come within ``timeout`` (TimeoutError) with one timer for them all:
    every answer waits for an ack, and a timer per frame was a noticeable part of a press's
    cost. Frames wait in the order sent, so the oldest one's deadline is the next."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._due: deque[tuple[float, asyncio.Future[Any]]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def expect(self, ack: asyncio.Future[Any]) -> None:
        loop = asyncio.get_running_loop()
        due = self._due
        while due and due[0][1].done():  # acked (or failed) meanwhile: nothing to watch
            due.popleft()
        due.append((loop.time() + self.timeout, ack))
        if self._timer is None:
            self._timer = loop.call_at(self._due[0][0], self._expire, loop)

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        while self._due:
            deadline, ack = self._due[0]
            if not ack.done():
                if deadline > now:
                    self._timer = loop.call_at(deadline, self._expire, loop)
                    return
                ack.set_exception(TimeoutError())
            self._due.popleft()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._due.clear()


class LongConnection:
    def __init__(
        self,
        url: str,
        bot_id: str,
        secret: str,
        on_callback: Callback,
        *,
        ping_interval: float = 30.0,
        ack_timeout: float = 5.0,
        backoff_first: float = 1.0,
        backoff_max: float = 30.0,
    ) -> None:
        self.url = url
        self.bot_id = bot_id
        self._secret = secret
        self._on_callback = on_callback
        self.ping_interval = ping_interval
        self.ack_timeout = ack_timeout
        self.backoff_first = backoff_first
        self.backoff_max = backoff_max
        self.connects = 0  # subscriptions that succeeded, for tests and metrics
        self.last_error: Exception | None = None
        self.kicked = False
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._subscribed = asyncio.Event()
        self._stopped = asyncio.Event()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._per_req_id: dict[str, asyncio.Lock] = {}
        self._acks_due = AckDeadlines(ack_timeout)
        self._numbers = itertools.count(1)
        self._runner: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._runner = asyncio.ensure_future(self._run())

    async def wait_subscribed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            await self._subscribed.wait()

    @property
    def subscribed(self) -> bool:
        return self._subscribed.is_set()

    async def stop(self) -> None:
        self._stopped.set()
        ws = self._ws
        if ws is not None:
            await ws.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        self._acks_due.cancel()
        if self._session is not None:
            await self._session.close()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    # -- what Yishi sends --------------------------------------------------------------------
    def new_req_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._numbers)}_{secrets.token_hex(4)}"

    async def respond(self, req_id: str, body: dict[str, Any]) -> None:
        """Answers a message callback (markdown, a card, a stream) on its req_id."""
        await self.call("aibot_respond_msg", body, req_id)

    async def update_card(
        self, req_id: str, card: dict[str, Any] | EncodedCard, userids: list[str] | None = None
    ) -> None:
        """Answers a ``template_card_event`` with the card as it is now (for everyone, or only
        ``userids``); WeCom takes it within 5 s of the press."""
        if isinstance(card, EncodedCard):  # the card's JSON as it is, not encoded again
            body = '{"response_type":"update_template_card","template_card":' + card.json
            if userids:
                body += ',"userids":' + json.dumps(userids, ensure_ascii=False)
            await self.call("aibot_respond_update_msg", body + "}", req_id)
            return
        fields: dict[str, Any] = {"response_type": "update_template_card", "template_card": card}
        if userids:
            fields["userids"] = userids
        await self.call("aibot_respond_update_msg", fields, req_id)

    async def send(self, chatid: str, body: dict[str, Any]) -> None:
        """A proactive message (markdown or a card) to a chat that has written to the bot."""
        await self.call("aibot_send_msg", {"chatid": chatid} | body)

    async def call(self, cmd: str, body: dict[str, Any] | str, req_id: str | None = None) -> None:
        """Sends one frame (its body, or the body's JSON already encoded) and waits for its
        ack; WeComRefused if WeCom refused it."""
        req_id = req_id or self.new_req_id(cmd)
        lock = self._per_req_id.get(req_id)
        if lock is None:
            lock = self._per_req_id[req_id] = asyncio.Lock()
        try:
            async with lock:
                if not self._subscribed.is_set():
                    try:
                        async with asyncio.timeout(self.ack_timeout):
                            await self._subscribed.wait()
                    except TimeoutError:
                        raise ConnectionLost(f"{cmd}: not connected") from None
                ack = await self._exchange(cmd, req_id, body)
        finally:
            if not lock.locked() and self._per_req_id.get(req_id) is lock:
                del self._per_req_id[req_id]
        if ack.get("errcode", 0) != 0:
            raise WeComRefused(cmd, int(ack["errcode"]), str(ack.get("errmsg", "")))

    async def _exchange(
        self, cmd: str, req_id: str, body: dict[str, Any] | str | None
    ) -> dict[str, Any]:
        ws = self._ws
        if ws is None or ws.closed:
            raise ConnectionLost(f"{cmd}: not connected")
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        if isinstance(body, str):  # encoded already: the frame around it
            head = f'{{"cmd":{json.dumps(cmd)},"headers":{{"req_id":{json.dumps(req_id)}}}'
            text = f'{head},"body":{body}}}'
        else:
            frame: dict[str, Any] = {"cmd": cmd, "headers": {"req_id": req_id}}
            if body is not None:
                frame["body"] = body
            text = json.dumps(frame, ensure_ascii=False)
        self._acks_due.expect(future)
        try:
            await ws.send_str(text)
            return await future
        except (TimeoutError, ConnectionError, aiohttp.ClientError) as error:
            raise ConnectionLost(f"{cmd}: no ack ({type(error).__name__})") from error
        finally:
            if self._pending.get(req_id) is future:
                del self._pending[req_id]

    # -- the connection ----------------------------------------------------------------------
    async def _run(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            try:
                await self._connect_and_serve()
                failures = 0  # it was up: the next drop starts the backoff afresh
            except Kicked:
                log.warning("WeCom bot %s: another instance connected; stopping", self.bot_id)
                self.kicked = True
                self._stopped.set()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: try again after a while
                self.last_error = error
                failures += 1
                log.warning("WeCom long connection failed (%s); retrying", error)
            if self._stopped.is_set():
                return
            delay = min(self.backoff_max, self.backoff_first * 2 ** max(failures - 1, 0))
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # jitter

    async def _connect_and_serve(self) -> None:
        assert self._session is not None
        async with self._session.ws_connect(self.url, autoping=True) as ws:
            self._ws = ws
            reader = asyncio.ensure_future(self._read(ws))
            try:
                await self._subscribe()
                self.connects += 1
                self._subscribed.set()
                pinger = asyncio.ensure_future(self._ping())
                try:
                    await asyncio.wait({reader, pinger}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    pinger.cancel()
                if reader.done() and reader.exception() is not None:
                    raise reader.exception()  # type: ignore[misc]
            finally:
                self._subscribed.clear()
                self._ws = None
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
                for future in self._pending.values():
                    if not future.done():
                        future.set_exception(ConnectionLost("the connection dropped"))

    async def _subscribe(self) -> None:
        body = {"bot_id": self.bot_id, "secret": self._secret}
        ack = await self._exchange("aibot_subscribe", self.new_req_id("aibot_subscribe"), body)
        if ack.get("errcode", 0) != 0:
            raise WeComRefused("aibot_subscribe", int(ack["errcode"]), str(ack.get("errmsg")))

    async def _ping(self) -> None:
        """Pings until one goes unanswered, which ends the connection (to be made again)."""
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                await self._exchange("ping", self.new_req_id("ping"), None)
            except ConnectionLost:
                log.warning("WeCom long connection: a ping was not answered; reconnecting")
                return

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(message.data)
            except ValueError:
                log.warning("WeCom sent a frame that is not JSON; ignored")
                continue
            if not isinstance(frame, dict):
                continue
            headers = frame.get("headers")
            req_id = str(headers.get("req_id", "")) if isinstance(headers, dict) else ""
            if "cmd" not in frame:  # an ack
                future = self._pending.get(req_id)
                if future is not None and not future.done():
                    future.set_result(frame)
                continue
            body = frame.get("body")
            event = body.get("event") if isinstance(body, dict) else None
            if isinstance(event, dict) and event.get("eventtype") == "disconnected_event":
                raise Kicked
            task = asyncio.ensure_future(self._handle(frame))
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)

    async def _handle(self, frame: dict[str, Any]) -> None:
        try:
            await self._on_callback(frame)
        except Exception:
            log.exception("WeCom callback %s failed", frame.get("cmd"))
