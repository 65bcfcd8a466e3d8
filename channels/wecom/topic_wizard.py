"""The guided ``/topic`` on WeCom, in the officer's one-to-one chat with the bot.

A group message reaches the bot only when it @-mentions it, so a step-by-step conversation
there would need an @ on every answer: ``@议事 /topic`` with no arguments in a group instead
notes the group (after the same officer check as publishing) and tells the officer to write
``/topic`` to the bot one-to-one. There the same steps as on Telegram
(bot/services/topics/guided.py) are asked as ``button_interaction`` cards: a choice (category
from a drop-down, options, deadline, rule, the switches, publish) is a press, answered within
WeCom's 5 s with the next step's card; a title, a description, custom options or a deadline
is the officer's next message, answered with the next step's card (or the same one saying
what is wrong). Publishing goes through TopicService.publish for the group, as the one-line
``/topic`` does: the group gets the ballot message and card (WeComBallots).

A draft lives in memory, one per officer (a new ``@议事 /topic`` replaces it), like
Telegram's wizard: a restart drops it, nothing is stored before publishing; ten minutes
without an answer end it. A press on a card of an ended or replaced draft is answered with
the card saying so, with nothing left to press.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from bot.services.actors import ChatKind, Place
from bot.services.errors import Refusal
from bot.services.organisation.permissions import is_officer
from bot.services.topics.guided import ACTIONS_AT, TEXT_STEPS, Action, Step, choose
from channels.wecom.cards import DESC_BYTES, TopicStepPress, new_task_id, selected
from channels.wecom.text import cut
from channels.wecom.topic_wizard_cards import CATEGORY, WeComDraft, draft_card, ended_card

if TYPE_CHECKING:
    from channels.wecom.adapter import Message, Pressed, WeComAdapter

TIMEOUT = timedelta(minutes=10)  # as Telegram's wizard


_DRAFTS: WeakKeyDictionary[WeComAdapter, dict[str, WeComDraft]] = WeakKeyDictionary()
_SERIALS = itertools.count(1)


def _drafts(adapter: WeComAdapter) -> dict[str, WeComDraft]:
    return _DRAFTS.setdefault(adapter, {})


def _current(adapter: WeComAdapter, userid: str) -> tuple[WeComDraft | None, bool]:
    """The officer's draft, if any and not timed out; and whether one just timed out."""
    draft = _drafts(adapter).get(userid)
    if draft is None:
        return None, False
    if adapter.services.clock.now() - draft.touched > TIMEOUT:
        del _drafts(adapter)[userid]
        return None, True
    return draft, False


# ---- starting ---------------------------------------------------------------------------


async def start(adapter: WeComAdapter, msg: Message) -> None:
    """``/topic`` with no arguments: in a group, the draft noted for it and the officer sent
    to the one-to-one chat; there, the draft's current step."""
    if msg.who.place.is_group:
        await _start_in_group(adapter, msg)
        return
    who = msg.who
    draft, timed_out = _current(adapter, who.userid)
    if draft is None:
        key = "topic_wizard.timed_out" if timed_out else "wecom.topic_wizard_where"
        await adapter.answer(msg, adapter.t(who.locale, key))
        return
    draft.touched = adapter.services.clock.now()
    await _respond_card(adapter, msg, draft)


async def _start_in_group(adapter: WeComAdapter, msg: Message) -> None:
    services, who = adapter.services, msg.who
    standing = await services.roles.standing(who.actor, who.place.chat_id)
    try:
        if standing.node is None:
            raise Refusal("orgs.chat_not_bound")
        if not is_officer(standing.rank, standing.node):
            raise Refusal("topics.publish_needs_officer")
    except Refusal as refusal:
        await adapter.answer(msg, adapter.refusal(who.locale, refusal))
        return
    node = standing.node
    user = await services.people.user(who.actor.user_id)  # the cards go to their own chat
    locale = (user.locale if user else None) or services.settings.locale
    replaced = who.userid in _drafts(adapter)
    _drafts(adapter)[who.userid] = WeComDraft(
        userid=who.userid,
        chat_id=who.place.chat_id,
        group=node.name,
        locale=locale,
        level=node.level,
        serial=next(_SERIALS),
        touched=services.clock.now(),
    )
    said: str = adapter.t(who.locale, "wecom.topic_wizard_go_single", group=node.name)
    if replaced:
        said = f"{said}\n\n{adapter.t(who.locale, 'topic_wizard.replaced')}"
    await adapter.answer(msg, said)


# ---- typed answers ----------------------------------------------------------------------


