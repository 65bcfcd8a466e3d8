"""The Bot API transport: python-telegram-bot's ``BaseRequest`` on an aiohttp client session.

PTB's default transport (httpx) spends about 2 ms of CPU per Bot API call on our machines;
aiohttp's client about a quarter of that, and at hundreds of presses a second the transport
is most of the bot's CPU. ``YISHI_HTTP_CLIENT=httpx`` keeps PTB's own transport selectable.

Behaviour matches ``telegram.request.HTTPXRequest``: one client per instance with keep-alive
connections and a bounded pool; the four PTB timeouts (a caller's value, else the instance's
default; file uploads use ``media_write_timeout``); the same request encoding (form fields
holding JSON values, multipart when files are uploaded); and the same errors: a timeout is
``TimedOut`` (a full pool says so), any other transport failure ``NetworkError``. HTTP status
codes (429 -> ``RetryAfter``, 400 -> ``BadRequest``, 403 -> ``Forbidden``...) are mapped by
``BaseRequest`` itself, as for every transport.

``RetryingRequest`` wraps either transport for the bot's calls (not ``getUpdates``, which
python-telegram-bot's updater retries itself) with what a flaky network needs:

- **A broken connection or a 5xx answer is retried**, twice, after 0.2 s and 0.8 s: a
  keep-alive connection the server had closed ("Server disconnected"), a reset, a refused
  connection, 500/502/503/504. For reads, edits, deletions and answers this is harmless (an
  edit made twice shows the same; see "not modified" below). For sends (``send*``,
  ``forward*``, ``copy*``) it is a choice: Telegram may have posted the message before the
  connection broke, and then it is posted twice. Telegram has no idempotency key, and not
  retrying would lose the reply or the ballot message whenever the connection broke before
  Telegram had it, which is the common case (a stale keep-alive connection). So sends are
  delivered at least once, as the outbox's are across a crash (docs/RELIABILITY.md).
- **A slow answer is waited for, not retried**: the read timeout is 15 s (python-telegram-bot
  says 5 s), and a timeout is not retried, since a send that is merely slow has most likely
  been made. The caller (the outbox, a living message) decides what a timeout means.
- **An edit that changes nothing succeeded**: Telegram's 400 "message is not modified" to an
  ``editMessage*`` call is answered as ``True`` (which python-telegram-bot's edit methods
  return for success), so no caller treats an edit of a message already showing that content,
  or a retried edit whose first answer was lost, as a failure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

import aiohttp

# python-telegram-bot's private helpers, imported here and nowhere else (a unit test holds
# it so): their names may change in any release, and the version is pinned in pyproject.toml.
# The bot's other modules that override PTB's signatures take them from this module.
from telegram._utils.defaultvalue import DEFAULT_80 as DEFAULT_80
from telegram._utils.defaultvalue import DEFAULT_IP as DEFAULT_IP
from telegram._utils.defaultvalue import DEFAULT_NONE as DEFAULT_NONE
from telegram._utils.defaultvalue import DefaultValue as DefaultValue
from telegram._utils.types import DVType as DVType
from telegram._utils.types import JSONDict as JSONDict
from telegram._utils.types import ODVInput as ODVInput
from telegram._utils.types import TimePeriod as TimePeriod
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

HttpClient = Literal["aiohttp", "httpx"]
READ_TIMEOUT = 15.0  # seconds; python-telegram-bot's default is 5
RETRY_DELAYS = (0.2, 0.8)  # before the second and third attempt
NOT_MODIFIED = "message is not modified"
_SUCCESS = json.dumps({"ok": True, "result": True}).encode()

POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* "
    "sent to Telegram. Consider adjusting the connection pool size or the pool timeout."
)
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    """``BaseRequest`` on one ``aiohttp.ClientSession`` (opened in ``initialize``).

    ``connection_pool_size`` bounds the requests in flight (and so the connections); a
    request that waits longer than ``pool_timeout`` for a free one fails with ``TimedOut``
    without having been sent. aiohttp has no per-write timeout: ``write_timeout`` bounds
    the request as part of a ceiling of connect + write + read time.
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_trust_env",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._pool = asyncio.Semaphore(connection_pool_size)
        # Like httpx, honour HTTP(S)_PROXY from the environment, but only pay for the
        # per-request proxy lookup when one is configured.
        self._trust_env = bool(urllib.request.getproxies())

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size, keepalive_timeout=30.0, enable_cleanup_closed=False
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                trust_env=self._trust_env,
                timeout=aiohttp.ClientTimeout(total=None),
            )

    async def _acquire(self, pool_timeout: float | None) -> None:
        if not self._pool.locked() or pool_timeout is None:
            await self._pool.acquire()  # no wait_for (it costs a task) unless we must wait
            return
        try:
            await asyncio.wait_for(self._pool.acquire(), pool_timeout)
        except TimeoutError:
            raise TimedOut(POOL_TIMEOUT_MESSAGE) from None

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        uploads = request_data is not None and request_data.contains_files
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write_timeout if uploads else self._write_timeout
        else:
            write = write_timeout
        parts = (connect, write, read)
        total = None if None in parts else sum(p for p in parts if p is not None)
        timeout = aiohttp.ClientTimeout(
            total=total, connect=connect, sock_connect=connect, sock_read=read
        )
        body, headers = _encode(request_data)
        await self._acquire(pool)
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error
        finally:
            self._pool.release()


