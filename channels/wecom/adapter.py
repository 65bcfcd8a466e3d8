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
``seen_on``: allocated on first sight). A callback WeCom delivers twice (the same ``msgid``)
is acted on once.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from bot.commands import COMMANDS, Asked, Command
from bot.commands.organisation import bind
from bot.services import Services
from bot.services.actors import Actor, ChatKind, Place
from bot.services.errors import Refusal
from channels.common.answering import AnsweringFirst
from channels.common.refusals import refusal_said
from channels.common.told import Writer
from channels.wecom.cards import WeComViews, parse_key
from channels.wecom.connection import ConnectionLost, LongConnection, WeComRefused
from channels.wecom.routes import OWN_COMMANDS, PRESSES
from channels.wecom.text import MESSAGE_BYTES, WeComText, escape, message, split
from storage.records import ChatType, Platform

log = logging.getLogger(__name__)

_MENTIONS = re.compile(r"^\s*(?:@\S+\s*)+")
REMEMBERED_MSGIDS = 4096


class WeComMembership:
    """Membership as WeCom shows it: a press reaches the bot only from a member who sees the
    card, so a presser is a member; WeCom tells an AI bot no group's size (unknown)."""

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        return True

    async def member_count(self, chat_id: int) -> int | None:
        return None


@dataclass(frozen=True, slots=True)
class Who:
    """The sender of a callback and where they wrote, as Yishi knows them."""

    actor: Actor
    place: Place
    locale: str
    userid: str
    address: str  # the chatid, or the userid in a single chat


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


class WeComAdapter:
    def __init__(
        self, services: Services, connection: LongConnection, text: WeComText, views: WeComViews
    ) -> None:
        self.services = services
        self.connection = connection
        self.t = text
        self.views = views
        self.membership = WeComMembership()
        self.writer = Writer(text, escape, text.zone)
        self._seen_msgids: OrderedDict[str, None] = OrderedDict()

    # -- dispatch --------------------------------------------------------------------------
    async def on_callback(self, frame: dict[str, Any]) -> None:
        body = frame.get("body")
        headers = frame.get("headers")
        if not isinstance(body, dict) or not isinstance(headers, dict):
            return
        req_id = str(headers.get("req_id", ""))
        if self._repeated(str(body.get("msgid", ""))):
            return
        cmd = frame.get("cmd")
        answering = AnsweringFirst()  # what the callback caused waits for its answer
        try:
            if cmd == "aibot_msg_callback":
                await self._message(req_id, body)
            elif cmd == "aibot_event_callback":
                event = body.get("event")
                if isinstance(event, dict) and event.get("eventtype") == "template_card_event":
                    await self._card_event(req_id, body, event)
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

    async def _who(self, body: dict[str, Any]) -> Who | None:
        sender = body.get("from")
        userid = str(sender.get("userid", "")) if isinstance(sender, dict) else ""
        if not userid:
            return None
        group = body.get("chattype") == "group"
        address = str(body.get("chatid", "")) if group else userid
        if not address:
            return None
        now = self.services.clock.now()
        async with self.services.database.transaction() as repos:
            user_id, user_locale = await repos.users.seen_on(
                Platform.WECOM, userid, name=userid, now=now
            )
            chat_id, chat_locale = await repos.chats.seen_on(
                Platform.WECOM,
                address,
                type=ChatType.GROUP if group else ChatType.PRIVATE,
                title=None,
                now=now,
            )
        settings = self.services.settings
        locale = (chat_locale if group else user_locale) or settings.locale
        superadmin = settings.is_superadmin(user_id) or userid in settings.wecom_admin_userids
        actor = Actor(user_id, is_superadmin=superadmin)
        kind = ChatKind.GROUP if group else ChatKind.PRIVATE
        return Who(actor, Place(chat_id, kind), locale, userid, address)

    # -- messages --------------------------------------------------------------------------
    async def _message(self, req_id: str, body: dict[str, Any]) -> None:
        who = await self._who(body)
        if who is None:
            return
        text = _MENTIONS.sub("", _text_of(body)).strip()
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
            elif command in ("help", "start"):
                answer = self.t(who.locale, "wecom.help")
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

        asked = Asked(
            self.services, who.actor, who.place, msg.text, who.locale, self.membership, chat_admin
        )
        answer = await command(asked)
        if answer is None:
            return self.t(who.locale, "wecom.done")
        return self.writer.text(answer.locale or who.locale, answer.told)

    def refusal(self, locale: str, refusal: Refusal) -> str:
        """The refusal's explanation, as Telegram words it (the same keys), in markdown."""
        return self.writer.said(locale, refusal_said(refusal, self.t.translator.has))

    def refusal_plain(self, locale: str, refusal: Refusal) -> str:
        """The same, without markup: for a card."""
        return plain(self.refusal(locale, refusal))

    # -- card presses ----------------------------------------------------------------------
    async def _card_event(self, req_id: str, body: dict[str, Any], event: dict[str, Any]) -> None:
        payload = event.get("template_card_event")
        if not isinstance(payload, dict):
            return
        who = await self._who(body)
        if who is None:
            return
        task_id = str(payload.get("task_id") or payload.get("taskid") or "")
        press = parse_key(str(payload.get("event_key", "")))
        pressed = Pressed(req_id, who, task_id, payload)
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
