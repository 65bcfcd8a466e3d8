"""What the bot sends, applied to the world: replies to callbacks, card updates, proactive sends.

Each callback WeCom pushed is :class:`Issued` under its req_id; a reply must carry that req_id
and be the one kind of answer it allows (a message: stream, markdown, card, media, for 24 h; an
``enter_chat``: a welcome within 5 s; a ``template_card_event``: a card update within 5 s).
A refusal is a :class:`WeComError`; nothing changed then.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from emulators.wecom import errors
from emulators.wecom.behaviour import Behaviour
from emulators.wecom.cards import check_card, utf8_len
from emulators.wecom.errors import WeComError, invalid_parameter, invalid_req_id
from emulators.wecom.world import BotAccount, Bubble, Place, World

CONTENT_BYTES = 20480  # markdown, stream and text content
MEDIA_TYPES = ("file", "image", "voice", "video")
PASSIVE_TO_MESSAGE = ("stream", "template_card", "stream_with_template_card")

RESPOND = "aibot_respond_msg"
WELCOME = "aibot_respond_welcome_msg"
UPDATE = "aibot_respond_update_msg"
SEND = "aibot_send_msg"


@dataclass
class Issued:
    """A callback WeCom pushed to a bot, and what has been answered to it."""

    req_id: str
    bot_id: str
    kind: Literal["message", "event"]
    eventtype: str | None
    place: Place
    userid: str | None
    at: float
    body: dict[str, Any]
    card: Bubble | None = None  # the card a template_card_event is about
    delivered: bool = False
    answered: bool = False
    settled: bool = False  # a message answered in full: no longer "交互中" for its sender
    dropped: bool = False  # WeCom gave up on it (a fault): no answer is taken any more
    streams: dict[str, Bubble] = field(default_factory=dict)
    stream_started: dict[str, float] = field(default_factory=dict)


class Replies:
    """Applies the bot's outbound frames to the world, under WeCom's rules and limits."""

    def __init__(self, world: World, behaviour: Behaviour, clock: Callable[[], float]) -> None:
        self.world = world
        self.behaviour = behaviour
        self.clock = clock
        self.issued: dict[str, Issued] = {}
        self._sent: dict[tuple[str, Place], deque[float]] = {}

    # -- dispatch --------------------------------------------------------------------------
    def apply(self, bot: BotAccount, cmd: str, req_id: str, body: dict[str, Any]) -> None:
        if cmd not in (RESPOND, WELCOME, UPDATE, SEND):  # media uploads are not emulated yet
            raise WeComError(errors.UNKNOWN_CMD, f"unknown cmd {cmd}")
        if cmd == SEND:
            self._send(bot, body)
            return
        issued = self.issued.get(req_id)
        if issued is None or issued.bot_id != bot.bot_id or issued.dropped:
            raise invalid_req_id(req_id)
        if cmd == RESPOND:
            self._respond(bot, issued, body)
        elif cmd == WELCOME:
            self._welcome(bot, issued, body)
        else:
            self._update(bot, issued, body)
        issued.answered = True

    def passive(self, bot: BotAccount, issued: Issued, body: dict[str, Any]) -> str:
        """A callback-mode passive reply: the same rules as the frame it stands for; a
        message's is a stream or a card, not markdown (D-101031)."""
        if issued.kind == "message":
            cmd = RESPOND
            if body.get("msgtype") not in PASSIVE_TO_MESSAGE:
                raise invalid_parameter(f"msgtype {body.get('msgtype')!r} not a passive reply")
        elif issued.eventtype == "template_card_event":
            cmd = UPDATE
        else:
            cmd = WELCOME
        self.apply(bot, cmd, issued.req_id, body)
        return cmd

    def post_new(self, bot: BotAccount, place: Place, body: dict[str, Any]) -> None:
        """A new markdown or card in ``place`` (a response_url's one use)."""
        self._message(bot, place, body, allowed=("markdown", "template_card"))

    # -- answers to callbacks --------------------------------------------------------------
    def _respond(self, bot: BotAccount, issued: Issued, body: dict[str, Any]) -> None:
        if issued.kind != "message":
            raise invalid_req_id(issued.req_id)
        if self.clock() - issued.at > self.behaviour.reply_window:
            raise WeComError(self.behaviour.late_answer_errcode, "reply window expired")
        msgtype = body.get("msgtype")
        stream = body.get("stream")
        finishing = isinstance(stream, dict) and bool(stream.get("finish"))
        if msgtype == "stream":
            self._stream(bot, issued, body)
        elif msgtype == "stream_with_template_card":
            if not self.behaviour.accept_stream_with_template_card:
                raise invalid_parameter("msgtype stream_with_template_card not supported")
            self._card(bot, issued.place, body.get("template_card"), check_only=True)
            self._stream(bot, issued, body)
            self._card(bot, issued.place, body.get("template_card"))
        else:
            self._message(bot, issued.place, body, allowed=("markdown", "template_card"))
            finishing = True
        if finishing:
            issued.settled = True

    def in_flight(self, bot_id: str, userid: str) -> int:
        """How many of ``userid``'s messages to the bot are still being answered."""
        now = self.clock()
        return sum(
            1
            for issued in self.issued.values()
            if issued.kind == "message"
            and issued.bot_id == bot_id
            and issued.userid == userid
            and not issued.settled
            and now - issued.at < self.behaviour.stream_window
        )

    def _welcome(self, bot: BotAccount, issued: Issued, body: dict[str, Any]) -> None:
        if issued.eventtype != "enter_chat":
            raise invalid_req_id(issued.req_id)
        self._within_event_window(issued)
        if body.get("msgtype") == "text":
            content = self._content(body, "text")
            self._count(bot, issued.place)
            self.world.post(issued.place, f"bot:{bot.bot_id}", "text", self.clock(), text=content)
        else:
            self._message(bot, issued.place, body, allowed=("template_card",))

    def _update(self, bot: BotAccount, issued: Issued, body: dict[str, Any]) -> None:
        if issued.eventtype != "template_card_event" or issued.card is None:
            raise invalid_req_id(issued.req_id)
        self._within_event_window(issued)
        if body.get("response_type") != "update_template_card":
            raise invalid_parameter("response_type must be update_template_card")
        card = body.get("template_card")
        check_card(card, require_card_action=self.behaviour.require_card_action)
        assert isinstance(card, dict)
        bubble = issued.card
        new = copy.deepcopy(card)
        new["task_id"] = bubble.task_id  # "任务id只在发消息时候有效，更新消息的时候无效"
        userids = body.get("userids")
        if userids:
            if not isinstance(userids, list):
                raise invalid_parameter("userids not a list")
            for userid in userids:
                bubble.card_for[str(userid)] = new
        else:
            bubble.card = new
            bubble.card_for.clear()

    def _within_event_window(self, issued: Issued) -> None:
        if self.clock() - issued.at > self.behaviour.event_answer_window:
            raise WeComError(self.behaviour.late_answer_errcode, "event answer window expired")

    # -- proactive -------------------------------------------------------------------------
    def _send(self, bot: BotAccount, body: dict[str, Any]) -> None:
        chatid = body.get("chatid")
        if not isinstance(chatid, str) or not chatid:
            raise invalid_parameter("chatid missing")
        chat_type = body.get("chat_type")
        if chat_type is not None and self.behaviour.validate_chat_type and chat_type not in (1, 2):
            raise invalid_parameter("chat_type invalid")
        place = self.world.target(bot, chatid)
        if chatid not in bot.wrote:
            raise WeComError(
                self.behaviour.proactive_refused_errcode,
                "the chat has not sent the bot a message yet",
            )
        self._message(bot, place, body, allowed=("markdown", "template_card"))

    # -- what appears ----------------------------------------------------------------------
    def _message(
        self, bot: BotAccount, place: Place, body: dict[str, Any], allowed: tuple[str, ...]
    ) -> None:
        msgtype = body.get("msgtype")
        sender = f"bot:{bot.bot_id}"
        if msgtype == "markdown" and msgtype in allowed:
            content = self._content(body, "markdown")
            self._feedback(body["markdown"])
            self._count(bot, place)
            bubble = self.world.post(place, sender, "markdown", self.clock(), text=content)
            self._remember_feedback(bot, body["markdown"], bubble)
        elif msgtype == "template_card" and msgtype in allowed:
            self._card(bot, place, body.get("template_card"))
        elif msgtype in MEDIA_TYPES and "markdown" in allowed:  # not in a welcome
            media = body.get(str(msgtype))
            if not isinstance(media, dict) or not media.get("media_id"):
                raise invalid_parameter(f"{msgtype}.media_id missing")
            self._count(bot, place)
            self.world.post(place, sender, str(msgtype), self.clock(), body=copy.deepcopy(body))
        else:
            raise invalid_parameter(f"msgtype {msgtype!r} not supported here")

    def _card(
        self, bot: BotAccount, place: Place, card: Any, *, check_only: bool = False
    ) -> Bubble | None:
        check_card(card, require_card_action=self.behaviour.require_card_action)
        assert isinstance(card, dict)
        task_id = card.get("task_id")
        if task_id is not None and task_id in bot.task_ids:
            raise WeComError(self.behaviour.task_id_reused_errcode, "task_id already exists")
        if check_only:
            return None
        self._count(bot, place)
        bubble = self.world.post(
            place, f"bot:{bot.bot_id}", "template_card", self.clock(), card=copy.deepcopy(card)
        )
        if task_id is not None:
            bot.task_ids[str(task_id)] = bubble
        self._remember_feedback(bot, card, bubble)
        return bubble

    def _stream(self, bot: BotAccount, issued: Issued, body: dict[str, Any]) -> None:
        stream = body.get("stream")
        if not isinstance(stream, dict) or not isinstance(stream.get("id"), str):
            raise invalid_parameter("stream.id missing")
        content = stream.get("content", "")
        if not isinstance(content, str) or utf8_len(content) > CONTENT_BYTES:
            raise invalid_parameter(f"stream.content exceed max length {CONTENT_BYTES}")
        self._feedback(stream)
        stream_id = stream["id"]
        finish = bool(stream.get("finish", False))
        bubble = issued.streams.get(stream_id)
        now = self.clock()
        if bubble is None:
            self._count(bot, issued.place)
            bubble = self.world.post(
                issued.place, f"bot:{bot.bot_id}", "stream", now, text=content, stream_id=stream_id
            )
            bubble.finished = finish
            issued.streams[stream_id] = bubble
            self._remember_feedback(bot, stream, bubble)  # the first frame's only
            self._msg_item(bubble, stream)
            issued.stream_started[stream_id] = now
            return
        if now - issued.stream_started[stream_id] > self.behaviour.stream_window:
            raise WeComError(errors.STREAM_EXPIRED, "stream message update expired")
        if not bubble.finished:  # a finished stream is frozen: later frames change nothing
            bubble.text = content
            bubble.finished = finish
            self._msg_item(bubble, stream)

    def _msg_item(self, bubble: Bubble, stream: dict[str, Any]) -> None:
        """A finishing frame's images, kept only if the long connection is set to take them."""
        items = stream.get("msg_item")
        if items and bubble.finished and self.behaviour.keep_stream_msg_item:
            bubble.body["msg_item"] = copy.deepcopy(items)

    def _content(self, body: dict[str, Any], msgtype: str) -> str:
        part = body.get(msgtype)
        content = part.get("content") if isinstance(part, dict) else None
        if not isinstance(content, str):
            raise invalid_parameter(f"{msgtype}.content missing")
        if utf8_len(content) > CONTENT_BYTES:
            raise invalid_parameter(f"{msgtype}.content exceed max length {CONTENT_BYTES}")
        return content

    @staticmethod
    def _feedback(part: dict[str, Any]) -> None:
        feedback = part.get("feedback")
        if isinstance(feedback, dict) and utf8_len(str(feedback.get("id", ""))) > 256:
            raise invalid_parameter("feedback.id exceed max length 256")

    @staticmethod
    def _remember_feedback(bot: BotAccount, part: dict[str, Any], bubble: Bubble) -> None:
        """A message with ``feedback.id`` gets 👍/👎 buttons; a press names that id."""
        feedback = part.get("feedback")
        if isinstance(feedback, dict) and feedback.get("id"):
            bot.feedback_ids[str(feedback["id"])] = bubble

    def _count(self, bot: BotAccount, place: Place) -> None:
        """WeCom's per-conversation rate (replies and proactive sends together)."""
        now = self.clock()
        sent = self._sent.setdefault((bot.bot_id, place), deque())
        while sent and now - sent[0] >= 3600:
            sent.popleft()
        last_minute = sum(1 for at in sent if now - at < 60)
        if last_minute >= self.behaviour.per_minute or len(sent) >= self.behaviour.per_hour:
            raise errors.freq_out_of_limit()
        sent.append(now)
