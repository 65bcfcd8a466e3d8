"""WeCom's callbacks into the same service calls Telegram's handlers make.

A message in a group reaches the bot only when it @-mentions it: the mention is stripped and
the rest read as a command, with the same one-line syntax as on Telegram. Commands shared by
every channel (bot/commands) are run here and answered in markdown; WeCom's own (``/topic``,
which answers with a card) and the presses on cards are routed by channels/wecom/routes.py to
their feature's module. Every message is answered on its req_id (WeCom counts an unanswered
one as still in progress, three at most per person); a press (``template_card_event``) is
answered, within WeCom's 5 s, with the card as it is now. A Refusal is rendered with the same
locale keys as on Telegram.

Who and where: each callback's ``from.userid`` and ``chatid`` become Yishi ids (storage's
``seen_on``: allocated on first sight; channels/wecom/sightings.py). A callback WeCom delivers
twice (the same ``msgid``) is acted on once; a press delivered again is answered with the
card as it is now (its first answer may have been lost with a connection), not voted again.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from bot.commands import COMMANDS, Asked, Command
from bot.commands.base import ReplyFile
from bot.commands.organisation import bind
from bot.services import Services
from bot.services.announcement_texts import Line
from bot.services.errors import Refusal
from bot.services.organisation.roles import role_of
from bot.services.topics.ballots import VoteReceipt
from channels.common.answering import AnsweringFirst
from channels.common.refusals import refusal_said
from channels.common.told import Writer
from channels.wecom.cards import VotePress, WeComViews, parse_key
from channels.wecom.connection import ConnectionLost, LongConnection, WeComRefused
from channels.wecom.latest_cards import LatestCards
from channels.wecom.meetings import MeetingCards
from channels.wecom.push import PushRefused, PushWebhooks, image_body
from channels.wecom.replies import WeComReplies
from channels.wecom.routes import OWN_COMMANDS, PRESSES, WORDS
from channels.wecom.sightings import Arriving, Sightings, Who
from channels.wecom.text import MESSAGE_BYTES, WeComText, escape, message, split
from channels.wecom.topics import answer_vote, ballot_cards, cast_vote
from storage.records import Platform

log = logging.getLogger(__name__)

_MENTIONS = re.compile(r"^\s*(?:@\S+\s*)+")
REMEMBERED_MSGIDS = 4096
# A card's key read once for all its presses (the same few keys, pressed thousands of times
# in a burst; what they stand for is immutable).
_read_key = lru_cache(maxsize=4096)(parse_key)


async def _no_admin() -> bool:
    return False


class WeComMembership:
    """Membership as WeCom shows it: a press reaches the bot only from a member who sees the
    card, so a presser is a member; WeCom tells an AI bot no group's size (unknown)."""

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        return True

    async def member_count(self, chat_id: int) -> int | None:
        return None


@dataclass(frozen=True, slots=True)
class Message:
    """A message to the bot: its req_id (to answer on), who wrote where, the words after the
    command word, and the callback's body."""

    req_id: str
    who: Who
    text: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Pressed:
    """A press on a card: its req_id (to answer on within 5 s), who pressed where, the card's
    task_id and the event as WeCom sent it (``selected_items`` for a vote card)."""

    req_id: str
    who: Who
    task_id: str
    event: dict[str, Any]
    again: bool = False  # WeCom delivered this press before (the same msgid)


