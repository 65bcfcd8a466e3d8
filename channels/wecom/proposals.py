"""Proposals on WeCom: ``@议事 /propose …`` answered with a ``button_interaction`` card that
officers decide on, as on Telegram's proposal message: 受理 shows the topic categories (a
drop-down: WeCom's cards have six buttons at most, the reasons to decline are six) with a
button to confirm and one to go back, 不予受理 the reasons likewise. Each step replaces the card
for everyone within WeCom's 5 s; the accepted proposal's ballot is then posted in the group as
a new message (channels/wecom/topics.py WeComBallots). A refused press (not an officer,
decided already) is answered with the card as it is, for the presser only, saying why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.catalogue import CatalogueEntry
from bot.services.errors import Refusal
from channels.wecom.cards import (
    DESC_BYTES,
    MAX_BUTTONS,
    SUBTITLE_BYTES,
    TITLE_BYTES,
    ProposalPress,
    new_task_id,
    selected,
)
from channels.wecom.text import cut
from storage.records import Proposal, ProposalStatus

if TYPE_CHECKING:
    from channels.wecom.adapter import Message, Pressed, WeComAdapter

CHOICE = "choice"


async def propose(adapter: WeComAdapter, msg: Message) -> None:
    who = msg.who
    try:
        proposal = await adapter.services.proposals.propose(who.actor, who.place, msg.text)
    except Refusal as refusal:
        await adapter.answer(msg, adapter.refusal(who.locale, refusal))
        return
    card = await _drawn(adapter, proposal, who.locale, new_task_id("prop", proposal.id))
    await adapter.connection.respond(
        msg.req_id, {"msgtype": "template_card", "template_card": card}
    )


async def step(adapter: WeComAdapter, pressed: Pressed, press: ProposalPress) -> None:
    services, who = adapter.services, pressed.who
    catalogue, locale = services.catalogue, who.locale
    task_id = pressed.task_id or new_task_id("prop", press.proposal_id)
    try:
        if press.step == "x":
            raise Refusal("proposals.already_decided")
        proposal = await services.proposals.check_decidable(
            who.actor, who.place.chat_id, press.proposal_id
        )
        if press.step == "a":
            card = await _choosing(
                adapter, proposal, locale, task_id, catalogue.discussable(), accept=True
            )
        elif press.step == "d":
            card = await _choosing(
                adapter, proposal, locale, task_id, catalogue.not_discussable(), accept=False
            )
        elif press.step == "b":
            card = await _drawn(adapter, proposal, locale, task_id)
        elif press.step == "c":
            category = _chosen(pressed.event, catalogue.discussable())
            await services.proposals.accept(
                who.actor, who.place, proposal.id, category.key, adapter.membership, locale=locale
            )
            decided = await services.proposals.get(proposal.id)
            assert decided is not None
            # The ballot follows as a new message once this press is answered (WeComBallots,
            # on the TopicChanged the publishing recorded): a press's answer cannot post.
            card = await _drawn(adapter, decided, locale, task_id, officer=who.userid)
        else:  # "r"
            reason = _chosen(pressed.event, catalogue.not_discussable())
            declined = await services.proposals.decline(
                who.actor, who.place.chat_id, proposal.id, reason.key
            )
            card = await _drawn(adapter, declined.proposal, locale, task_id, officer=who.userid)
    except Refusal as refusal:  # the card as it is now, with why, for the presser only
        current = await services.proposals.get(press.proposal_id)
        if current is None or current.chat_id != who.place.chat_id:
            await adapter.stale(pressed)
            return
        said = adapter.refusal_plain(locale, refusal)
        card = await _drawn(adapter, current, locale, task_id, desc=said)
        await adapter.connection.update_card(pressed.req_id, card, userids=[who.userid])
        return
    await adapter.connection.update_card(pressed.req_id, card)


def _chosen(event: dict[str, Any], entries: list[CatalogueEntry]) -> CatalogueEntry:
    """The entry picked in the card's drop-down (``selected_items``), or why not."""
    value = selected(event, CHOICE) or ""
    index = int(value[1:]) if value[:1] == "k" and value[1:].isdigit() else -1
    if 0 <= index < len(entries):
        return entries[index]
    raise Refusal("general.stale_button")