async def typed(adapter: WeComAdapter, msg: Message) -> bool:
    """A message in the one-to-one chat while a draft waits: the answer to its step (a
    button step's card is shown again). False when no draft waits."""
    who = msg.who
    if who.place.is_group:
        return False
    draft, timed_out = _current(adapter, who.userid)
    if draft is None:
        if timed_out:
            await adapter.answer(msg, adapter.t(who.locale, "topic_wizard.timed_out"))
        return timed_out
    services = adapter.services
    now = services.clock.now()
    draft.touched = now
    error = ""
    if draft.step in TEXT_STEPS:
        try:
            draft.answer(msg.text, now=now, zone=services.settings.zone)
        except Refusal as refusal:
            error = adapter.refusal_plain(draft.locale, refusal)
    else:
        error = adapter.t.plain(draft.locale, "wecom.topic_wizard_press")
    await _respond_card(adapter, msg, draft, error)
    return True


async def _respond_card(
    adapter: WeComAdapter, msg: Message, draft: WeComDraft, error: str = ""
) -> None:
    card = draft_card(adapter, draft, new_task_id("tw", draft.serial), error)
    await adapter.connection.respond(
        msg.req_id, {"msgtype": "template_card", "template_card": card}
    )


# ---- presses ----------------------------------------------------------------------------


async def press(adapter: WeComAdapter, pressed: Pressed, press: TopicStepPress) -> None:
    who, services = pressed.who, adapter.services
    task_id = pressed.task_id or new_task_id("tw", press.serial)
    draft, timed_out = _current(adapter, who.userid)
    if draft is not None and draft.serial == press.serial and pressed.again:
        # Delivered again: it moved the draft when it first came; the card as it is now.
        await adapter.connection.update_card(pressed.req_id, draft_card(adapter, draft, task_id))
        return
    if draft is None or draft.serial != press.serial:
        key = "topic_wizard.timed_out" if timed_out else "wecom.topic_wizard_ended"
        await adapter.connection.update_card(
            pressed.req_id, ended_card(adapter, who.locale, key, task_id)
        )
        return
    now = services.clock.now()
    draft.touched = now
    error = ""
    try:
        if press.action not in ACTIONS_AT[draft.step]:
            raise Refusal("general.stale_button")
        if press.action is Action.CANCEL:
            del _drafts(adapter)[who.userid]
            card = ended_card(adapter, draft.locale, "topic_wizard.cancelled", task_id)
            await adapter.connection.update_card(pressed.req_id, card)
            return
        if press.action is Action.PUBLISH:
            await _publish(adapter, pressed, draft, task_id)
            return
        arg = press.arg
        if press.action is Action.CATEGORY:
            arg = _chosen_category(pressed.event)
        if not choose(draft, services.catalogue, press.action, arg):
            raise Refusal("general.stale_button")
    except Refusal as refusal:
        error = adapter.refusal_plain(draft.locale, refusal)
    await adapter.connection.update_card(pressed.req_id, draft_card(adapter, draft, task_id, error))


def _chosen_category(event: dict[str, Any]) -> int:
    value = selected(event, CATEGORY) or ""
    return int(value[1:]) if value[:1] == "k" and value[1:].isdigit() else -1


async def _publish(
    adapter: WeComAdapter, pressed: Pressed, draft: WeComDraft, task_id: str
) -> None:
    """Publish in the group the draft is for, as the one-line /topic: the deadline checked
    again (time passed on the preview), the officer's rank there checked by the service."""
    services, who = adapter.services, pressed.who
    try:
        deadline = draft.deadline(now=services.clock.now(), zone=services.settings.zone)
    except Refusal as refusal:
        draft.step = Step.DEADLINE
        error = adapter.refusal_plain(draft.locale, refusal)
        await adapter.connection.update_card(
            pressed.req_id, draft_card(adapter, draft, task_id, error)
        )
        return
    place = Place(draft.chat_id, ChatKind.GROUP)
    try:
        published = await services.topics.publish(
            who.actor, place, draft.draft(deadline), adapter.membership
        )
    except Refusal as refusal:  # no longer an officer there, the group unbound, ...
        error = adapter.refusal_plain(draft.locale, refusal)
        await adapter.connection.update_card(
            pressed.req_id, draft_card(adapter, draft, task_id, error)
        )
        return
    _drafts(adapter).pop(who.userid, None)
    topic = published.topic
    said = adapter.t.plain(draft.locale, "topic_wizard.published", id=topic.id, title=topic.title)
    card = ended_card(adapter, draft.locale, "", task_id, title=said)
    card["main_title"]["desc"] = cut(
        adapter.t.plain(draft.locale, "wecom.topic_wizard_for", group=draft.group), DESC_BYTES
    )
    await adapter.connection.update_card(pressed.req_id, card)