def _encode(request_data: RequestData | None) -> tuple[Any, dict[str, str] | None]:
    """PTB's wire format: form fields whose values are JSON; multipart when uploading."""
    if request_data is None:
        return None, None
    fields = request_data.json_parameters
    if not request_data.contains_files:
        return urlencode(fields).encode(), _FORM
    form = aiohttp.FormData(quote_fields=False, default_to_multipart=True)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form, None


Call = Callable[[], Awaitable[tuple[int, bytes]]]


class WrappedRequest(BaseRequest):
    """Another transport, with something done around each of its calls (``around``)."""

    __slots__ = ("_inner",)

    def __init__(self, inner: BaseRequest) -> None:
        self._inner = inner

    @property
    def inner(self) -> BaseRequest:
        return self._inner

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        def call() -> Awaitable[tuple[int, bytes]]:
            return self._inner.do_request(
                url,
                method,
                request_data,
                read_timeout,
                write_timeout,
                connect_timeout,
                pool_timeout,
            )

        return await self.around(url.rsplit("/", 1)[-1], call)

    async def around(self, endpoint: str, call: Call) -> tuple[int, bytes]:
        """Make the call (``call()`` makes it again each time); the default just makes it."""
        return await call()


class RetryingRequest(WrappedRequest):
    """Another transport's calls, retried through broken connections and 5xx answers, and
    an edit that changed nothing taken for success (the module's docstring says why)."""

    __slots__ = ("_delays", "_metrics")

    def __init__(
        self,
        inner: BaseRequest,
        *,
        delays: tuple[float, ...] = RETRY_DELAYS,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(inner)
        self._delays = delays
        self._metrics = metrics  # retries and 429s by method

    async def around(self, endpoint: str, call: Call) -> tuple[int, bytes]:
        delays = () if endpoint.lower() == "getupdates" else self._delays
        for attempt in range(len(delays) + 1):
            try:
                status, payload = await call()
            except TimedOut:
                raise  # slow, not broken (or our own pool is full): never sent twice
            except NetworkError as error:
                if attempt == len(delays):
                    raise
                why, cause = error.message, "network"
            else:
                if status == 429 and self._metrics is not None:
                    self._metrics.too_many_requests(endpoint)  # retried by the rate limiter
                if status < 500 or attempt == len(delays):
                    return _not_modified_is_success(endpoint, status, payload)
                why, cause = f"HTTP {status}", "5xx"
            if self._metrics is not None:
                self._metrics.retried(endpoint, cause)
            log.info("%s failed (%s); trying again in %s s", endpoint, why, delays[attempt])
            await asyncio.sleep(delays[attempt])
        raise AssertionError("unreachable")  # the last attempt returns or raises


def _not_modified_is_success(endpoint: str, status: int, payload: bytes) -> tuple[int, bytes]:
    if (
        status == 400
        and endpoint.startswith("editMessage")
        and NOT_MODIFIED in payload.decode("utf-8", "replace")
    ):
        return 200, _SUCCESS
    return status, payload


def build_requests(
    client: HttpClient, *, metrics: Metrics | None = None
) -> tuple[BaseRequest, BaseRequest]:
    """(request, get_updates_request): pools of 256 and 1 as PTB's defaults; the bot's calls
    wait up to ``READ_TIMEOUT`` for an answer and are retried (``RetryingRequest``)."""
    if client == "httpx":
        return (
            RetryingRequest(
                HTTPXRequest(connection_pool_size=256, read_timeout=READ_TIMEOUT), metrics=metrics
            ),
            HTTPXRequest(connection_pool_size=1),
        )
    return (
        RetryingRequest(
            AiohttpRequest(connection_pool_size=256, read_timeout=READ_TIMEOUT), metrics=metrics
        ),
        AiohttpRequest(connection_pool_size=1),
    )
