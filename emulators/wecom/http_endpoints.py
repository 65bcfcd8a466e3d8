"""The emulated WeCom's HTTP side: the 消息推送 group webhook, response_url, callback mode.

- ``POST /cgi-bin/webhook/send?key=KEY`` (a group's push webhook): text ≤ 2048 bytes, markdown
  ≤ 4096 bytes, image (base64 + md5 of the raw bytes, JPG/PNG ≤ 2 MB), news (1–8 articles),
  file and voice by a media_id this webhook uploaded in the last 3 days, 20 messages a minute
  per key (45009 beyond); always HTTP 200 with ``errcode``.
- ``POST /cgi-bin/webhook/upload_media?key=KEY&type=file|voice``: multipart/form-data, the
  file in the part named ``media`` (its filename shown in the group), 5 B to 20 MB (voice:
  2 MB); answers ``{"type", "media_id", "created_at"}``. An upload is no message: it does not
  count towards the 20 a minute.
- ``POST /cgi-bin/aibot/response?response_code=...``: a callback's response_url, once, for an
  hour, posting a new markdown or card in its chat.
- Callback mode: a bot with a :class:`CallbackClient` attached gets its callbacks POSTed,
  encrypted, to its URL; the passive reply is applied as the frame it stands for, and an
  unfinished stream is refreshed by :meth:`HttpEndpoints.refresh_streams`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from emulators.wecom import errors
from emulators.wecom.cards import check_card, utf8_len
from emulators.wecom.errors import WeComError, invalid_parameter
from emulators.wecom.replies import Issued, Replies
from emulators.wecom.world import Place, World

if TYPE_CHECKING:
    from emulators.wecom.callback_client import CallbackClient
    from emulators.wecom.server import Frame

WEBHOOK_TEXT_BYTES = 2048
WEBHOOK_MARKDOWN_BYTES = 4096
WEBHOOK_IMAGE_BYTES = 2 * 1024 * 1024
WEBHOOK_PER_MINUTE = 20
UPLOAD_MIN_BYTES = 5
UPLOAD_MAX_BYTES = {"file": 20 * 1024 * 1024, "voice": 2 * 1024 * 1024}
MEDIA_TTL = 3 * 24 * 3600.0
RESPONSE_URL_TTL = 3600.0
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


@dataclass(frozen=True, slots=True)
class Media:
    """A file a webhook uploaded: usable by that webhook's messages for 3 days."""

    key: str
    kind: str
    filename: str
    data: bytes
    at: float


