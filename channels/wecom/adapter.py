"""WeCom's callbacks into the same service calls Telegram's handlers make.

A message in a group reaches the bot only when it @-mentions it: the mention is stripped and
the rest read as a command (``/topic`` with the same one-line syntax, ``/bind``, ``/help``,
``/lang``); every message is answered on its req_id (WeCom counts an unanswered one as still
in progress, three at most per person). A press on a ballot card (``template_card_event``)
casts the vote and is answered, within WeCom's 5 s, with the card as it is now for
everyone; a refused press (a closed topic, a stale card) with the card for the presser only,
saying why. A Refusal is rendered with the same locale keys as on Telegram, as text.

Who and where: each callback's ``from.userid`` and ``chatid`` become Yishi ids (storage's
``seen_on``: allocated on first sight; channels/wecom/sightings.py). A callback WeCom delivers
twice (the same ``msgid``) is acted on once.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from bot.services import Services
from bot.services.errors import Refusal
from bot.services.topics.service import TopicSnapshot
from bot.services.topics.syntax import parse_topic
from bot.services.topics.views import ballot_view
from channels.wecom.cards import (
    QUESTION,
    Card,
    VotePress,
    WeComViews,
    new_task_id,
    parse_key,
    parse_option,
)
from channels.wecom.connection import ConnectionLost, LongConnection, WeComRefused
from channels.wecom.latest_cards import LatestCards
from channels.wecom.sightings import Sightings, Who
from channels.wecom.text import WeComText, cut, message
from storage.records import Platform

log = logging.getLogger(__name__)

_MENTIONS = re.compile(r"^\s*(?:@\S+\s*)+")
ECHO_LIMIT = 200
REMEMBERED_MSGIDS = 4096
# Parameters whose values are names of things that have their own localised label (as
# Telegram renders refusals).
_LABELLED_PARAMS = {
    "level": "levels",
    "here": "levels",
    "role": "role_names",
    "expected_role": "role_names",
    "status": "statuses",
}


class WeComMembership:
    """Membership as WeCom shows it: a press reaches the bot only from a member who sees the
    card, so a presser is a member; WeCom tells an AI bot no group's size (unknown)."""

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        return True

    async def member_count(self, chat_id: int) -> int | None:
        return None


