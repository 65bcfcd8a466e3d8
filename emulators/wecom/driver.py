"""What people do, as WeCom reports it to the bot: messages, quotes, presses, votes.

People @-mention the bot in a group (``@议事 /topic ...``), write to it in a single chat, quote
a message, enter the single chat, press a button card or submit a vote card. Each action shows
in the world (what the others see) and is pushed to the bot as WeCom would; the returned
:class:`Issued` carries the req_id the bot must answer on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from emulators.wecom.behaviour import Behaviour, EventSpelling
from emulators.wecom.cards import button_keys, vote_selection
from emulators.wecom.replies import Issued, Replies
from emulators.wecom.world import BotAccount, Bubble, Group, Person, Place, World

DEFAULT_CORP = "wwcorp0001"


class TooManyInFlight(Exception):
    """The person already has the most messages WeCom lets be answered at once (3)."""


class Driver:
    """Mixin of :class:`WeComEmulator`: building the world and acting as people."""

    world: World
    behaviour: Behaviour
    replies: Replies
    callback_clients: dict[str, Any]
    clock: Callable[[], float]
    _counter: Iterator[int]  # req_ids and msgids, one sequence per emulator

    async def deliver(self, issued: Issued, cmd: str) -> Issued:
        raise NotImplementedError

    @property
    def url(self) -> str:
        """The server's root URL (the emulator's)."""
        raise NotImplementedError

    def next_req_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._counter):08d}"

    def next_msgid(self) -> str:
        return f"MSG{next(self._counter):010d}"

    # -- the world -------------------------------------------------------------------------
    def add_bot(
        self, bot_id: str, secret: str, *, name: str = "议事", corp_id: str = DEFAULT_CORP
    ) -> BotAccount:
        bot = BotAccount(bot_id, secret, name, corp_id)
        self.world.bots[bot_id] = bot
        return bot

    def add_person(self, userid: str, name: str, *, corp_id: str = DEFAULT_CORP) -> Person:
        person = Person(userid, name, corp_id)
        self.world.people[userid] = person
        return person

    def add_group(
        self,
        chatid: str,
        name: str,
        members: list[str],
        *,
        bots: list[str] | None = None,
        corp_id: str = DEFAULT_CORP,
        external: bool = False,
    ) -> Group:
        """A group chat; ``bots`` defaults to every bot of the corp (none if ``external``)."""
        if bots is None:
            bots = [] if external else [b.bot_id for b in self.world.bots.values()]
        if external and bots:
            raise ValueError("an AI bot cannot be added to an external group")
        group = Group(chatid, name, corp_id, list(members), set(bots), external)
        self.world.groups[chatid] = group
        return group

    def readd_bot(self, chatid: str, *, bot_id: str | None = None) -> None:
        """The bot was taken out of group ``chatid`` and added back: like a bot new to the
        group, it may post there only after someone there has written to it again
        (assumed: WeCom documents no expiry of that permission, nor what removal does)."""
        self._bot(bot_id).wrote.discard(chatid)

    def _bot(self, bot_id: str | None) -> BotAccount:
        if bot_id is not None:
            return self.world.bot(bot_id)
        if len(self.world.bots) != 1:
            raise ValueError("say which bot (bot_id=...)")
        return next(iter(self.world.bots.values()))

    # -- messages --------------------------------------------------------------------------
    async def mention(
        self,
        userid: str,
        chatid: str,
        text: str,
        *,
        bot_id: str | None = None,
        quote: Bubble | None = None,
        images: list[str] | None = None,
    ) -> Issued:
        """``userid`` writes ``@<bot> text`` in group ``chatid`` (the mention stays in content).

        With ``images`` (their URLs) it is a ``mixed`` message: the text, then the images.
        """
        bot = self._bot(bot_id)
        group = self.world.group(chatid)
        if userid not in group.members:
            raise ValueError(f"{userid} is not in {chatid}")
        if bot.bot_id not in group.bots:
            raise ValueError(f"bot {bot.bot_id} is not in {chatid}")
        content = f"@{bot.name} {text}"
        place = Place("group", chatid)
        self._check_in_flight(bot, userid)
        self.world.post(place, userid, "text", self.clock(), text=content)
        bot.wrote.add(chatid)
        return await self._message(bot, place, userid, content, quote, images)

    async def write(
        self, userid: str, text: str, *, bot_id: str | None = None, quote: Bubble | None = None
    ) -> Issued:
        """``userid`` writes ``text`` to the bot in their single chat."""
        bot = self._bot(bot_id)
        if self.world.person(userid).corp_id != bot.corp_id:
            raise ValueError(f"{userid} is not in the bot's corp")
        place = Place("single", userid, bot.bot_id)
        self._check_in_flight(bot, userid)
        self.world.post(place, userid, "text", self.clock(), text=text)
        bot.wrote.add(userid)
        return await self._message(bot, place, userid, text, quote)

    async def quote(
        self, userid: str, bubble: Bubble, text: str, *, bot_id: str | None = None
    ) -> Issued:
        """``userid`` quotes ``bubble`` and writes ``text`` (an @-mention in a group)."""
        if bubble.place.kind == "group":
            return await self.mention(
                userid, bubble.place.chatid, text, bot_id=bot_id, quote=bubble
            )
        return await self.write(userid, text, bot_id=bot_id, quote=bubble)

    def _check_in_flight(self, bot: BotAccount, userid: str) -> None:
        limit = self.behaviour.max_in_flight_per_person
        if limit is not None and self.replies.in_flight(bot.bot_id, userid) >= limit:
            raise TooManyInFlight(f"{userid} already has {limit} messages being answered")

    async def _message(
        self,
        bot: BotAccount,
        place: Place,
        userid: str,
        content: str,
        quote: Bubble | None,
        images: list[str] | None = None,
    ) -> Issued:
        if images:
            body = self._envelope(bot, place, userid, "mixed")
            items: list[dict[str, Any]] = [{"msgtype": "text", "text": {"content": content}}]
            for url in images:
                image = {"url": url}
                if bot.bot_id not in self.callback_clients:  # only the long connection's
                    image["aeskey"] = f"AESKEY{next(self._counter):010d}"
                items.append({"msgtype": "image", "image": image})
            body["mixed"] = {"msg_item": items}
        else:
            body = self._envelope(bot, place, userid, "text")
            body["text"] = {"content": content}
        if quote is not None:
            body["quote"] = self._quoted(quote, userid)
        issued = Issued(
            self.next_req_id("aibot_msg_callback"),
            bot.bot_id,
            "message",
            None,
            place,
            userid,
            self.clock(),
            body,
        )
        return await self.deliver(issued, "aibot_msg_callback")

    @staticmethod
    def _quoted(bubble: Bubble, userid: str) -> dict[str, Any]:
        # WeCom documents quotes of text, image, mixed, voice and file; how a quoted card
        # arrives is not documented: sent as the card the quoting person sees (unverified).
        card = bubble.card_seen_by(userid)
        if card is not None:
            return {"msgtype": "template_card", "template_card": card}
        return {"msgtype": "text", "text": {"content": bubble.text or ""}}

    def _envelope(self, bot: BotAccount, place: Place, userid: str, msgtype: str) -> dict[str, Any]:
        body: dict[str, Any] = {"msgid": self.next_msgid(), "aibotid": bot.bot_id}
        if place.kind == "group":
            body["chatid"] = place.chatid
        body["chattype"] = place.kind
        body["from"] = {"userid": userid}
        body["response_url"] = (
            f"{self.url}/cgi-bin/aibot/response?response_code={self.next_req_id('RC')}"
        )
        body["msgtype"] = msgtype
        return body

    # -- events ----------------------------------------------------------------------------
    async def enter_chat(self, userid: str, *, bot_id: str | None = None) -> Issued:
        """``userid`` opens the single chat with the bot (the day's first time)."""
        bot = self._bot(bot_id)
        place = Place("single", userid, bot.bot_id)
        return await self._event(bot, place, userid, "enter_chat", None, None)

    async def press_button(
        self,
        userid: str,
        task_id: str,
        key: str,
        *,
        bot_id: str | None = None,
        selection: str | None = None,
    ) -> Issued:
        """``userid`` presses the button ``key`` of the button card ``task_id``."""
        bot = self._bot(bot_id)
        bubble = self._visible_card(bot, task_id, userid)
        card = bubble.card_seen_by(userid) or {}
        if key not in button_keys(card):
            raise ValueError(f"the card {task_id} has no button {key!r}: {button_keys(card)}")
        payload: dict[str, Any] = {"card_type": card["card_type"], "event_key": key}
        payload["task_id"] = task_id
        chosen = card.get("button_selection")
        if chosen:
            option = selection or chosen.get("selected_id") or chosen["option_list"][0]["id"]
            payload["selected_items"] = {
                "selected_item": [
                    {"question_key": chosen["question_key"], "option_ids": {"option_id": [option]}}
                ]
            }
        return await self._event(bot, bubble.place, userid, "template_card_event", payload, bubble)

    async def submit_vote(
        self, userid: str, task_id: str, option_ids: list[str], *, bot_id: str | None = None
    ) -> Issued:
        """``userid`` ticks ``option_ids`` on the vote card ``task_id`` and submits it."""
        bot = self._bot(bot_id)
        bubble = self._visible_card(bot, task_id, userid)
        card = bubble.card_seen_by(userid) or {}
        if card.get("card_type") != "vote_interaction":
            raise ValueError(f"the card {task_id} is not a vote card")
        payload: dict[str, Any] = {
            "card_type": "vote_interaction",
            "event_key": card["submit_button"]["key"],
            "task_id": task_id,
            "selected_items": {"selected_item": vote_selection(card, option_ids)},
        }
        return await self._event(bot, bubble.place, userid, "template_card_event", payload, bubble)

    async def give_feedback(
        self,
        userid: str,
        feedback_id: str,
        kind: int = 1,
        *,
        content: str = "",
        reasons: list[int] | None = None,
        bot_id: str | None = None,
    ) -> Issued:
        """``userid`` rates the bot's message carrying ``feedback_id`` (1: 👍, 2: inaccurate).

        A feedback_event takes no answer: any reply on its req_id is refused.
        """
        bot = self._bot(bot_id)
        bubble = bot.feedback_ids.get(feedback_id)
        if bubble is None or userid not in self.world.viewers(bubble.place):
            raise ValueError(f"{userid} sees no message with feedback id {feedback_id!r}")
        payload: dict[str, Any] = {"id": feedback_id, "type": kind}
        if content:
            payload["content"] = content
        if reasons:
            payload["inaccurate_reason_list"] = reasons
        return await self._event(bot, bubble.place, userid, "feedback_event", payload, None)

    def _visible_card(self, bot: BotAccount, task_id: str, userid: str) -> Bubble:
        bubble = self.world.card(bot, task_id)
        if userid not in self.world.viewers(bubble.place):
            raise ValueError(f"{userid} cannot see the card {task_id}")
        return bubble

    def _spelled(self, payload: dict[str, Any]) -> dict[str, Any]:
        spelling = self.behaviour.event_spelling
        if spelling is EventSpelling.EXAMPLE:
            return payload
        table = {"card_type": "cardtype", "task_id": "taskid"}
        spelled: dict[str, Any] = {}
        for key, value in payload.items():
            if key in table:
                spelled[table[key]] = value
                if spelling is EventSpelling.BOTH:
                    spelled[key] = value
            else:
                spelled[key] = value
        return spelled

    async def _event(
        self,
        bot: BotAccount,
        place: Place,
        userid: str,
        eventtype: str,
        payload: dict[str, Any] | None,
        card: Bubble | None,
    ) -> Issued:
        body = self._envelope(bot, place, userid, "event")
        body["create_time"] = int(self.clock())
        body["event"] = {"eventtype": eventtype}
        if payload is not None:
            body["event"][eventtype] = self._spelled(payload)
        if eventtype in ("enter_chat", "feedback_event"):
            del body["response_url"]
        issued = Issued(
            self.next_req_id("aibot_event_callback"),
            bot.bot_id,
            "event",
            eventtype,
            place,
            userid,
            self.clock(),
            body,
            card=card,
        )
        return await self.deliver(issued, "aibot_event_callback")
