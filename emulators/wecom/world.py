"""The emulated WeCom's people, chats and bots, and what each person would see.

A corp has people (``userid``) and group chats (``chatid``); a bot is in groups and has one
single chat with each person. Every message anyone sees is a :class:`Bubble` in a place; a card
bubble keeps its current card (after updates), and per-person replacements (``userids``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from emulators.wecom import errors
from emulators.wecom.errors import WeComError

PlaceKind = Literal["group", "single"]


@dataclass(frozen=True, slots=True)
class Place:
    """Where a message is: a group (``chatid``), or a bot's single chat with a person."""

    kind: PlaceKind
    chatid: str  # the group's chatid, or the person's userid in a single chat
    bot_id: str = ""  # whose single chat (empty for groups)


@dataclass
class BotAccount:
    """An AI bot in API mode: its credentials, name, and what only it may do."""

    bot_id: str
    secret: str
    name: str
    corp_id: str
    task_ids: dict[str, Bubble] = field(default_factory=dict)  # every card it sent, by task_id
    wrote: set[str] = field(default_factory=set)  # chatids / userids that messaged it
    feedback_ids: dict[str, Bubble] = field(default_factory=dict)  # messages people can rate


@dataclass
class Person:
    userid: str
    name: str
    corp_id: str


@dataclass
class Group:
    chatid: str
    name: str
    corp_id: str
    members: list[str]
    bots: set[str]
    external: bool = False  # personal-WeChat members: no AI bot can be in it


@dataclass
class Bubble:
    """One message as people see it; a bot's stream or card changes in place."""

    seq: int
    place: Place
    sender: str  # a userid, "bot:<bot_id>" or "webhook:<key>"
    msgtype: str
    text: str | None = None  # text, markdown or the stream's current snapshot
    card: dict[str, Any] | None = None  # the template card as everyone sees it
    card_for: dict[str, dict[str, Any]] = field(default_factory=dict)  # replaced for some
    stream_id: str | None = None
    finished: bool = True
    at: float = 0.0
    body: dict[str, Any] = field(default_factory=dict)  # what was sent, for anything else

    def card_seen_by(self, userid: str) -> dict[str, Any] | None:
        return self.card_for.get(userid, self.card)

    @property
    def task_id(self) -> str | None:
        return None if self.card is None else str(self.card.get("task_id", "")) or None


@dataclass(frozen=True, slots=True)
class Seen:
    """A message as one person sees it now (the card after the updates meant for them)."""

    seq: int
    place: Place
    sender: str
    msgtype: str
    text: str | None
    card: dict[str, Any] | None

    @property
    def title(self) -> str | None:
        """The card's main title, or None."""
        if self.card is None:
            return None
        return str(self.card.get("main_title", {}).get("title", "")) or None


class World:
    """Corps, people, groups, bots and every bubble, in the order they appeared."""

    def __init__(self) -> None:
        self.bots: dict[str, BotAccount] = {}
        self.people: dict[str, Person] = {}
        self.groups: dict[str, Group] = {}
        self.bubbles: list[Bubble] = []

    # -- who and where ---------------------------------------------------------------------
    def bot(self, bot_id: str) -> BotAccount:
        try:
            return self.bots[bot_id]
        except KeyError:
            raise KeyError(f"no bot {bot_id!r}") from None

    def person(self, userid: str) -> Person:
        try:
            return self.people[userid]
        except KeyError:
            raise KeyError(f"no person {userid!r}") from None

    def group(self, chatid: str) -> Group:
        try:
            return self.groups[chatid]
        except KeyError:
            raise KeyError(f"no group {chatid!r}") from None

    def target(self, bot: BotAccount, chatid: str) -> Place:
        """Where a proactive send to ``chatid`` goes (case-sensitive, as in WeCom)."""
        group = self.groups.get(chatid)
        if group is not None and bot.bot_id in group.bots:
            return Place("group", chatid)
        person = self.people.get(chatid)
        if person is not None and person.corp_id == bot.corp_id:
            return Place("single", chatid, bot.bot_id)
        raise WeComError(errors.INVALID_CHATID, "invalid chatid")

    def viewers(self, place: Place) -> list[str]:
        if place.kind == "group":
            return list(self.group(place.chatid).members)
        return [place.chatid]

    # -- messages --------------------------------------------------------------------------
    def post(self, place: Place, sender: str, msgtype: str, at: float, **fields: Any) -> Bubble:
        bubble = Bubble(len(self.bubbles) + 1, place, sender, msgtype, at=at, **fields)
        self.bubbles.append(bubble)
        return bubble

    def in_place(self, place: Place) -> list[Bubble]:
        return [bubble for bubble in self.bubbles if bubble.place == place]

    def seen_by(self, userid: str, place: Place | None = None) -> list[Seen]:
        """What ``userid`` sees now, everywhere (or in ``place``), oldest first."""
        seen = []
        for bubble in self.bubbles:
            if place is not None and bubble.place != place:
                continue
            if userid not in self.viewers(bubble.place):
                continue
            card = bubble.card_seen_by(userid)
            seen.append(
                Seen(
                    bubble.seq,
                    bubble.place,
                    bubble.sender,
                    bubble.msgtype,
                    bubble.text,
                    copy.deepcopy(card) if card is not None else None,
                )
            )
        return seen

    def card(self, bot: BotAccount, task_id: str) -> Bubble:
        try:
            return bot.task_ids[task_id]
        except KeyError:
            raise KeyError(f"bot {bot.bot_id} sent no card {task_id!r}") from None

    def describe(self, userid: str) -> str:
        """A readable transcript of what ``userid`` sees (for failing tests and demos)."""
        lines = []
        for seen in self.seen_by(userid):
            where = seen.place.chatid if seen.place.kind == "group" else "single"
            what = seen.text if seen.card is None else json.dumps(seen.card, ensure_ascii=False)
            lines.append(f"[{where}] {seen.sender} ({seen.msgtype}): {what}")
        return "\n".join(lines)
