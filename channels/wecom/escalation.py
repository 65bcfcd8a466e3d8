"""Escalations on WeCom: the card posted in a WeCom chat when a matter arrives there, the
presses on it, and the presses on a rating request.

The card (a ``button_interaction`` card, drawn by channels/wecom/cards.py) is sent once, when
the hop is made (``aibot_send_msg``: the chat has written to the bot, it was bound by a
command) and recorded as posted (channels/wecom/posting.py), so a restart sends only the
cards never sent. WeCom lets a card change only in the answer to a press on it, within 5 s,
so:

- 受理 / 发起网格表决 (a vote here or over the buildings too) / 返回 act through the same
  services as Telegram's buttons and answer with the card as it is now: for everyone when the
  matter changed (taken on), for the presser alone while they choose where to vote.
- 解决 / 上报社区 need words (the decision, the reason). Telegram asks for them with a reply
  the officer writes to its prompt; WeCom has no such prompt, so the card answers the presser
  with the command that gives them (``@议事 /resolve 12 <决定>``), prefilled with the number.
- A matter changed elsewhere (``/resolve``, sent up when its time ran out) is told in the chat
  by its announcement; the card shows it at its next press, which is answered with the card as
  it is now (one inert button once nothing is left to do: a button card must have one).
- A refused press: the card as it is, with why, for the presser only.

A rating (满意 / 基本满意 / 不满意) is private, as Telegram's toast is: the presser's card says
what they chose; the others' cards stay as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.commands.escalation import open_vote
from bot.services import Services
from bot.services.errors import Refusal
from bot.services.escalation.views import CardMove, escalation_card_view, rating_actions
from channels.wecom.cards import (
    Card,
    EscalationPress,
    RatingPress,
    WeComViews,
    new_task_id,
)
from channels.wecom.posting import PostedOnce, Unposted
from channels.wecom.replies import WeComReplies
from channels.wecom.text import cut
from storage.records import POSTED_WITHOUT_ID, Platform, Scope, on_telegram

if TYPE_CHECKING:
    from channels.wecom.adapter import Pressed, WeComAdapter


_SCOPES = {CardMove.VOTE_HERE: Scope.HERE, CardMove.VOTE_ALL: Scope.ALL}
_ASKS = {CardMove.RESOLVE: "wecom.ask_decision", CardMove.SEND_UP: "wecom.ask_reason"}


class WeComEscalationCards(PostedOnce):
    """Each escalation card sent once to its WeCom chat, when the hop is made (or at the next
    start, if it could not be sent then)."""

    what = "escalation"

    def __init__(self, services: Services, views: WeComViews, connection: WeComReplies) -> None:
        super().__init__(connection)
        self._services = services
        self._views = views

    async def _unposted(self, escalation_id: int) -> list[Unposted]:
        services = self._services
        view = await services.escalation.card(escalation_id)
        if view is None:
            return []
        hop = view.hop.escalation
        chat_id = hop.card_chat_id
        if chat_id is None or on_telegram(chat_id) or hop.card_message_id is not None:
            return []
        if not hop.is_active:
            return []
        async with services.database.transaction() as repos:
            address = await repos.chats.address_of(chat_id)
        if address is None or address[0] is not Platform.WECOM:
            return []
        locale = await services.people.chat_locale(chat_id)
        task_id = new_task_id("esc", escalation_id)
        card = await escalation_card(services, self._views, escalation_id, locale, task_id)
        return [] if card is None else [Unposted(chat_id, address[1], (card,))]

    async def _record(self, escalation_id: int, chat_id: int) -> None:
        await self._services.escalation.record_card(
            escalation_id, chat_id, POSTED_WITHOUT_ID, "wecom"
        )


async def escalation_card(
    services: Services,
    views: WeComViews,
    escalation_id: int,
    locale: str,
    task_id: str,
    *,
    choosing_scope: bool = False,
) -> dict[str, Any] | None:
    """The card of a hop as it is now (a message body); None if there is no such hop."""
    view = await services.escalation.card(escalation_id)
    if view is None:
        return None
    snap = await services.topics.snapshot(view.topic.id)
    officer = None
    accepted_by = view.hop.escalation.accepted_by
    if accepted_by is not None:
        user = await services.people.user(accepted_by)
        officer = user.display_name if user else str(accepted_by)
    card = escalation_card_view(
        view, snap, officer=officer, now=services.clock.now(), choosing_scope=choosing_scope
    )
    return views.escalation_card(card, Card(locale, task_id), inert_key=f"esc:{escalation_id}:back")


async def press(adapter: WeComAdapter, pressed: Pressed, press: EscalationPress) -> None:
    who, services = pressed.who, adapter.services
    locale, task_id = who.locale, pressed.task_id or new_task_id("esc", press.escalation_id)
    everyone = False
    choosing = False
    note = ""
    try:
        if press.move is CardMove.ACCEPT:
            await services.escalation.accept(who.actor, who.place, press.escalation_id)
            everyone = True
        elif press.move in _SCOPES:
            topic_id, published = await open_vote(
                services,
                who.actor,
                who.place,
                press.escalation_id,
                _SCOPES[press.move],
                locale=locale,
                membership=adapter.membership,
            )
            # Its ballot cards go to its WeCom chats once this press is answered (WeComBallots).
            note = adapter.t.plain(
                locale, "escalation.vote_opened", id=topic_id, new_id=published.topic.id
            )
            everyone = True
        else:
            hop = await services.escalation.check_card(who.actor, who.place, press.escalation_id)
            choosing = press.move is CardMove.VOTE
            if press.move in _ASKS:
                note = await _ask(adapter, locale, press.move, hop.id, hop.topic_id)
    except Refusal as refusal:
        note = adapter.refusal_plain(locale, refusal)
        everyone = False
        choosing = False
    body = await escalation_card(
        services, adapter.views, press.escalation_id, locale, task_id, choosing_scope=choosing
    )
    if body is None or body.get("msgtype") != "template_card":
        await adapter.stale(pressed)
        return
    card = body["template_card"]
    if note:
        title = card["main_title"]
        title["desc"] = cut(f"{note}\n{title.get('desc', '')}", 240)
    await adapter.connection.update_card(
        pressed.req_id, card, userids=None if everyone else [who.userid]
    )


async def _ask(
    adapter: WeComAdapter, locale: str, move: CardMove, escalation_id: int, topic_id: int
) -> str:
    """How to give the words a press cannot carry: the command, with the matter's number."""
    view = await adapter.services.escalation.card(escalation_id)
    above = view.parent.level if view is not None and view.parent is not None else "community"
    level = adapter.t.plain(locale, f"levels.{above}")
    return adapter.t.plain(locale, _ASKS[move], id=topic_id, level=level)


async def rate(adapter: WeComAdapter, pressed: Pressed, press: RatingPress) -> None:
    """A resident's rating, answered on their card only (as Telegram's toast)."""
    who = pressed.who
    try:
        changed = await adapter.services.escalation.rate(
            who.actor, who.place.chat_id, press.topic_id, press.rating
        )
        label = adapter.t.plain(who.locale, f"escalation.rate_{press.rating}")
        key = "escalation.rated" if changed else "escalation.rated_same"
        note = adapter.t.plain(who.locale, key, rating=label)
    except Refusal as refusal:
        note = adapter.refusal_plain(who.locale, refusal)
    body = adapter.views.rating_card(
        rating_actions(press.topic_id), who.locale, pressed.task_id or None
    )
    card = body["template_card"]
    card["main_title"]["desc"] = cut(note, 240)
    await adapter.connection.update_card(pressed.req_id, card, userids=[who.userid])