class WeComAdapter:
    def __init__(
        self, services: Services, connection: LongConnection, text: WeComText, views: WeComViews
    ) -> None:
        self._services = services
        self._connection = connection
        self._t = text
        self._views = views
        self.membership = WeComMembership()
        self._seen_msgids: OrderedDict[str, None] = OrderedDict()
        self._sightings = Sightings(services)
        self._latest = LatestCards(self._ballot_cards)

    # -- dispatch --------------------------------------------------------------------------
    async def on_callback(self, frame: dict[str, Any]) -> None:
        body = frame.get("body")
        headers = frame.get("headers")
        if not isinstance(body, dict) or not isinstance(headers, dict):
            return
        req_id = str(headers.get("req_id", ""))
        if self._repeated(str(body.get("msgid", ""))):
            await self._repeated_press(req_id, body)
            return
        cmd = frame.get("cmd")
        try:
            if cmd == "aibot_msg_callback":
                await self._message(req_id, body)
            elif cmd == "aibot_event_callback":
                event = body.get("event")
                if isinstance(event, dict) and event.get("eventtype") == "template_card_event":
                    await self._card_event(req_id, body, event, again=False)
        except (WeComRefused, ConnectionLost) as error:
            log.warning("WeCom did not take the answer to %s: %s", cmd, error)

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
        return await self._sightings.who(body)

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
        command = word.lower()
        try:
            if command == "/topic":
                await self._topic(req_id, who, rest.strip())
                return
            if command == "/bind":
                answer = await self._bind(who, rest.strip())
            elif command == "/lang":
                answer = await self._lang(who, rest.strip())
            elif command in ("/help", "/start"):
                answer = self._t(who.locale, "wecom.help")
            else:
                answer = self._t(who.locale, "wecom.unknown_command")
        except Refusal as refusal:
            answer = self.refusal(who.locale, refusal)
        await self._connection.respond(req_id, message(answer))

    async def _topic(self, req_id: str, who: Who, text: str) -> None:
        services = self._services
        if not text:
            await self._connection.respond(
                req_id, message(self._t(who.locale, "topics.topic_usage"))
            )
            return
        try:
            draft = parse_topic(
                text,
                now=services.clock.now(),
                zone=services.settings.zone,
                catalogue=services.catalogue,
                locale=who.locale,
            )
            published = await services.topics.publish(who.actor, who.place, draft, self.membership)
        except Refusal as refusal:
            await self._connection.respond(req_id, message(self.refusal(who.locale, refusal)))
            return
        topic_id = published.topic.id
        answered = False
        for post in published.posts:
            card = await self.ballot_card(topic_id, post.chat_id)
            if card is None:
                continue
            if post.chat_id == who.place.chat_id:
                await self._connection.respond(req_id, card)
                answered = True
            else:
                await self._post_elsewhere(post.chat_id, card)
        if not answered:
            voting = sum(1 for post in published.posts if post.voting)
            confirmation = self._t(who.locale, "topics.published_all", id=topic_id, count=voting)
            await self._connection.respond(req_id, message(confirmation))

    async def _post_elsewhere(self, chat_id: int, card: dict[str, Any]) -> None:
        """A ballot card in another WeCom chat of the topic (a proactive send; a Telegram
        chat's ballot message is Telegram's to post)."""
        async with self._services.database.transaction() as repos:
            address = await repos.chats.address_of(chat_id)
        if address is None or address[0] is not Platform.WECOM:
            return
        try:
            await self._connection.send(address[1], card)
        except (WeComRefused, ConnectionLost) as error:
            log.warning("the ballot card for WeCom chat %s was not sent: %s", chat_id, error)

    async def _bind(self, who: Who, code: str) -> str:
        # WeCom tells an AI bot nothing of who owns a group: the one-time code, which an
        # officer of the level above gives, is the proof (on Telegram: a group admin's).
        bound = await self._services.orgs.bind(who.actor, who.place, code, is_chat_admin=True)
        return self._t(
            who.locale,
            "orgs.bound",
            level=self._t(who.locale, f"levels.{bound.node.level}"),
            name=bound.node.name,
            parent=bound.parent.name if bound.parent else "",
        )

    async def _lang(self, who: Who, choice: str) -> str:
        if not choice:
            return self._t(who.locale, "general.lang_usage")
        # A group's language is its officers' to choose: WeCom names no group admins.
        locale = await self._services.people.set_language(
            who.actor, who.place, choice, is_chat_admin=False
        )
        key = "general.lang_set_group" if who.place.is_group else "general.lang_set_private"
        return self._t(locale, key)

    def refusal(self, locale: str, refusal: Refusal) -> str:
        """The refusal's explanation, as Telegram words it (the same keys), in markdown."""
        translator = self._t.translator
        params: dict[str, object] = {
            name: value[:ECHO_LIMIT] + "…"
            if isinstance(value, str) and len(value) > ECHO_LIMIT
            else value
            for name, value in refusal.params.items()
        }
        for name, section in _LABELLED_PARAMS.items():
            value = params.get(name)
            if isinstance(value, str) and translator.has(f"{section}.{value}"):
                params[name] = self._t(locale, f"{section}.{value}")
        roles = params.get("roles")
        if isinstance(roles, tuple):
            separator = self._t.plain(locale, "roles.list_separator")
            params["roles"] = separator.join(
                self._t.plain(locale, f"role_names.{role}") for role in roles
            )
        key = f"refusals.{refusal.key}"
        if not translator.has(key):
            key = refusal.key  # e.g. a usage line, kept with its feature's strings
        return self._t(locale, key, **params)

    # -- card presses ----------------------------------------------------------------------
    async def ballot_card(
        self, topic_id: int, chat_id: int, task_id: str | None = None
    ) -> dict[str, Any] | None:
        """The ballot card of ``chat_id`` as it is now, in the chat's language."""
        return await self._card_of(await self._services.topics.snapshot(topic_id), chat_id, task_id)

    async def _ballot_cards(
        self, keys: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], dict[str, Any] | None]:
        """The ballot cards of (topic, chat) pairs, their snapshots read in one transaction."""
        snaps = await self._services.topics.snapshots(sorted({topic for topic, _ in keys}))
        return {(topic, chat): await self._card_of(snaps[topic], chat) for topic, chat in keys}

    async def _card_of(
        self, snap: TopicSnapshot | None, chat_id: int, task_id: str | None = None
    ) -> dict[str, Any] | None:
        if snap is None:
            return None
        services = self._services
        post = next((post for post in snap.posts if post.chat_id == chat_id), None)
        level = None
        if snap.topic.scope == "all":
            level = await services.topics.level_of(snap.topic.node_id)
        view = ballot_view(snap, voting=post is not None and post.voting, level=level)
        locale = await services.people.chat_locale(chat_id)
        task_id = task_id or new_task_id("ballot", snap.topic.id)
        return self._views.ballot(view, Card(locale, task_id))

    async def _repeated_press(self, req_id: str, body: dict[str, Any]) -> None:
        """A press WeCom delivers again (after a reconnect: its first answer may be lost) is
        answered with the card as it is now, and not voted again: a later press of the same
        person may have changed their ballot since."""
        event = body.get("event")
        if not isinstance(event, dict) or event.get("eventtype") != "template_card_event":
            return
        try:
            await self._card_event(req_id, body, event, again=True)
        except (WeComRefused, ConnectionLost) as error:
            log.warning("WeCom did not take the answer to a repeated press: %s", error)

    async def _card_event(
        self, req_id: str, body: dict[str, Any], event: dict[str, Any], *, again: bool
    ) -> None:
        payload = event.get("template_card_event")
        if not isinstance(payload, dict):
            return
        who = await self._who(body)
        if who is None:
            return
        key = str(payload.get("event_key", ""))
        task_id = str(payload.get("task_id") or payload.get("taskid") or "")
        press = parse_key(key)
        if press is not None and not isinstance(press, VotePress):
            log.info("a press on a card this slice does not answer yet: %s", key)
            return
        if again and press is not None:
            await self._answer_press(req_id, press.topic_id, who.place.chat_id, task_id)
            return
        option = _chosen(payload)
        try:
            if press is None:  # a card Yishi cannot read
                raise Refusal("general.stale_button")
            if option is None:
                raise Refusal("wecom.pick_one")
            await self._services.topics.vote(
                who.actor,
                who.place.chat_id,
                press.topic_id,
                option,
                self.membership,
                presser_is_member=True,
            )
        except Refusal as refusal:  # the card as it is, with why, for the presser only
            said = _plain(self.refusal(who.locale, refusal))
            card = None
            if press is not None:
                card = await self.ballot_card(press.topic_id, who.place.chat_id, task_id)
            if card is None:
                stale = _plain(self.refusal(who.locale, Refusal("general.stale_button")))
                frozen = self._views.stale_vote_card(stale, who.locale, task_id or "stale")
                await self._connection.update_card(req_id, frozen, userids=[who.userid])
                return
            template = card["template_card"]
            title = template["main_title"]
            title["desc"] = cut(f"{said}\n{title.get('desc', '')}", 240)
            await self._connection.update_card(req_id, template, userids=[who.userid])
            return
        await self._answer_press(req_id, press.topic_id, who.place.chat_id, task_id)

    async def _answer_press(self, req_id: str, topic_id: int, chat_id: int, task_id: str) -> None:
        """The card as it is now for everyone (read once for the presses answered meanwhile);
        sent once more if the connection dropped under it (WeCom takes it within 5 s of the
        press: the connection is back within a second or two)."""
        for attempt in (1, 2):
            updated = await self._latest.current(topic_id, chat_id)
            if updated is None:
                return
            template = updated["template_card"]
            template = template | {"task_id": task_id or template["task_id"]}
            try:
                await self._connection.update_card(req_id, template)
                return
            except ConnectionLost:
                if attempt == 2:
                    raise


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


def _chosen(payload: dict[str, Any]) -> int | None:
    """The option ticked on a vote card: ``selected_items.selected_item[].option_ids``."""
    selected = payload.get("selected_items")
    items = selected.get("selected_item") if isinstance(selected, dict) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("question_key") != QUESTION:
            continue
        ids = item.get("option_ids")
        chosen = ids.get("option_id") if isinstance(ids, dict) else None
        if isinstance(chosen, list) and chosen:
            return parse_option(str(chosen[0]))
    return None


def _plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown.replace("**", "").replace("`", ""))
