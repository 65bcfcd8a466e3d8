"""The long connection to WeCom (a WebSocket, the AI bot's analogue of long polling).

One :class:`LongConnection` per bot: it subscribes with the bot id and secret, pings every
``ping_interval`` seconds, and after any drop connects again with exponential backoff and
jitter. Callbacks (frames with a ``cmd``) are handed to ``on_callback``, each in a task of its own;
every frame Yishi sends waits for its ack, matched by ``headers.req_id`` (an ack carries no
``cmd``), and an ack whose ``errcode`` is not 0 raises :class:`WeComRefused`. Frames that share
a req_id (the answers to one callback) go out one after another, as WeCom's SDKs send them.

Every press on a card is two frames in (the callback, the ack of the answer) and one out, so
this is the path a burst of presses runs thousands of times a second: frames are read and
written with orjson (UTF-8 text frames, nothing escaped to ASCII, as WeCom takes them), a
req_id that nothing else is sending on costs no lock, and the frames of one turn of the event
loop go to the socket in one write (channels/wecom/corked.py).

A newer connection of the same bot kicks this one (``disconnected_event``): another instance
owns the bot now, so this one stops instead of kicking it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import secrets
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
import orjson

from channels.wecom.corked import CorkedWebSocket
from channels.wecom.replies import EncodedCard

log = logging.getLogger(__name__)

DEFAULT_URL = "wss://openws.work.weixin.qq.com"

Callback = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]
# What the WebSocket reads when it is over (its iterator stops at these).
_ENDED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)


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
        # The req_ids a frame is being sent on, and the frames waiting for their turn on each
        # (None: nobody waits); see call.
        self._turns: dict[str, deque[asyncio.Future[None]] | None] = {}
        self._acks_due = AckDeadlines(ack_timeout)
        self._numbers = itertools.count(1)
        self._runner: asyncio.Task[None] | None = None
        self._handlers: dict[asyncio.Task[None], object] = {}  # each callback's task, its cmd

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._session = aiohttp.ClientSession(ws_response_class=CorkedWebSocket)
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
            body = b'{"response_type":"update_template_card","template_card":' + card.json.encode()
            if userids:
                body += b',"userids":' + orjson.dumps(userids)
            await self.call("aibot_respond_update_msg", body + b"}", req_id)
            return
        fields: dict[str, Any] = {"response_type": "update_template_card", "template_card": card}
        if userids:
            fields["userids"] = userids
        await self.call("aibot_respond_update_msg", fields, req_id)

    async def send(self, chatid: str, body: dict[str, Any]) -> None:
        """A proactive message (markdown or a card) to a chat that has written to the bot."""
        await self.call("aibot_send_msg", {"chatid": chatid} | body)

    async def call(self, cmd: str, body: dict[str, Any] | bytes, req_id: str | None = None) -> None:
        """Sends one frame (its body, or the body's JSON already encoded) and waits for its
        ack; WeComRefused if WeCom refused it. Frames on one req_id go out one at a time, in
        the order of their calls: each after the one before was acked (or failed)."""
        req_id = req_id or self.new_req_id(cmd)
        if req_id in self._turns:
            await self._wait_for_turn(req_id)
        else:  # nothing else on this req_id (nearly always): no waiting, nothing to create
            self._turns[req_id] = None
        try:
            if not self._subscribed.is_set():
                try:
                    async with asyncio.timeout(self.ack_timeout):
                        await self._subscribed.wait()
                except TimeoutError:
                    raise ConnectionLost(f"{cmd}: not connected") from None
            ack = await self._exchange(cmd, req_id, body)
        finally:
            self._pass_turn(req_id)
        if ack.get("errcode", 0) != 0:
            raise WeComRefused(cmd, int(ack["errcode"]), str(ack.get("errmsg", "")))

    async def _wait_for_turn(self, req_id: str) -> None:
        """Waits until the frames called on ``req_id`` before this one are done with."""
        waiting = self._turns[req_id]
        if waiting is None:
            waiting = self._turns[req_id] = deque()
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.cancelled():  # still waiting (or skipped): nothing of the req_id is ours
                with contextlib.suppress(ValueError):
                    waiting.remove(turn)
            else:  # the turn came as this was cancelled: it goes to the next one
                self._pass_turn(req_id)
            raise

    def _pass_turn(self, req_id: str) -> None:
        """The frame on ``req_id`` is done with: the next one waiting goes, if any."""
        waiting = self._turns[req_id]
        while waiting:
            turn = waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        del self._turns[req_id]

    async def _exchange(
        self, cmd: str, req_id: str, body: dict[str, Any] | bytes | None
    ) -> dict[str, Any]:
        ws = self._ws
        if ws is None or ws.closed:
            raise ConnectionLost(f"{cmd}: not connected")
        data = _frame(cmd, req_id, body)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        self._acks_due.expect(future)
        try:
            await ws.send_frame(data, aiohttp.WSMsgType.TEXT)
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
        loop = asyncio.get_running_loop()
        pending = self._pending
        while True:  # (receive() itself: async for's __anext__ is one more call per frame)
            message = await ws.receive()
            if message.type is not aiohttp.WSMsgType.TEXT:
                if message.type in _ENDED:
                    return
                continue
            try:
                frame = orjson.loads(message.data)
            except orjson.JSONDecodeError:
                log.warning("WeCom sent a frame that is not JSON; ignored")
                continue
            if not isinstance(frame, dict):
                continue
            if "cmd" not in frame:  # an ack: to the frame waiting for it, nothing more
                headers = frame.get("headers")
                req_id = headers.get("req_id") if isinstance(headers, dict) else None
                future = pending.pop(str(req_id), None) if req_id is not None else None
                if future is not None and not future.done():
                    future.set_result(frame)
                continue
            body = frame.get("body")
            event = body.get("event") if isinstance(body, dict) else None
            if isinstance(event, dict) and event.get("eventtype") == "disconnected_event":
                raise Kicked
            # The callback is the task's coroutine itself (no wrapper to resume at each of
            # its awaits); what it raised is logged when it is done.
            task = loop.create_task(self._on_callback(frame))
            self._handlers[task] = frame["cmd"]
            task.add_done_callback(self._handled)

    def _handled(self, task: asyncio.Task[None]) -> None:
        cmd = self._handlers.pop(task, None)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("WeCom callback %s failed", cmd, exc_info=error)


def _frame(cmd: str, req_id: str, body: dict[str, Any] | bytes | None) -> bytes:
    """The frame Yishi sends, as UTF-8 JSON: ``body``'s JSON put in as it is when it came
    encoded (a card encoded once for many answers)."""
    if isinstance(body, bytes):
        return b"".join(
            (
                b'{"cmd":',
                orjson.dumps(cmd),
                b',"headers":{"req_id":',
                orjson.dumps(req_id),
                b'},"body":',
                body,
                b"}",
            )
        )
    frame: dict[str, Any] = {"cmd": cmd, "headers": {"req_id": req_id}}
    if body is not None:
        frame["body"] = body
    # Keys that are not strings become strings, as the standard json module made them.
    return orjson.dumps(frame, option=orjson.OPT_NON_STR_KEYS)
