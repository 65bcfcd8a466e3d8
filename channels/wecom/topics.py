"""Topics on WeCom: ``@议事 /topic …`` answered with the ballot: a markdown message of what
Telegram's ballot message says (the description, how it is decided, how to vote and give an
opinion here) and the ``vote_interaction`` card (an opinion topic has the message only), both
posted in the topic's other WeCom chats too (``scope=all``); a press on the card: the vote cast
and the card, as it is now, answered for everyone within WeCom's 5 s; a refused press answered
with the card for the presser only, saying why.

Opinions: a message that quotes the ballot card (or the ballot message) and @-mentions the bot
is a public opinion on that topic. Private ones are ``/opinion 12 …`` (bot/commands) written
to the bot in the one-to-one chat, or, as Telegram's private link does, ``/opinion 12`` there
and then the opinion as the next message: the officers read them with ``/result 12``.

A press on the card is answered with the card read once for the presses answered meanwhile
(channels/wecom/latest_cards.py); a press WeCom delivers again is answered with the card, not
voted again (a later press may have changed the ballot since).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from bot.commands import COMMANDS
from bot.services import Services
from bot.services.actors import Actor
from bot.services.announcement_texts import Line, Said, ballot_facts
from bot.services.errors import Refusal
from bot.services.topics.ballots import Newcomer, VoteReceipt
from bot.services.topics.eligibility import parse_topic_id
from bot.services.topics.service import Tally, TopicSnapshot
from bot.services.topics.syntax import parse_topic
from bot.services.topics.views import BallotView, OpinionAction, VoteAction, ballot_view
from channels.common.told import Writer
from channels.wecom import topic_wizard
from channels.wecom.cards import (
    QUESTION,
    Card,
    VoteCard,
    VotePress,
    WeComViews,
    new_task_id,
    parse_key,
    parse_option,
    selected,
)
from channels.wecom.connection import ConnectionLost
from channels.wecom.posting import PostedOnce, Unposted
from channels.wecom.replies import WeComReplies
from channels.wecom.text import cut, escape, message
from storage.records import POSTED_WITHOUT_ID, Platform, TopicStatus, on_telegram

if TYPE_CHECKING:
    from channels.wecom.adapter import Message, Pressed, WeComAdapter

log = logging.getLogger(__name__)


async def topic(adapter: WeComAdapter, msg: Message) -> None:
    services, who = adapter.services, msg.who
    if not msg.text:  # the guided /topic, in the one-to-one chat
        await topic_wizard.start(adapter, msg)
        return
    try:
        draft = parse_topic(
            msg.text,
            now=services.clock.now(),
            zone=services.settings.zone,
            catalogue=services.catalogue,
            locale=who.locale,
        )
        published = await services.topics.publish(who.actor, who.place, draft, adapter.membership)
    except Refusal as refusal:
        await adapter.answer(msg, adapter.refusal(who.locale, refusal))
        return
    topic_id = published.topic.id
    if any(post.chat_id == who.place.chat_id for post in published.posts):
        snap = await services.topics.snapshot(topic_id)
        assert snap is not None
        for body in await ballot_bodies(services, adapter.views, snap, who.place.chat_id):
            await adapter.connection.respond(msg.req_id, body)
        # This chat's ballot is the answer; the topic's other WeCom chats get theirs once it
        # went (WeComBallots, on the TopicChanged the publishing recorded).
        await services.topics.record_message(topic_id, who.place.chat_id, POSTED_WITHOUT_ID)
    if draft.scope.value == "all":  # say where it went
        voting = sum(1 for post in published.posts if post.voting)
        confirmation = adapter.t(who.locale, "topics.published_all", id=topic_id, count=voting)
        await adapter.answer(msg, confirmation)


async def ballot_bodies(
    services: Services, views: WeComViews, snap: TopicSnapshot, chat_id: int
) -> list[dict[str, Any]]:
    """What a chat is sent when a topic is published: the ballot message, then the card to
    vote on (none where nothing is voted: an opinion topic, the publishing chat of a topic
    for every building below)."""
    view, locale = await _view(services, snap, chat_id)
    text = views.text
    lines = ballot_lines(services, view, locale)
    written = Writer(text, escape, text.zone).lines(locale, lines)
    # the topic's web page (a vote card takes no jump: WeCom's vote_interaction has no
    # card_action, doc 101032), as the message's last line
    page = views.page_line(locale, views.links.topic(view.topic_id))
    details = message(f"{written}\n{page}" if page else written)
    if not any(isinstance(action, VoteAction) for action in view.actions):
        return [details]
    return [details, views.ballot(view, Card(locale, new_task_id("ballot", snap.topic.id)))]


def ballot_lines(services: Services, view: BallotView, locale: str) -> tuple[Line, ...]:
    """The ballot message: what Telegram's says, and how it is done on WeCom."""
    lines: list[Line] = [Said("topics.header", {"id": view.topic_id, "title": view.title})]
    if view.description:
        lines.append(view.description)
    lines.extend(ballot_facts(view, services.catalogue, locale))
    if any(isinstance(action, VoteAction) for action in view.actions):
        how = "wecom.how_to_vote"
    elif any(isinstance(action, OpinionAction) for action in view.actions):
        how = "wecom.how_to_opine"
    else:
        how = "wecom.how_to_opine_privately"
    lines.append(Said(how, {"id": view.topic_id}))
    return tuple(lines)


