"""Topics on WeCom: ``@议事 /topic …`` answered with the ballot card (a ``vote_interaction``
card; an opinion topic is a markdown message), the card posted in the topic's other WeCom
chats, and a press on it: the vote cast and the card, as it is now, answered for everyone
within WeCom's 5 s (read once for the presses answered meanwhile: channels/wecom/latest_cards.py);
a refused press answered with the card for the presser only, saying why; a press WeCom
delivers again answered with the card, not voted again (a later press may have changed the
ballot since).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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
    parse_option,
)
from channels.wecom.connection import ConnectionLost, LongConnection
from channels.wecom.posting import PostedOnce, Unposted
from channels.wecom.text import cut
from storage.records import POSTED_WITHOUT_ID, Platform, TopicStatus, on_telegram

if TYPE_CHECKING:
    from channels.wecom.adapter import Message, Pressed, WeComAdapter

log = logging.getLogger(__name__)


async def topic(adapter: WeComAdapter, msg: Message) -> None:
    services, who = adapter.services, msg.who
    if not msg.text:
        await adapter.answer(msg, adapter.t(who.locale, "topics.topic_usage"))
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
    here = next((post for post in published.posts if post.chat_id == who.place.chat_id), None)
    card = await ballot_card(adapter, topic_id, who.place.chat_id) if here else None
    if card is None:  # posted only below (范围=all): say where; the cards go out next
        voting = sum(1 for post in published.posts if post.voting)
        confirmation = adapter.t(who.locale, "topics.published_all", id=topic_id, count=voting)
        await adapter.answer(msg, confirmation)
        return
    await adapter.connection.respond(msg.req_id, card)
    # This chat's card is the answer; the topic's other WeCom chats get theirs once it went
    # (WeComBallots, on the TopicChanged the publishing recorded).
    await services.topics.record_message(topic_id, who.place.chat_id, POSTED_WITHOUT_ID)


async def ballot_card(
    adapter: WeComAdapter, topic_id: int, chat_id: int, task_id: str | None = None
) -> dict[str, Any] | None:
    """The ballot card of ``chat_id`` as it is now, in the chat's language."""
    snap = await adapter.services.topics.snapshot(topic_id)
    if snap is None:
        return None
    return await draw_ballot(adapter.services, adapter.views, snap, chat_id, task_id)


async def ballot_cards(
    adapter: WeComAdapter, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], dict[str, Any] | None]:
    """The ballot cards of (topic, chat) pairs as they are now, their snapshots read in one
    transaction (the presses of a burst, channels/wecom/latest_cards.py)."""
    services = adapter.services
    snaps = await services.topics.snapshots(sorted({topic for topic, _ in keys}))
    cards: dict[tuple[int, int], dict[str, Any] | None] = {}
    for topic_id, chat_id in keys:
        snap = snaps[topic_id]
        card = await draw_ballot(services, adapter.views, snap, chat_id) if snap else None
        cards[(topic_id, chat_id)] = card
    return cards


async def draw_ballot(
    services: Services,
    views: WeComViews,
    snap: TopicSnapshot,
    chat_id: int,
    task_id: str | None = None,
) -> dict[str, Any]:
    post = next((post for post in snap.posts if post.chat_id == chat_id), None)
    level = None
    if snap.topic.scope == "all":
        level = await services.topics.level_of(snap.topic.node_id)
    view = ballot_view(snap, voting=post is not None and post.voting, level=level)
    locale = await services.people.chat_locale(chat_id)
    return views.ballot(view, Card(locale, task_id or new_task_id("ballot", snap.topic.id)))


class WeComBallots(PostedOnce):
    """An open topic's ballot card in each of its WeCom chats that has none yet (published
    from another chat: a grid's topic for every building, or from Telegram)."""

    what = "topic"

    def __init__(self, services: Services, views: WeComViews, connection: LongConnection) -> None:
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
            card = await draw_ballot(services, self._views, snap, post.chat_id)
            unposted.append(Unposted(post.chat_id, address[1], card))
        return unposted

    async def _record(self, topic_id: int, chat_id: int) -> None:
        await self._services.topics.record_message(topic_id, chat_id, POSTED_WITHOUT_ID)


async def vote(adapter: WeComAdapter, pressed: Pressed, press: VotePress) -> None:
    who = pressed.who
    if pressed.again:  # counted when it first came: answered, not voted again
        await answer_with_card(adapter, pressed, press.topic_id)
        return
    option = _chosen(pressed.event)
    try:
        if option is None:
            raise Refusal("wecom.pick_one")
        # WeCom delivers a press only from a member who sees the card: nobody to ask.
        await adapter.services.topics.vote(
            who.actor,
            who.place.chat_id,
            press.topic_id,
            option,
            adapter.membership,
            presser_is_member=True,
        )
    except Refusal as refusal:  # the card as it is, with why, for the presser only
        card = await ballot_card(adapter, press.topic_id, who.place.chat_id, pressed.task_id)
        if card is None:
            await adapter.stale(pressed)
            return
        said = adapter.refusal_plain(who.locale, refusal)
        template = card["template_card"]
        title = template["main_title"]
        title["desc"] = cut(f"{said}\n{title.get('desc', '')}", 240)
        await adapter.connection.update_card(pressed.req_id, template, userids=[who.userid])
        return
    await answer_with_card(adapter, pressed, press.topic_id)


async def answer_with_card(adapter: WeComAdapter, pressed: Pressed, topic_id: int) -> None:
    """The card as it is now, for everyone (read once for the presses answered meanwhile);
    sent once more if the connection dropped under it (WeCom takes it within 5 s of the
    press: the connection is back within a second or two)."""
    for attempt in (1, 2):
        card = await adapter.latest_cards.current(topic_id, pressed.who.place.chat_id)
        if card is None:
            await adapter.stale(pressed)
            return
        template = card["template_card"]
        template = template | {"task_id": pressed.task_id or template["task_id"]}
        try:
            await adapter.connection.update_card(pressed.req_id, template)
            return
        except ConnectionLost:
            if attempt == 2:
                raise


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