class WeComAdapter:
    def __init__(
        self,
        services: Services,
        connection: WeComReplies,
        text: WeComText,
        views: WeComViews,
        *,
        pushes: PushWebhooks,
    ) -> None:
        self.services = services
        self.pushes = pushes  # the groups' push webhooks (a file, a picture)
        self.connection = connection
        self.t = text
        self.views = views
        self.membership = WeComMembership()
        self.writer = Writer(text, escape, text.zone, span=text.translator.duration)
        self._seen_msgids: OrderedDict[str, None] = OrderedDict()
        self._sightings = Sightings(services)
        self.latest_cards = LatestCards(partial(ballot_cards, self))
        self.meeting_cards = MeetingCards(self)

    # -- dispatch --------------------------------------------------------------------------
    async def on_callback(self, frame: dict[str, Any]) -> None:
        body = frame.get("body")
        headers = frame.get("headers")
        if not isinstance(body, dict) or not isinstance(headers, dict):
            return
        req_id = str(headers.get("req_id", ""))
        repeated = self._repeated(str(body.get("msgid", "")))
        cmd = frame.get("cmd")
        if repeated and cmd != "aibot_event_callback":
            return
        answering = AnsweringFirst()  # what the callback caused waits for its answer
        try:
            if cmd == "aibot_msg_callback":
                await self._message(req_id, body)
            elif cmd == "aibot_event_callback":
                event = body.get("event")
                event = event if isinstance(event, dict) else {}
                eventtype = event.get("eventtype")
                if eventtype == "template_card_event":
                    await self._card_event(req_id, body, event, again=repeated)
                elif eventtype == "enter_chat":
                    await self._welcome(req_id, body)
        except (WeComRefused, ConnectionLost) as error:
            log.warning("WeCom did not take the answer to %s: %s", cmd, error)
        finally:
            answering.answered()

    def _repeated(self, msgid: str) -> bool:
        if not msgid:
            return False
        if msgid in self._seen_msgids:
            return True
        self._seen_msgids[msgid] = None
        if len(self._seen_msgids) > REMEMBERED_MSGIDS:
            self._seen_msgids.popitem(last=False)
        return False

    # -- messages --------------------------------------------------------------------------
    async def _message(self, req_id: str, body: dict[str, Any]) -> None:
        who = await self._sightings.who(body)
        if who is None:
            return
        if not who.place.is_group:  # they wrote to the bot: it may write to them from now on
            await self.services.people.mark_started(who.actor.user_id)
        text = _MENTIONS.sub("", _text_of(body)).strip()
        if not text.startswith("/"):  # words: on a quoted message, or an answer asked for
            for route in WORDS:
                if await route(self, Message(req_id, who, text, body)):
                    return
            text = f"/start {text}"  # "@议事 你好": answered as /start (where am I, what next)
        word, _, rest = text.partition(" ")
        if "\n" in word:  # "/topic\n..." : the command word ends at the line's end too
            word, _, more = word.partition("\n")
            rest = f"{more} {rest}".strip()
        command = word.lower().removeprefix("/")
        msg = Message(req_id, who, rest.strip(), body)
        own = OWN_COMMANDS.get(command)
        if own is not None:
            await own(self, msg)
            return
        try:
            shared = COMMANDS.get(command)
            if shared is not None:
                answer = await self.run(shared, msg)
            else:
                answer = self.t(who.locale, "wecom.unknown_command")
        except Refusal as refusal:
            answer = self.refusal(who.locale, refusal)
        await self.answer(msg, answer)

    async def answer(self, msg: Message, markdown: str) -> None:
        """Answer a message with markdown, on its req_id: in as many messages as it takes
        (each within WeCom's 20480 bytes), split between lines."""
        for part in split(markdown.split("\n"), MESSAGE_BYTES):
            await self.connection.respond(msg.req_id, message(part))

    async def run(self, command: Command, msg: Message) -> str:
        """A command of bot/commands, answered in markdown; one whose effect is announced by
        itself is acknowledged (WeCom holds a message unanswered as still in progress)."""
        who = msg.who

        async def chat_admin() -> bool:
            # WeCom tells an AI bot nothing of who owns a group: a group's own choices
            # (its language) are its officers'; binding is authorised by the one-time code,
            # which an officer of the level above gives (on Telegram: a group admin's).
            return command is bind

        answer = await command(self.asked(msg, chat_admin))
        if answer is None:
            return self.t(who.locale, "wecom.done")
        text = self.writer.text(answer.locale or who.locale, answer.told)
        if answer.files:
            text += "\n" + await self.push_files(msg, answer.files, answer.locale or who.locale)
        return text

    async def push_files(self, msg: Message, files: Sequence[ReplyFile], locale: str) -> str:
        """A reply's pictures (a document as its pictures) through the chat's push webhook,
        which is the only way an AI bot sends a picture of its own; what became of them."""
        url = await self.services.digest.push_webhook(msg.who.place.chat_id)
        if url is None:
            return self.t(locale, "wecom.files_need_push_webhook")
        try:
            for file in files:
                if file.picture:
                    drawn: Sequence[bytes] = (file.data,)
                elif file.pictures is not None:
                    drawn = await file.pictures()
                else:
                    continue
                for picture in drawn:
                    await self.pushes.send(url, image_body(picture))
        except PushRefused:
            return self.t(locale, "wecom.files_push_refused")
        return self.t(locale, "wecom.files_pushed")

    def asked(self, msg: Message, chat_admin: Callable[[], Awaitable[bool]] = _no_admin) -> Asked:
        """A message read as a command of bot/commands."""
        who = msg.who
        return Asked(
            self.services,
            who.actor,
            who.place,
            msg.text,
            who.locale,
            self.membership,
            chat_admin,
            person=self.person,
            answers=answers,
        )

    async def person(self, word: str) -> int | None:
        """The person a command's word names: a WeCom 账号 (userid) the bot has seen, or
        Yishi's number of them. An @-mention reaches the bot as the display name alone, which
        names nobody it can tell apart: refused, saying to write the 账号. A role's name
        (``/role 楼栋长`` with nobody named) names nobody: None, and the usage line says how."""
        if word.startswith("@"):
            raise Refusal("wecom.mention_names_nobody", name=word[1:])
        async with self.services.database.transaction() as repos:
            known = await repos.users.known_on(Platform.WECOM, word)
            if known is None and word != word.lower():
                known = await repos.users.known_on(Platform.WECOM, word.lower())
        if known is not None:
            return known
        if word.isdigit() and len(word) <= 20:
            return int(word)
        try:
            role_of(word)
        except Refusal:
            raise Refusal("wecom.unknown_person", userid=word) from None
        return None

    def refusal(self, locale: str, refusal: Refusal) -> str:
        """The refusal's explanation, as Telegram words it (the same keys), in markdown."""
        return self.writer.said(locale, refusal_said(refusal, self.t.translator.has))

    def refusal_plain(self, locale: str, refusal: Refusal) -> str:
        """The same, without markup: for a card."""
        return plain(self.refusal(locale, refusal))

    def plain_lines(self, locale: str, lines: tuple[Line, ...]) -> str:
        """What the core says, without markup: for a card."""
        return plain(self.writer.lines(locale, lines))

    # -- events ----------------------------------------------------------------------------
    async def _welcome(self, req_id: str, body: dict[str, Any]) -> None:
        """Someone opened their single chat with the bot (the day's first time): the same
        greeting as Telegram's /start, as a welcome (plain text, within WeCom's 5 s)."""
        who = await self._sightings.who(body)
        if who is None:
            return
        user = await self.services.people.user(who.actor.user_id)
        name = user.first_name if user else who.userid
        welcome = plain(self.t(who.locale, "general.start_private", name=name))
        if isinstance(self.connection, LongConnection):
            await self.connection.call(
                "aibot_respond_welcome_msg",
                {"msgtype": "text", "text": {"content": welcome}},
                req_id,
            )
        else:  # callback mode: the welcome is the passive reply
            await self.connection.respond(req_id, message(welcome))

    # -- card presses ----------------------------------------------------------------------
    async def _card_event(
        self, req_id: str, body: dict[str, Any], event: dict[str, Any], *, again: bool
    ) -> None:
        payload = event.get("template_card_event")
        if not isinstance(payload, dict):
            return
        seen = await self._sightings.sighted(body)
        if seen is None:
            return
        task_id = str(payload.get("task_id") or payload.get("taskid") or "")
        press = _read_key(str(payload.get("event_key", "")))
        if isinstance(seen, Arriving):
            if isinstance(press, VotePress) and not again:  # recorded with the ballot
                cast = await cast_vote(self, seen.newcomer, seen.place.chat_id, payload, press)
                if isinstance(cast, VoteReceipt):
                    who = self._sightings.arrived(seen, cast.user_id)
                else:
                    who = await self._sightings.record(seen)
                await answer_vote(self, Pressed(req_id, who, task_id, payload), press, cast)
                return
            seen = await self._sightings.record(seen)
        pressed = Pressed(req_id, seen, task_id, payload, again)
        route = PRESSES.get(type(press)) if press is not None else None
        if route is None:  # a card Yishi cannot read, or one this version does not answer
            await self.stale(pressed)
            return
        await route(self, pressed, press)

    async def stale(self, pressed: Pressed) -> None:
        """A press on a card that is gone or not ours: the presser's card says so, frozen."""
        said = self.refusal_plain(pressed.who.locale, Refusal("general.stale_button"))
        frozen = self.views.stale_vote_card(said, pressed.who.locale, pressed.task_id or "stale")
        await self.connection.update_card(pressed.req_id, frozen, userids=[pressed.who.userid])


def answers(command: str) -> bool:
    """Whether WeCom answers ``command`` (its /help lists only those)."""
    return command in COMMANDS or command in OWN_COMMANDS


def _text_of(body: dict[str, Any]) -> str:
    """The text of a text or mixed message (a mixed one's text items, in order)."""
    if body.get("msgtype") == "text":
        text = body.get("text")
        return str(text.get("content", "")) if isinstance(text, dict) else ""
    if body.get("msgtype") == "mixed":
        mixed = body.get("mixed")
        items = mixed.get("msg_item", []) if isinstance(mixed, dict) else []
        return " ".join(
            str(item.get("text", {}).get("content", ""))
            for item in items
            if isinstance(item, dict) and item.get("msgtype") == "text"
        )
    return ""


def plain(markdown: str) -> str:
    """Markdown made plain text (a card takes no markup)."""
    return re.sub(r"\\(.)", r"\1", markdown.replace("**", "").replace("`", ""))
