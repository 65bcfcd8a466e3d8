"""WeCom's callback mode: the HTTP server WeCom POSTs the AI bot's callbacks to.

WeCom calls one URL (``PATH`` on ``YISHI_WECOM_LISTEN``, behind the deployment's public HTTPS
address):

- ``GET ?msg_signature&timestamp&nonce&echostr`` when the URL is saved in the admin console:
  the signature checked, ``echostr`` decrypted and answered as plain text (WeCom waits 1 s);
- ``POST ?msg_signature&timestamp&nonce`` with ``{"encrypt": ...}``: a callback. A wrong
  signature is answered 403 and nothing runs; one that does not decrypt with the AES key, 400
  (the log says which setting differs). A good one goes to the same handler as the long
  connection's frames (``WeComAdapter.on_callback``, as ``aibot_msg_callback`` or
  ``aibot_event_callback`` under a req_id of its own), and its first answer comes back,
  encrypted, as the HTTP response (channels/wecom/passive.py), or an empty one when there is
  none within ``answer_within`` seconds (a later answer takes the callback's response_url).

WeCom sends a callback again when it got no answer (the same ``msgid``); the copy gets the first
one's answer and runs nothing. The msgids are remembered in memory only: WeCom retries for
seconds, a graceful stop answers every callback in flight before the server closes, and after a
crash the instance lease keeps a new instance from starting for ``YISHI_LEASE_TTL`` (20 s),
longer than WeCom's retries.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from channels.common.listening import listen
from channels.wecom.crypto import BadSignature, WeComCrypto, WeComCryptoError
from channels.wecom.passive import Clock, PassiveReplies
from channels.wecom.replies import EncodedCard

log = logging.getLogger(__name__)

PATH = "/wecom/callback"
ANSWER_WITHIN = 4.0  # WeCom's 5 s for a card update, less the way back
REMEMBERED_MSGIDS = 4096
MAX_BODY = 1024 * 1024

Callback = Callable[[dict[str, Any]], Awaitable[None]]
Reply = dict[str, Any] | None


class CallbackServer:
    """Serves WeCom's callbacks for one bot (its Token and EncodingAESKey)."""

    def __init__(
        self,
        crypto: WeComCrypto,
        on_callback: Callback,
        *,
        host: str,
        port: int,
        clock: Clock = time.time,
        answer_within: float = ANSWER_WITHIN,
    ) -> None:
        self.crypto = crypto
        self.host = host
        self._port = port
        self.replies = PassiveReplies(clock)
        self.answer_within = answer_within
        self._on_callback = on_callback
        self._answers: OrderedDict[str, asyncio.Future[Reply]] = OrderedDict()  # msgid ->
        self._numbers = itertools.count(1)
        self._handlers: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._stopped = asyncio.Event()
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_get(PATH, self._verify)
        self.app.router.add_post(PATH, self._callback)

    # -- lifecycle (as the long connection's) ------------------------------------------------
    @property
    def port(self) -> int:
        """The port it listens on (the one chosen when started on port 0)."""
        return self._port

    async def start(self) -> None:
        """Starts listening; CannotListen if the address cannot be bound."""
        self._runner, self._port = await listen(
            self.app,
            self.host,
            self._port,
            setting="YISHI_WECOM_LISTEN",
            what="the WeCom callback server",
            forwarded="WeCom's posts",
            shutdown_timeout=self.answer_within,
        )
        log.info("WeCom callback server on http://%s:%s%s", self.host, self._port, PATH)

    async def wait_subscribed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Ready as soon as it listens: WeCom calls it, there is nothing to wait for."""

    async def stop(self) -> None:
        """Answers the callbacks in flight, then closes."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        await self.replies.close()
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    # -- WeComReplies (what the adapter and the announcer call) -------------------------------
    async def respond(self, req_id: str, body: dict[str, Any]) -> None:
        await self.replies.respond(req_id, body)

    async def update_card(
        self, req_id: str, card: dict[str, Any] | EncodedCard, userids: list[str] | None = None
    ) -> None:
        await self.replies.update_card(req_id, card, userids)

    async def send(self, chatid: str, body: dict[str, Any]) -> None:
        await self.replies.send(chatid, body)

    # -- HTTP --------------------------------------------------------------------------------
    async def _verify(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            plain = self.crypto.verify_url(
                _signature(query),
                query.get("timestamp", ""),
                query.get("nonce", ""),
                # base64 has no spaces: one is a "+" sent unencoded and read as a space.
                query.get("echostr", "").replace(" ", "+"),
            )
        except WeComCryptoError as error:
            return _refused(error, "URL verification")
        return web.Response(text=plain)

    async def _callback(self, request: web.Request) -> web.Response:
        query = request.query
        nonce = query.get("nonce", "")
        try:
            envelope = json.loads(await request.text())
            encrypt = envelope.get("encrypt", envelope.get("Encrypt"))
            if not isinstance(encrypt, str):
                raise ValueError("no encrypt")
        except (ValueError, AttributeError, UnicodeDecodeError):
            log.warning('WeCom callback mode: a POST without {"encrypt": ...}; refused')
            return web.Response(status=400, text='expected {"encrypt": ...}')
        try:
            message = self.crypto.open_json(
                _signature(query), query.get("timestamp", ""), nonce, encrypt
            )
            if not isinstance(message, dict):
                raise ValueError("not a JSON object")
        except WeComCryptoError as error:
            return _refused(error, "a callback")
        except ValueError:
            log.warning("WeCom callback mode: a callback that is not a JSON object; ignored")
            return web.Response(status=400, text="not a JSON object")
        reply = await self._answer(message)
        if reply is None:
            return web.Response(text="")  # "回复空包"
        plain = json.dumps(reply, ensure_ascii=False, separators=(",", ":"))
        sealed = self.crypto.seal(plain, str(int(time.time())), nonce)
        return web.json_response(sealed.reply_json())

    # -- dispatch ----------------------------------------------------------------------------
    async def _answer(self, message: dict[str, Any]) -> Reply:
        if message.get("msgtype") == "stream":
            # A refresh of an unfinished stream: Yishi never leaves one unfinished.
            return None
        msgid = str(message.get("msgid", ""))
        first = self._answers.get(msgid) if msgid else None
        if first is not None:  # WeCom sent it again: the first one's answer, nothing run
            return await self._within_time(first)
        req_id = f"callback_{next(self._numbers)}_{secrets.token_hex(4)}"
        reply = self.replies.expect(req_id, message)
        if msgid:
            self._answers[msgid] = reply
            while len(self._answers) > REMEMBERED_MSGIDS:
                self._answers.popitem(last=False)
        cmd = "aibot_event_callback" if message.get("msgtype") == "event" else "aibot_msg_callback"
        frame = {"cmd": cmd, "headers": {"req_id": req_id}, "body": message}
        task = asyncio.ensure_future(self._handle(req_id, frame))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        answer = await self._within_time(reply, task)
        self.replies.close_reply(req_id)  # what comes after goes by the response_url
        return answer

    async def _within_time(
        self, reply: asyncio.Future[Reply], handling: asyncio.Task[None] | None = None
    ) -> Reply:
        """The passive reply once given; None if the handling ends without one, or after
        ``answer_within`` seconds."""
        waiting: set[asyncio.Future[Any]] = {reply}
        if handling is not None:
            waiting.add(handling)
        await asyncio.wait(waiting, timeout=self.answer_within, return_when=asyncio.FIRST_COMPLETED)
        if reply.done() and not reply.cancelled():
            return reply.result()
        return None

    async def _handle(self, req_id: str, frame: dict[str, Any]) -> None:
        try:
            await self._on_callback(frame)
        except Exception:
            log.exception("WeCom callback %s failed", frame.get("cmd"))
        finally:
            self.replies.forget(req_id)


def _signature(query: Any) -> str:
    """``msg_signature`` (PLUG also accepts ``msgsignature`` and ``signature``)."""
    for name in ("msg_signature", "msgsignature", "signature"):
        value = query.get(name)
        if value:
            return str(value)
    return ""


def _refused(error: WeComCryptoError, what: str) -> web.Response:
    if isinstance(error, BadSignature):
        log.warning(
            "WeCom callback mode: refused %s with a wrong msg_signature (not from WeCom, or "
            "YISHI_WECOM_TOKEN is not the Token in WeCom's admin console)",
            what,
        )
        return web.Response(status=403, text="wrong signature")
    log.warning(
        "WeCom callback mode: %s is signed right but does not decrypt (%s): YISHI_WECOM_AES_KEY "
        "is not the EncodingAESKey in WeCom's admin console",
        what,
        error,
    )
    return web.Response(status=400, text="does not decrypt with this bot's EncodingAESKey")