async def ballot_card(
    adapter: WeComAdapter, topic_id: int, chat_id: int, task_id: str | None = None
) -> dict[str, Any] | None:
    """The ballot card of ``chat_id`` as it is now, in the chat's language."""
    snap = await adapter.services.topics.snapshot(topic_id)
    if snap is None:
        return None
    view, locale = await _view(adapter.services, snap, chat_id)
    return adapter.views.ballot(view, Card(locale, task_id or new_task_id("ballot", topic_id)))


async def ballot_cards(
    adapter: WeComAdapter, keys: Sequence[tuple[int, int]]
) -> tuple[int, dict[tuple[int, int], VoteCard | None]]:
    """The vote cards of (topic, chat) pairs as they are now, their tallies read in one
    group-committed transaction (channels/wecom/latest_cards.py), and those tallies' number."""
    services = adapter.services
    order, snaps = await services.topics.tallies(sorted({topic for topic, _ in keys}))
    cards: dict[tuple[int, int], VoteCard | None] = {}
    for topic_id, chat_id in keys:
        snap = snaps[topic_id]
        card = await draw_ballot(services, adapter.views, snap, chat_id) if snap else None
        cards[(topic_id, chat_id)] = card
    return order, cards


async def draw_ballot(
    services: Services, views: WeComViews, snap: TopicSnapshot, chat_id: int
) -> VoteCard | None:
    """The vote card of ``chat_id`` from the tally ``snap`` (None: an opinion topic, which
    has none); only its counts are drawn unless the topic changed (WeComViews.vote_card)."""
    voting, level, locale = await _seen_from(services, snap, chat_id)
    return views.vote_card(snap, voting=voting, level=level, locale=locale)


async def _view(services: Services, snap: TopicSnapshot, chat_id: int) -> tuple[BallotView, str]:
    """The ballot of ``chat_id`` as it is now, and the chat's language."""
    voting, level, locale = await _seen_from(services, snap, chat_id)
    return ballot_view(snap, voting=voting, level=level), locale


async def _seen_from(
    services: Services, snap: TopicSnapshot, chat_id: int
) -> tuple[bool, str | None, str]:
    """What a topic's ballot shows in ``chat_id`` depends on besides the topic: whether its
    people vote there, the topic's level (posted to every chat below a node), the chat's
    language."""
    post = next((post for post in snap.posts if post.chat_id == chat_id), None)
    level = None
    if snap.topic.scope == "all":
        level = await services.topics.level_of(snap.topic.node_id)
    voting = post is not None and post.voting
    return voting, level, await services.people.chat_locale(chat_id)