async def _name(adapter: WeComAdapter, user_id: int) -> str:
    user = await adapter.services.people.user(user_id)
    return user.first_name if user is not None else str(user_id)


async def _drawn(
    adapter: WeComAdapter,
    proposal: Proposal,
    locale: str,
    task_id: str,
    *,
    officer: str = "",
    desc: str = "",
) -> dict[str, Any]:
    """The card of ``proposal`` as it stands: open (受理, 不予受理), accepted or declined."""
    t = adapter.t
    user = await _name(adapter, proposal.user_id)
    if proposal.status is ProposalStatus.ACCEPTED:
        decider = officer or await _name(adapter, proposal.decided_by or 0)
        body = t.plain(
            locale, "proposals.accepted_card", user=user, officer=decider, id=proposal.topic_id
        )
        button = t.plain(locale, "wecom.proposal_accepted_button", id=proposal.topic_id)
        return _card(adapter, locale, task_id, desc, body, [(button, proposal.id, "x")])
    if proposal.status is ProposalStatus.DECLINED:
        entry = adapter.services.catalogue.find(proposal.reason or "")
        decider = officer or await _name(adapter, proposal.decided_by or 0)
        body = t.plain(
            locale,
            "proposals.declined_card",
            user=user,
            text=proposal.text,
            officer=decider,
            name=entry.name(locale) if entry else "",
            reason=entry.reason(locale) if entry else "",
        )
        button = t.plain(locale, "wecom.proposal_declined_button")
        return _card(adapter, locale, task_id, desc, body, [(button, proposal.id, "x")])
    body = t.plain(locale, "proposals.card", user=user, text=proposal.text)
    buttons = [
        (t.plain(locale, "proposals.accept_button"), proposal.id, "a"),
        (t.plain(locale, "proposals.decline_button"), proposal.id, "d"),
    ]
    return _card(adapter, locale, task_id, desc, body, buttons)


async def _choosing(
    adapter: WeComAdapter,
    proposal: Proposal,
    locale: str,
    task_id: str,
    entries: list[CatalogueEntry],
    *,
    accept: bool,
) -> dict[str, Any]:
    """The card while an officer picks the category (``accept``) or the reason to decline."""
    t = adapter.t
    user = await _name(adapter, proposal.user_id)
    key = "proposals.pick_category" if accept else "proposals.pick_reason"
    body = t.plain(locale, key, user=user, text=proposal.text)
    confirm = "proposals.accept_button" if accept else "proposals.decline_button"
    buttons = [
        (t.plain(locale, confirm), proposal.id, "c" if accept else "r"),
        (t.plain(locale, "proposals.back_button"), proposal.id, "b"),
    ]
    card = _card(adapter, locale, task_id, "", body, buttons)
    title = "wecom.pick_category" if accept else "wecom.pick_reason"
    card["button_selection"] = {
        "question_key": CHOICE,
        "title": cut(t.plain(locale, title), TITLE_BYTES),
        "option_list": [
            {"id": f"k{index}", "text": cut(entry.name(locale), 64)}
            for index, entry in enumerate(entries[:10])  # WeCom shows ten at most
        ],
        "selected_id": "k0",
    }
    return card


def _card(
    adapter: WeComAdapter,
    locale: str,
    task_id: str,
    desc: str,
    body: str,
    buttons: list[tuple[str, int, str]],
) -> dict[str, Any]:
    title = adapter.t.plain(locale, "wecom.proposal_title")
    return {
        "card_type": "button_interaction",
        "main_title": {"title": cut(title, TITLE_BYTES), "desc": cut(desc, DESC_BYTES)},
        "sub_title_text": cut(body, SUBTITLE_BYTES),
        "button_list": [
            {"text": cut(text, 40), "style": 1, "key": f"prop:{proposal_id}:{step}"}
            for text, proposal_id, step in buttons[:MAX_BUTTONS]
        ],
        "task_id": task_id,
    }
