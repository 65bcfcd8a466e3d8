"""The emulated WeCom: the long-connection (WebSocket) server, its HTTP endpoints, and faults.

A bot connects to :attr:`WeComEmulator.ws_url`, subscribes with its bot id and secret, pings,
and gets ``aibot_msg_callback`` / ``aibot_event_callback`` frames when people act (the
:class:`Driver` methods). Every frame the bot sends is acked with its req_id: ``errcode`` 0, or
WeCom's refusal. Tests read what each person sees from :attr:`world` and switch faults on.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from emulators.wecom import errors
from emulators.wecom.behaviour import Behaviour
from emulators.wecom.driver import Driver
from emulators.wecom.errors import WeComError
from emulators.wecom.faults import Faults
from emulators.wecom.http_endpoints import HttpEndpoints
from emulators.wecom.replies import Issued, Replies
from emulators.wecom.world import World

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Frame:
    """A frame a bot sent (or a passive reply standing for one) and how WeCom answered it."""

    bot_id: str | None
    cmd: str
    req_id: str
    body: dict[str, Any]
    errcode: int
    errmsg: str
    at: float
    via: str = "ws"  # or "callback" (a passive reply)


class Connection:
    """One bot's WebSocket: whose it is once subscribed, and when it last pinged."""

    def __init__(self, number: int, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.number = number
        self.request = request
        self.ws = ws
        self.bot_id: str | None = None
        self.kicked = False
        self.aborted = False
        self.last_ping = asyncio.get_running_loop().time()
        self.received: list[dict[str, Any]] = []  # every frame WeCom pushed to it
        self._lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> bool:
        """Sends a frame; False if the connection is gone (closed, or dropped by a fault)."""
        async with self._lock:
            if self.ws.closed:
                return False
            try:
                await self.ws.send_str(json.dumps(frame, ensure_ascii=False))
            except ConnectionResetError:
                return False
            return True

    def abort(self) -> None:
        """Drops the connection as a network would: no close frame, and nothing the bot sent
        after the cut arrives (not even frames already read off the socket)."""
        self.aborted = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class WeComEmulator(Driver, Faults, HttpEndpoints):
    """A local WeCom AI-bot server for tests, demos and benchmarks."""

    def __init__(
        self, *, behaviour: Behaviour | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.world = World()
        self._counter = itertools.count(1)
        self.behaviour = behaviour or Behaviour()
        self.clock = clock
        self.replies = Replies(self.world, self.behaviour, clock)
        self.frames: list[Frame] = []  # every frame from a bot, with its answer
        self.live: dict[str, Connection] = {}  # bot id -> its one subscribed connection
        self.connections: list[Connection] = []
        self.undelivered: list[Issued] = []  # callbacks pushed while the bot was not connected
        self.redelivered: list[Issued] = []  # callbacks pushed again after a reconnect
        self._delivered_on: dict[str, Connection] = {}
        self.answers: dict[str, Frame] = {}  # the first frame on each callback's req_id
        self._answer_waiters: dict[str, asyncio.Future[Frame]] = {}
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._scheme = "http"
        self.app = web.Application(client_max_size=24 * 1024 * 1024)
        self.app.router.add_get("/", self._handle_ws)
        Faults.__init__(self)
        HttpEndpoints.__init__(self)
        self.add_http_routes(self.app)

    # -- addresses and lifecycle -----------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator not started")
        return self._port

    @property
    def url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """The long connection's address (wss:// when started with an SSL context)."""
        return f"{'wss' if self._scheme == 'https' else 'ws'}://127.0.0.1:{self.port}/"

    async def start(self, port: int = 0, ssl_context: ssl.SSLContext | None = None) -> None:
        """Starts serving; with ``ssl_context`` over TLS (the Python SDK insists on wss://)."""
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, ssl_context=ssl_context)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self._port = int(sockets[0].getsockname()[1]) if sockets else port
        self._scheme = "https" if ssl_context is not None else "http"
        self._runner = runner
        self._spawn(self._sweep_events())

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for connection in list(self.connections):
            await connection.ws.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> WeComEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- waiting for the bot ---------------------------------------------------------------
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Any:
        """Waits until ``predicate()`` is truthy (checked after every frame); returns it."""
        async with asyncio.timeout(timeout), self._changed:
            while not (result := predicate()):
                await self._changed.wait()
            return result

    async def wait_for_frame(
        self,
        cmd: str,
        *,
        req_id: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Frame:
        """The first frame of ``cmd`` (answering ``req_id``) the bot sent, once it is answered."""

        def found() -> Frame | None:
            for frame in self.frames:
                if frame.cmd == cmd and (req_id is None or frame.req_id == req_id):
                    return frame
            return None

        frame: Frame = await self.wait_for(found, timeout)
        return frame

    async def wait_answered(self, req_id: str, timeout: float = 5.0) -> Frame:  # noqa: ASYNC109
        """The first frame the bot sent on the callback ``req_id`` (accepted or refused), once
        WeCom handled it; in constant time, for loads of thousands of presses."""
        answer = self.answers.get(req_id)
        if answer is not None:
            return answer
        waiter = self._answer_waiters.get(req_id)
        if waiter is None:
            waiter = self._answer_waiters[req_id] = asyncio.get_running_loop().create_future()
        async with asyncio.timeout(timeout):
            return await asyncio.shield(waiter)

    # -- the long connection ---------------------------------------------------------------
    async def _handle_ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        connection = Connection(len(self.connections) + 1, request, ws)
        self.connections.append(connection)
        self._spawn(self._watch_heartbeat(connection))
        try:
            async for message in ws:
                if connection.aborted:
                    break
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(message.data)
                except ValueError:
                    continue  # not JSON: WeCom's answer is unknown; ignored
                if isinstance(frame, dict):
                    await self._on_frame(connection, frame)
        finally:
            if connection.bot_id is not None and self.live.get(connection.bot_id) is connection:
                del self.live[connection.bot_id]
            await self._notify()
        return ws

    async def _watch_heartbeat(self, connection: Connection) -> None:
        loop = asyncio.get_running_loop()
        while not connection.ws.closed:
            timeout = self.behaviour.heartbeat_timeout
            await asyncio.sleep(min(timeout / 4, 1.0))
            if loop.time() - connection.last_ping > timeout:
                log.info("connection %s missed its heartbeat", connection.number)
                await connection.ws.close(code=1001, message=b"heartbeat timeout")
                return

    async def _on_frame(self, connection: Connection, frame: dict[str, Any]) -> None:
        cmd = frame.get("cmd")
        headers = frame.get("headers")
        req_id = str(headers.get("req_id", "")) if isinstance(headers, dict) else ""
        if not isinstance(cmd, str):
            return  # an ack of a push (the SDKs send none; nothing to answer)
        body = frame.get("body") if isinstance(frame.get("body"), dict) else {}
        assert isinstance(body, dict)
        if cmd == "ping":
            connection.last_ping = asyncio.get_running_loop().time()
            await self._ack(connection, req_id, None)
            return
        error: WeComError | None = self.take_refusal(cmd)
        if error is None:
            try:
                if cmd == "aibot_subscribe":
                    await self._subscribe(connection, body)
                elif connection.bot_id is None or connection.kicked:
                    raise errors.not_subscribed()
                else:
                    self.replies.apply(self.world.bot(connection.bot_id), cmd, req_id, body)
            except WeComError as refused:
                error = refused
        handled = Frame(
            connection.bot_id or body.get("bot_id"),
            cmd,
            req_id,
            body,
            error.errcode if error else 0,
            error.errmsg if error else "ok",
            self.clock(),
        )
        self.frames.append(handled)
        if req_id in self.replies.issued and req_id not in self.answers:
            self.answers[req_id] = handled
            waiter = self._answer_waiters.pop(req_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(handled)
        if self.count_for_drop(connection.bot_id):
            connection.abort()  # handled, but the ack is lost with the connection
        else:
            await self._ack(connection, req_id, error)
        if error and cmd == "aibot_subscribe" and self.behaviour.close_on_bad_subscribe:
            await connection.ws.close()
        if not error and cmd == "aibot_subscribe" and self.behaviour.redeliver_after_reconnect:
            await self._redeliver(connection)
        await self._notify()

    async def _ack(self, connection: Connection, req_id: str, error: WeComError | None) -> None:
        ack = {
            "headers": {"req_id": req_id},
            "errcode": error.errcode if error else 0,
            "errmsg": error.errmsg if error else "ok",
        }
        delay = self.ack_delay
        if delay > 0:

            async def later() -> None:
                await asyncio.sleep(delay)
                await connection.send(ack)

            self._spawn(later())
        else:
            await connection.send(ack)

    async def _subscribe(self, connection: Connection, body: dict[str, Any]) -> None:
        bot = self.world.bots.get(str(body.get("bot_id", "")))
        if bot is None or body.get("secret") != bot.secret:
            raise WeComError(errors.INVALID_CREDENTIALS, "invalid bot_id or secret")
        connection.last_ping = asyncio.get_running_loop().time()
        old = self.live.get(bot.bot_id)
        connection.bot_id = bot.bot_id
        connection.kicked = False
        self.live[bot.bot_id] = connection
        if old is not None and old is not connection:
            old.kicked = True
            await old.send(
                {
                    "cmd": "aibot_event_callback",
                    "headers": {"req_id": self.next_req_id("aibot_event_callback")},
                    "body": {
                        "msgid": self.next_msgid(),
                        "create_time": int(self.clock()),
                        "aibotid": bot.bot_id,
                        "msgtype": "event",
                        "event": {"eventtype": "disconnected_event"},
                    },
                }
            )
            self._spawn(self._close_later(old, self.behaviour.kick_close_delay))

    async def _close_later(self, connection: Connection, delay: float) -> None:
        await asyncio.sleep(delay)
        await connection.ws.close(code=1000, message=b"kicked by a newer connection")

    # -- pushing callbacks -----------------------------------------------------------------
    async def deliver(self, issued: Issued, cmd: str) -> Issued:
        """Pushes a callback to its bot: over its long connection, or its callback URL."""
        self.replies.issued[issued.req_id] = issued
        client = self.callback_clients.get(issued.bot_id)
        if client is not None:
            await self.post_callback(client, issued)
            return issued
        if self.push_delay > 0:
            self._spawn(self._push_later(issued, cmd, self.push_delay))
            return issued
        return await self._push(issued, cmd)

    async def _push_later(self, issued: Issued, cmd: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._push(issued, cmd)

    async def _push(self, issued: Issued, cmd: str) -> Issued:
        connection = self.live.get(issued.bot_id)
        if connection is None or connection.ws.closed:
            self.undelivered.append(issued)
            return issued
        frame = {"cmd": cmd, "headers": {"req_id": issued.req_id}, "body": issued.body}
        if not await connection.send(frame):
            self.undelivered.append(issued)
            return issued
        connection.received.append(frame)
        issued.delivered = True
        self._delivered_on[issued.req_id] = connection
        return issued

    async def _redeliver(self, connection: Connection) -> None:
        """Pushes again, on the new connection, the bot's callbacks still waiting for their
        answer that went out on a lost connection or never went out."""
        now = self.clock()
        windows = {"event": self.behaviour.event_answer_window}
        windows["message"] = self.behaviour.reply_window
        for issued in list(self.replies.issued.values()):
            if issued.bot_id != connection.bot_id or issued.answered or issued.dropped:
                continue
            if now - issued.at > windows[issued.kind]:
                continue
            if self._delivered_on.get(issued.req_id) is connection:
                continue
            if issued in self.undelivered:
                self.undelivered.remove(issued)
            cmd = "aibot_msg_callback" if issued.kind == "message" else "aibot_event_callback"
            self.redelivered.append(issued)
            await self.deliver(issued, cmd)

    async def _sweep_events(self) -> None:
        """The fault "WeCom drops an unanswered event": marks such events dropped."""
        while True:
            await asyncio.sleep(0.05)
            after = self.drop_events_after
            if after is None:
                continue
            now = self.clock()
            dropped = 0
            for issued in self.replies.issued.values():
                waiting = issued.kind == "event" and not issued.answered and not issued.dropped
                if waiting and now - issued.at > after:
                    issued.dropped = True
                    self.dropped_events.append(issued)
                    dropped += 1
            if dropped:
                await self._notify()