class WeComBallots(PostedOnce):
    """An open topic's ballot (message and card) in each of its WeCom chats that has none yet
    (published
    from another chat: a grid's topic for every building, or from Telegram)."""

    what = "topic"

    def __init__(self, services: Services, views: WeComViews, connection: WeComReplies) -> None:
        super().__init__(connection)
        self._services = services
        self._views = views

    async def _unposted(self, topic_id: int) -> list[Unposted]:
        services = self._services
        snap = await services.topics.snapshot(topic_id)
        if snap is None or snap.topic.status != TopicStatus.OPEN:
            return []
        unposted: list[Unposted] = []
        for post in snap.posts:
            if post.message_id is not None or on_telegram(post.chat_id):
                continue
            async with services.database.transaction() as repos:
                address = await repos.chats.address_of(post.chat_id)
            if address is None or address[0] is not Platform.WECOM:
                continue
            bodies = await ballot_bodies(services, self._views, snap, post.chat_id)
            unposted.append(Unposted(post.chat_id, address[1], tuple(bodies)))
        return unposted

    async def _record(self, topic_id: int, chat_id: int) -> None:
        await self._services.topics.record_message(topic_id, chat_id, POSTED_WITHOUT_ID)


async def vote(adapter: WeComAdapter, pressed: Pressed, press: VotePress) -> None:
    if pressed.again:  # counted when it first came: answered, not voted again
        await answer_with_card(adapter, pressed, press.topic_id)
        return
    who = pressed.who
    cast = await cast_vote(adapter, who.actor, who.place.chat_id, pressed.event, press)
    await answer_vote(adapter, pressed, press, cast)


async def cast_vote(
    adapter: WeComAdapter,
    voter: Actor | Newcomer,
    chat_id: int,
    event: dict[str, Any],
    press: VotePress,
) -> VoteReceipt | Refusal:
    """The press's ballot cast (durable), or why not. A ``Newcomer`` is recorded with it."""
    option = _chosen(event)
    if option is None:
        return Refusal("wecom.pick_one")
    try:
        # WeCom delivers a press only from a member who sees the card: nobody to ask.
        return await adapter.services.topics.vote(
            voter,
            chat_id,
            press.topic_id,
            option,
            adapter.membership,
            presser_is_member=True,
            tally=True,
        )
    except Refusal as refusal:
        return refusal


async def answer_vote(
    adapter: WeComAdapter, pressed: Pressed, press: VotePress, cast: VoteReceipt | Refusal
) -> None:
    """The press answered: the card with its ballot, for everyone; or, refused, the card as
    it is, with why, for the presser only."""
    if isinstance(cast, VoteReceipt):
        await answer_with_card(adapter, pressed, press.topic_id, cast.tally)
        return
    who = pressed.who
    card = await ballot_card(adapter, press.topic_id, who.place.chat_id, pressed.task_id)
    if card is None:
        await adapter.stale(pressed)
        return
    said = adapter.refusal_plain(who.locale, cast)
    template = card["template_card"]
    title = template["main_title"]
    title["desc"] = cut(f"{said}\n{title.get('desc', '')}", 240)
    await adapter.connection.update_card(pressed.req_id, template, userids=[who.userid])


async def answer_with_card(
    adapter: WeComAdapter, pressed: Pressed, topic_id: int, tally: Tally | None = None
) -> None:
    """The card as it is now, for everyone: drawn once from the tally read with the press's
    ballot (``tally``), or read once for the presses answered meanwhile; sent once more if
    the connection dropped under it (WeCom takes it within 5 s of the press: the connection
    is back within a second or two)."""
    chat_id = pressed.who.place.chat_id
    for attempt in (1, 2):
        if tally is not None and attempt == 1:
            draw = partial(draw_ballot, adapter.services, adapter.views, tally.snapshot, chat_id)
            card = await adapter.latest_cards.as_of(topic_id, chat_id, tally.order, draw)
        else:
            card = await adapter.latest_cards.current(topic_id, chat_id)
        if card is None:
            await adapter.stale(pressed)
            return
        encoded = card.encoded(pressed.task_id)
        try:
            await adapter.connection.update_card(pressed.req_id, encoded)
            return
        except ConnectionLost:
            if attempt == 2:
                raise


