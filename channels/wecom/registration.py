"""Registration on WeCom: ``@议事 /register 2-502 89.5`` in a building group, and the officers'
approve/reject presses.

A registration that needs approval is answered, in the building group where the officers are
(as on Telegram), with the building's pending-registrations card: the first three pending units
with approve and reject buttons each (WeCom allows six buttons), the rest counted, the latest
decisions below. WeCom lets the bot change a card only in the answer to a press on it, so
there is no single card kept current as on Telegram: each request is answered with the card as
it is then, and a press on any of them decides by the registration it names and is answered,
within WeCom's 5 s, with the card as it is now, for everyone in the group — which is how the
resident hears the decision. One who has written to the bot in a single chat is also told
there. A refused press (not an officer, already decided) is answered for the presser only,
saying why.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.commands.registration import area_said
from bot.commands.registration import register as shared_register
from bot.services.announcement_texts import Said
from bot.services.errors import Refusal
from bot.services.registration.service import Decision
from bot.services.registration.views import registration_card_view
from channels.wecom.cards import Card, RegistrationPress, new_task_id
from channels.wecom.connection import ConnectionLost, WeComRefused
from channels.wecom.text import cut, message
from storage.records import Platform, User

if TYPE_CHECKING:
    from channels.wecom.adapter import Message, Pressed, WeComAdapter

log = logging.getLogger(__name__)

WITH_BUTTONS = 3  # pending units shown with their two buttons: WeCom allows six


async def register(adapter: WeComAdapter, msg: Message) -> None:
    who = msg.who
    try:
        answer = await shared_register(adapter.asked(msg))
    except Refusal as refusal:
        await adapter.answer(msg, adapter.refusal(who.locale, refusal))
        return
    if answer is not None:  # registered at once: said as on every channel
        await adapter.answer(msg, adapter.writer.text(answer.locale or who.locale, answer.told))
        return
    node = await adapter.services.orgs.node_of_chat(who.place.chat_id)
    card = await pending_card(adapter, node.id if node else 0, new_task_id("reg", 0))
    if card is None:
        await adapter.answer(msg, adapter.t(who.locale, "wecom.done"))
        return
    await adapter.connection.respond(msg.req_id, card)


async def pending_card(
    adapter: WeComAdapter, node_id: int, task_id: str, *, kept: bool = False
) -> dict[str, Any] | None:
    """The building's pending-registrations card as it is now, in its group's language."""
    services = adapter.services
    pending = await services.registration.pending_card(node_id)
    if pending is None:
        return None
    locale = await services.people.chat_locale(pending.chat_id)
    view = registration_card_view(pending, first=WITH_BUTTONS)
    return adapter.views.registration_card(view, Card(locale, task_id), kept=kept)


async def decide(adapter: WeComAdapter, pressed: Pressed, press: RegistrationPress) -> None:
    who, services = pressed.who, adapter.services
    node = await services.orgs.node_of_chat(who.place.chat_id)
    try:
        decision = await services.registration.decide(
            who.actor, who.place.chat_id, press.registration_id, approve=press.approve
        )
    except Refusal as refusal:  # the card as it is, with why, for the presser only
        card = await pending_card(adapter, node.id if node else 0, pressed.task_id, kept=True)
        if card is None:
            await adapter.stale(pressed)
            return
        template = card["template_card"]
        title = template["main_title"]
        title["desc"] = cut(adapter.refusal_plain(who.locale, refusal), 240)
        await adapter.connection.update_card(pressed.req_id, template, userids=[who.userid])
        return
    card = await pending_card(adapter, decision.node.id, pressed.task_id, kept=True)
    assert card is not None  # the decision was taken in the building's bound group
    await adapter.connection.update_card(pressed.req_id, card["template_card"])
    resident = decision.resident
    if resident is not None and resident.started and resident.platform is Platform.WECOM:
        await _tell_privately(adapter, resident, decision)


async def _tell_privately(adapter: WeComAdapter, resident: User, decision: Decision) -> None:
    """The decision in the resident's single chat with the bot (they wrote to it there)."""
    registration = decision.registration
    locale = resident.locale or adapter.services.settings.locale
    told = Said(
        f"registration.decided_private_{registration.status}",
        {
            "building": decision.node.name,
            "unit": registration.unit,
            "area": area_said(registration.area),
        },
    )
    try:
        await adapter.connection.send(resident.address, message(adapter.writer.said(locale, told)))
    except (WeComRefused, ConnectionLost) as error:
        log.warning("the decision was not sent to WeCom user %s: %s", resident.address, error)
