"""The aiohttp server speaking the Telegram Bot API, plus fault injection."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from emulators.telegram import methods, methods_chat
from emulators.telegram.driver import Driver
from emulators.telegram.errors import ApiError, too_many_requests
from emulators.telegram.floods import FloodLimits
from emulators.telegram.methods import Method
from emulators.telegram.observe import Observer
from emulators.telegram.params import Params
from emulators.telegram.webhook import WebhookSender
from emulators.telegram.world import ApiCall, EmuUser, World

log = logging.getLogger(__name__)

METHODS: dict[str, tuple[str, Method]] = {
    name.lower(): (name, func) for name, func in {**methods.METHODS, **methods_chat.METHODS}.items()
}
MAX_CALLS = 50_000  # the call log keeps the most recent calls only
RESET = "connection reset by the emulator"


@dataclass(frozen=True, slots=True)
class SlowAnswer:
    """A fault: the call is handled only after ``delay`` seconds."""

    delay: float


@dataclass(frozen=True, slots=True)
class ConnectionReset:
    """A fault: the connection is closed without an HTTP answer, before the call is handled
    (it never happened) or, with ``after``, once it has been (it happened; the answer is lost).
    """

    after: bool = False


Fault = ApiError | SlowAnswer | ConnectionReset


class BotApiEmulator(Driver, Observer):
    """A local, in-memory Telegram Bot API server for tests, demos and benchmarks.

    Point python-telegram-bot at it with ``.base_url(emu.base_url)`` and
    ``.base_file_url(emu.base_file_url)``; drive users with the Driver methods
    (``add_user``, ``send_message``, ``press_button``...) and observe with ``wait_for_*``.
    """

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "yishi_bot",
        bot_id: int = 123456,
        bot_first_name: str = "Yishi",
        privacy_mode: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        bot = EmuUser(bot_id, bot_first_name, None, bot_username, None, is_bot=True)
        self.world = World(bot, clock)
        self.world.privacy_mode = privacy_mode
        self._token = token
        self.latency = 0.0
        self.flood_limits: FloodLimits | None = None  # Telegram's 429s when set (floods.py)
        self._faults: dict[str, list[Fault]] = {}  # per method, one per call, in order
        # (method, chat id or None for every chat, after: hold the answer of a call done)
        self._holds: dict[tuple[str, str | None, bool], asyncio.Event] = {}
        self.held_calls: list[ApiCall] = []  # calls waiting at a hold, oldest first
        # Posts the pending updates while a webhook is set (emu.webhook.route: the TLS proxy).
        self.webhook = WebhookSender(self.world)
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        from emulators.telegram.control import add_control_routes

        add_control_routes(self.app, self)

    # -- properties ------------------------------------------------------------------------
    @property
    def token(self) -> str:
        return self._token

    @property
    def bot_user(self) -> dict[str, Any]:
        return self.world.user_json(self.world.bot)

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator not started")
        return self._port

    @property
    def url(self) -> str:
        """Root URL of the server (the control API lives under ``/_emu/``)."""
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def privacy_mode(self) -> bool:
        return self.world.privacy_mode

    @privacy_mode.setter
    def privacy_mode(self, value: bool) -> None:
        self.world.privacy_mode = value

    @property
    def strict_html(self) -> bool:
        """Reject a bare ``&`` in parse_mode=HTML texts (default; real Telegram accepts it)."""
        return self.world.strict_html

    @strict_html.setter
    def strict_html(self, value: bool) -> None:
        self.world.strict_html = value

    @property
    def callback_ttl(self) -> float | None:
        """Seconds after which answering a callback query fails (None: never)."""
        return self.world.callback_ttl

    @callback_ttl.setter
    def callback_ttl(self, value: float | None) -> None:
        self.world.callback_ttl = value

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        self.world.updates.closed = False
        # handler_cancellation: a long poll abandoned by its client (e.g. PTB stopping) ends
        # at once instead of lingering until its timeout.
        runner = web.AppRunner(
            self.app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self._port = int(sockets[0].getsockname()[1]) if sockets else port
        self._host = host if host not in ("0.0.0.0", "", "::") else "127.0.0.1"
        self._runner = runner
        self.webhook.start()

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        self.world.updates.close()  # releases waiting long polls
        await self.webhook.stop()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- fault injection -------------------------------------------------------------------
    # Each method has one queue of faults, taken one per call in the order they were added:
    # ``fail_next(502)`` then ``reset_next()`` makes the next call fail with 502, the one after
    # lose its connection, and later ones succeed.
    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Makes the next ``count`` calls of ``method`` fail with the given error."""
        if error_code == 429:
            error = too_many_requests(retry_after if retry_after is not None else 1)
            if description:
                error.description = description
        else:
            error = ApiError(error_code, description or f"Error {error_code}")
            if retry_after is not None:
                error.parameters = {"retry_after": retry_after}
        self._add_faults(method, error, count)

    def slow_next(self, method: str, delay: float, *, count: int = 1) -> None:
        """Makes the next ``count`` calls of ``method`` answer only after ``delay`` seconds
        (on top of ``latency``); a client that gives up meanwhile cancels the call."""
        if delay < 0:
            raise ValueError("delay must not be negative")
        self._add_faults(method, SlowAnswer(float(delay)), count)

    def reset_next(self, method: str, *, count: int = 1, after: bool = False) -> None:
        """Makes the next ``count`` calls of ``method`` end with the connection closed and no
        HTTP answer (the client sees "Server disconnected"). The call is not handled, unless
        ``after``: then it is (the message is sent, the edit made) and only the answer is lost,
        the ambiguous case where a client cannot know whether Telegram did it."""
        self._add_faults(method, ConnectionReset(after=after), count)

    def clear_faults(self, method: str | None = None) -> None:
        """Forgets the faults not taken yet (of one method, or of all)."""
        if method is None:
            self._faults.clear()
        else:
            self._faults.pop(self._method_name(method), None)

    def _add_faults(self, method: str, fault: Fault, count: int) -> None:
        self._faults.setdefault(self._method_name(method), []).extend([fault] * count)

    @staticmethod
    def _method_name(method: str) -> str:
        entry = METHODS.get(method.lower())
        if entry is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        return entry[0]

    def hold(self, method: str, *, chat_id: int | None = None, after: bool = False) -> None:
        """Makes calls of ``method`` (to ``chat_id`` only, if given) wait, in flight, until
        :meth:`release`.

        A held call whose client goes away meanwhile (a killed bot) is cancelled and never
        happens: crash tests kill the bot while, say, the card it posts is held. With
        ``after`` the call is done first (the message sent) and only its answer waits: a bot
        killed then never learns that Telegram did it.
        """
        entry = METHODS.get(method.lower())
        if entry is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        chat = None if chat_id is None else str(chat_id)
        self._holds.setdefault((entry[0], chat, after), asyncio.Event())

    def release(self, method: str, *, chat_id: int | None = None, after: bool = False) -> None:
        """Lets the held calls of ``method`` (and later ones) go on."""
        entry = METHODS.get(method.lower())
        chat = None if chat_id is None else str(chat_id)
        gate = self._holds.pop((entry[0], chat, after), None) if entry else None
        if gate is not None:
            gate.set()

    async def _pass_hold(self, call: ApiCall, *, after: bool = False) -> None:
        chat = call.params.get("chat_id")
        gate = self._holds.get((call.method, None, after)) or self._holds.get(
            (call.method, None if chat is None else str(chat), after)
        )
        if gate is None:
            return
        self.held_calls.append(call)
        self.world.changed()
        try:
            await gate.wait()
        finally:
            self.held_calls.remove(call)
            self.world.changed()

    def _flood(self, method: str, params: Params, call: ApiCall) -> ApiError | None:
        limits = self.flood_limits
        return None if limits is None else limits.admit(method, params.raw("chat_id"), call.time)

    def _take_fault(self, method: str) -> Fault | None:
        queue = self._faults.get(method)
        return queue.pop(0) if queue else None

    async def _reset(self, request: web.Request, call: ApiCall) -> None:
        """Closes the connection without an answer and waits to be cancelled for it."""
        call.error_code, call.description = None, RESET
        if call.ok is None:
            call.ok = False
        transport = request.transport
        if transport is not None:
            transport.close()
        # The server cancels a handler whose connection is lost (handler_cancellation).
        await asyncio.sleep(30)

    # -- HTTP handlers ---------------------------------------------------------------------
    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self._token:
            return web.json_response(ApiError(401, "Unauthorized").to_json(), status=401)
        entry = METHODS.get(request.match_info["method"].lower())
        if entry is None:
            return web.json_response(ApiError(404, "Not Found").to_json(), status=404)
        name, func = entry
        world = self.world
        polling = name == "getUpdates"
        call = ApiCall(name, {}, world.clock())
        reset: ConnectionReset | None = None
        world.calls.append(call)
        if len(world.calls) > MAX_CALLS:
            del world.calls[: MAX_CALLS // 10]
        if not polling:
            world.inflight += 1
        world.changed(activity=not polling)
        try:
            params = await Params.from_request(request)
            call.params = params.log_view()
            if self.latency > 0:
                await asyncio.sleep(self.latency)  # simulated network latency
            await self._pass_hold(call)
            fault = self._take_fault(name)
            if isinstance(fault, SlowAnswer):
                await asyncio.sleep(fault.delay)
                fault = None
            fault = fault or self._flood(name, params, call)
            if isinstance(fault, ConnectionReset):
                reset = fault
                if not fault.after:
                    await self._reset(request, call)
            elif fault is not None:
                raise fault
            result = await func(world, params)
            call.ok, call.result = True, result
            await self._pass_hold(call, after=True)
            if name == "setWebhook":
                self.webhook.notice()
            if reset is not None:
                await self._reset(request, call)
            body: dict[str, Any] = {"ok": True, "result": result}
            status = 200
        except ApiError as exc:
            call.ok, call.error_code, call.description = False, exc.error_code, exc.description
            body, status = exc.to_json(), exc.error_code
        except asyncio.CancelledError:
            if reset is None and not call.ok:  # (a call done, its answer held, stays done)
                call.ok, call.error_code, call.description = False, 499, "client closed request"
            raise
        except Exception as exc:  # a bug in the emulator: make it visible
            log.exception("emulator failed handling %s", name)
            call.ok, call.error_code = False, 500
            call.description = f"Internal Server Error: {exc!r}"
            body, status = {"ok": False, "error_code": 500, "description": call.description}, 500
        finally:
            if not polling:
                world.inflight -= 1
            world.changed(activity=not polling or bool(call.result))
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self._token:
            return web.json_response(ApiError(401, "Unauthorized").to_json(), status=401)
        path = request.match_info["path"]
        for file in self.world.files.values():
            if file.file_path == path:
                mime = (file.mime_type or "application/octet-stream").split(";")[0].strip()
                return web.Response(body=file.data, content_type=mime)
        return web.json_response(ApiError(404, "Not Found").to_json(), status=404)