def _chosen(payload: dict[str, Any]) -> int | None:
    """The option ticked on a vote card."""
    chosen = selected(payload, QUESTION)
    return parse_option(chosen) if chosen is not None else None


# Opinions ---------------------------------------------------------------------------------

_TOPIC_NUMBER = re.compile(r"#(\d{1,9})\b")


async def quoted_opinion(adapter: WeComAdapter, msg: Message) -> bool:
    """A message quoting a ballot (its card or its message): an opinion on that topic, public
    in a group, private in the one-to-one chat. False if it quotes no ballot."""
    topic_id = quoted_topic(msg.body.get("quote"))
    if topic_id is None:
        return False
    await _record_opinion(adapter, msg, topic_id)
    return True


async def _record_opinion(adapter: WeComAdapter, msg: Message, topic_id: int) -> None:
    """The message's words as an opinion on ``topic_id`` (public in a group), answered."""
    who = msg.who
    try:
        recorded = await adapter.services.opinions.record(
            who.actor, who.place, topic_id, msg.text, adapter.membership
        )
    except Refusal as refusal:
        await adapter.answer(msg, adapter.refusal(who.locale, refusal))
        return
    key = "opinions.recorded_public" if recorded.public else "opinions.recorded_private"
    await adapter.answer(msg, adapter.t(who.locale, key, id=recorded.topic.id))


def quoted_topic(quote: object) -> int | None:
    """The topic a quoted message is the ballot of: a vote card (its submit key), or the
    ballot message (its first line's ``#12``)."""
    if not isinstance(quote, dict):
        return None
    card = quote.get("template_card")
    if isinstance(card, dict):
        submit = card.get("submit_button")
        key = submit.get("key") if isinstance(submit, dict) else None
        press = parse_key(str(key)) if key else None
        return press.topic_id if isinstance(press, VotePress) else None
    for kind in ("text", "markdown"):
        part = quote.get(kind)
        content = part.get("content") if isinstance(part, dict) else None
        if isinstance(content, str):
            found = _TOPIC_NUMBER.search(content.split("\n", 1)[0])
            return int(found.group(1)) if found else None
    return None


# The topic a person was asked for a private opinion on, by their userid, per adapter.
_ASKED: WeakKeyDictionary[WeComAdapter, dict[str, int]] = WeakKeyDictionary()


async def opinion(adapter: WeComAdapter, msg: Message) -> None:
    """``/opinion 12`` alone in the one-to-one chat asks for the opinion (the next message);
    otherwise the shared ``/opinion``."""
    who = msg.who
    words = msg.text.split()
    try:
        if who.place.is_group or len(words) != 1:
            await adapter.answer(msg, await adapter.run(COMMANDS["opinion"], msg))
            return
        topic = await adapter.services.opinions.topic_for_private_opinion(parse_topic_id(words[0]))
    except Refusal as refusal:
        await adapter.answer(msg, adapter.refusal(who.locale, refusal))
        return
    _ASKED.setdefault(adapter, {})[who.userid] = topic.id
    await adapter.answer(
        msg, adapter.t(who.locale, "opinions.ask_private", id=topic.id, title=topic.title)
    )


async def asked_opinion(adapter: WeComAdapter, msg: Message) -> bool:
    """The message after ``/opinion 12`` in the one-to-one chat: the private opinion."""
    who = msg.who
    if who.place.is_group:
        return False
    topic_id = _ASKED.get(adapter, {}).pop(who.userid, None)
    if topic_id is None:
        return False
    await _record_opinion(adapter, msg, topic_id)
    return True