class HttpEndpoints:
    """Mixin of :class:`WeComEmulator`: the group webhooks, response_url and callback mode."""

    world: World
    replies: Replies
    clock: Callable[[], float]
    frames: list[Frame]

    @property
    def url(self) -> str:
        """The server's root URL (the emulator's)."""
        raise NotImplementedError

    def __init__(self) -> None:
        self.webhooks: dict[str, str] = {}  # key -> chatid
        self.webhook_messages: dict[str, list[dict[str, Any]]] = {}  # chatid -> bodies accepted
        self._webhook_sent: dict[str, deque[float]] = {}
        self.media: dict[str, Media] = {}  # media_id -> what was uploaded
        self._used_response_codes: set[str] = set()
        self.callback_clients: dict[str, CallbackClient] = {}

    def add_http_routes(self, app: web.Application) -> None:
        app.router.add_post("/cgi-bin/webhook/send", self._handle_webhook)
        app.router.add_post("/cgi-bin/webhook/upload_media", self._handle_upload)
        app.router.add_post("/cgi-bin/aibot/response", self._handle_response_url)

    async def _notify(self) -> None:
        raise NotImplementedError

    # -- group webhook ---------------------------------------------------------------------
    def add_webhook(self, chatid: str) -> str:
        """A push webhook for group ``chatid``; returns its URL (the key is a secret)."""
        self.world.group(chatid)
        key = secrets.token_hex(16)
        self.webhooks[key] = chatid
        self.webhook_messages.setdefault(chatid, [])
        return self.webhook_url(key)

    def webhook_url(self, key: str) -> str:
        return f"{self.url}/cgi-bin/webhook/send?key={key}"

    def remove_webhook(self, chatid: str) -> None:
        """The group's admin removed its webhook: its key answers 93000 from now on."""
        for key in [k for k, c in self.webhooks.items() if c == chatid]:
            del self.webhooks[key]

    async def _handle_webhook(self, request: web.Request) -> web.Response:
        key = request.query.get("key", "")
        try:
            chatid = self.webhooks.get(key)
            if chatid is None:
                raise WeComError(errors.INVALID_WEBHOOK, "invalid webhook url")
            try:
                body = await request.json()
            except ValueError as error:
                raise invalid_parameter("Request body is not JSON") from error
            if not isinstance(body, dict):
                raise invalid_parameter("Request body is not an object")
            bubble_fields = self._webhook_message(body, key)
            self._webhook_rate(key)
        except WeComError as error:
            return web.json_response({"errcode": error.errcode, "errmsg": error.errmsg})
        self.webhook_messages[chatid].append(body)
        self.world.post(Place("group", chatid), f"webhook:{key[:6]}", **bubble_fields)
        await self._notify()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def _webhook_rate(self, key: str) -> None:
        now = self.clock()
        sent = self._webhook_sent.setdefault(key, deque())
        while sent and now - sent[0] >= 60:
            sent.popleft()
        if len(sent) >= WEBHOOK_PER_MINUTE:
            raise errors.freq_out_of_limit()
        sent.append(now)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        key = request.query.get("key", "")
        kind = request.query.get("type", "")
        try:
            if key not in self.webhooks:
                raise WeComError(errors.INVALID_WEBHOOK, "invalid webhook url")
            if kind not in UPLOAD_MAX_BYTES:
                raise invalid_parameter(f"type {kind!r} not supported")
            try:
                form = await request.post()
            except ValueError as error:
                raise invalid_parameter("Request body is not multipart/form-data") from error
            part = form.get("media")
            if not isinstance(part, web.FileField):
                raise invalid_parameter("media missing")
            data = part.file.read()
            if not UPLOAD_MIN_BYTES <= len(data) <= UPLOAD_MAX_BYTES[kind]:
                raise WeComError(errors.INVALID_MEDIA_SIZE, "invalid media size")
        except WeComError as error:
            return web.json_response({"errcode": error.errcode, "errmsg": error.errmsg})
        media_id = secrets.token_urlsafe(24)
        at = self.clock()
        self.media[media_id] = Media(key, kind, part.filename or "file", data, at)
        return web.json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "type": kind,
                "media_id": media_id,
                "created_at": str(int(at)),
            }
        )

    def webhook_files(self, chatid: str) -> list[Media]:
        """The files sent to group ``chatid`` by its webhooks, oldest first."""
        sent = []
        for body in self.webhook_messages.get(chatid, []):
            if body.get("msgtype") == "file":
                sent.append(self.media[str(body["file"]["media_id"])])
        return sent

    def _webhook_message(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        """The bubble a webhook message makes, if WeCom accepts it."""
        msgtype = body.get("msgtype")
        part = body.get(str(msgtype))
        if not isinstance(part, dict):
            raise invalid_parameter(f"{msgtype} missing")
        at = self.clock()
        if msgtype in ("text", "markdown"):
            content = part.get("content")
            limit = WEBHOOK_TEXT_BYTES if msgtype == "text" else WEBHOOK_MARKDOWN_BYTES
            if not isinstance(content, str) or not content:
                raise invalid_parameter(f"{msgtype}.content missing")
            if utf8_len(content) > limit:
                raise invalid_parameter(f"{msgtype}.content exceed max length {limit}")
            return {"msgtype": msgtype, "at": at, "text": content}
        if msgtype == "image":
            try:
                raw = base64.b64decode(str(part.get("base64", "")), validate=True)
            except (binascii.Error, ValueError) as error:
                raise invalid_parameter("image.base64 invalid") from error
            if not raw or len(raw) > WEBHOOK_IMAGE_BYTES:
                raise WeComError(40009, "invalid image size")
            if not raw.startswith(_IMAGE_MAGIC):
                raise invalid_parameter("image is not JPG or PNG")
            if hashlib.md5(raw).hexdigest() != str(part.get("md5", "")).lower():
                raise WeComError(errors.MEDIA_MD5_MISMATCH, "media md5 not match")
            return {"msgtype": "image", "at": at, "body": {"image": {"bytes": len(raw)}}}
        if msgtype == "news":
            articles = part.get("articles")
            if not isinstance(articles, list) or not 1 <= len(articles) <= 8:
                raise invalid_parameter("news.articles count must be 1 to 8")
            return {"msgtype": "news", "at": at, "body": copy.deepcopy(body)}
        if msgtype == "template_card":
            if part.get("card_type") not in ("text_notice", "news_notice"):
                raise invalid_parameter("template_card.card_type not supported by webhooks")
            check_card(part)
            return {"msgtype": "template_card", "at": at, "card": copy.deepcopy(part)}
        if msgtype in ("file", "voice"):
            if not part.get("media_id"):
                raise invalid_parameter(f"{msgtype}.media_id missing")
            media = self.media.get(str(part["media_id"]))
            if (
                media is None
                or media.key != key  # a media_id serves only the webhook that uploaded it
                or media.kind != msgtype
                or at - media.at > MEDIA_TTL
            ):
                raise WeComError(errors.INVALID_MEDIA_ID, "invalid media_id")
            shown = {"filename": media.filename, "bytes": len(media.data)}
            return {"msgtype": msgtype, "at": at, "text": media.filename, "body": {msgtype: shown}}
        raise invalid_parameter(f"msgtype {msgtype!r} not supported")

    # -- response_url ----------------------------------------------------------------------
    async def _handle_response_url(self, request: web.Request) -> web.Response:
        code = request.query.get("response_code", "")
        issued = self._issued_with_code(code)
        try:
            if issued is None or code in self._used_response_codes:
                raise WeComError(errors.INVALID_PARAMETER, "invalid response_code")
            if self.clock() - issued.at > RESPONSE_URL_TTL:
                raise WeComError(errors.INVALID_PARAMETER, "response_code expired")
            body = await request.json()
            bot = self.world.bot(issued.bot_id)
            if not isinstance(body, dict):
                raise invalid_parameter("Request body is not an object")
            self.replies.post_new(bot, issued.place, body)
        except WeComError as error:
            return web.json_response({"errcode": error.errcode, "errmsg": error.errmsg})
        self._used_response_codes.add(code)
        await self._notify()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def _issued_with_code(self, code: str) -> Issued | None:
        for issued in self.replies.issued.values():
            if str(issued.body.get("response_url", "")).endswith(f"response_code={code}"):
                return issued
        return None

    # -- callback mode ---------------------------------------------------------------------
    def attach_callback(self, bot_id: str, client: CallbackClient) -> None:
        """From now on the bot's callbacks are POSTed to its URL instead of its socket."""
        self.world.bot(bot_id)
        self.callback_clients[bot_id] = client

    async def post_callback(self, client: CallbackClient, issued: Issued) -> None:
        reply = await client.post(issued.body)
        issued.delivered = True
        if reply is not None:
            await self._apply_passive(issued, reply)

    async def refresh_streams(self) -> int:
        """Callback mode: one refresh callback for each unfinished stream; how many were sent.

        WeCom repeats these until the stream finishes, for at most 6 minutes from the person's
        message; its pace is not documented, so a test calls this as often as it likes.
        """
        posted = 0
        for issued in list(self.replies.issued.values()):
            client = self.callback_clients.get(issued.bot_id)
            if client is None or issued.kind != "message":
                continue
            if self.clock() - issued.at > self.replies.behaviour.stream_window:
                continue
            for stream_id, bubble in list(issued.streams.items()):
                if bubble.finished:
                    continue
                keys = ("msgid", "aibotid", "chatid", "chattype", "from")
                body = {key: issued.body[key] for key in keys if key in issued.body}
                body["msgtype"] = "stream"
                body["stream"] = {"id": stream_id}
                reply = await client.post(body)
                posted += 1
                if reply is not None:
                    await self._apply_passive(issued, reply)
        return posted

    async def _apply_passive(self, issued: Issued, reply: dict[str, Any]) -> None:
        from emulators.wecom.server import Frame

        bot = self.world.bot(issued.bot_id)
        try:
            cmd = self.replies.passive(bot, issued, reply)
            error = None
        except WeComError as refused:
            cmd, error = "passive_reply", refused
        self.frames.append(
            Frame(
                bot.bot_id,
                cmd,
                issued.req_id,
                reply,
                error.errcode if error else 0,
                error.errmsg if error else "ok",
                self.clock(),
                via="callback",
            )
        )
        await self._notify()
