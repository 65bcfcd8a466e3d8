"""/propose and the officers' accept/decline steps on the proposal card."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.catalogue import CatalogueEntry
from channels.telegram.callbacks import ProposalStep
from channels.telegram.common import (
    actor_of,
    answers_refusals,
    button,
    command_text,
    place_of,
    reply,
    stale_button,
    user_label,
)
from channels.telegram.context import AppContext
from locales import Html
from storage.records import Proposal


def _button(text: str, proposal_id: int, step: str, choice: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text, callback_data=ProposalStep(proposal_id, step, choice).encode()
    )


def _card_buttons(context: AppContext, proposal_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(context.plain("proposals.accept_button"), proposal_id, "a"),
                _button(context.plain("proposals.decline_button"), proposal_id, "d"),
            ]
        ]
    )


def _choices(
    context: AppContext, proposal_id: int, entries: list[CatalogueEntry], step: str
) -> InlineKeyboardMarkup:
    locale = context.locale or context.settings.locale
    rows = [[_button(entry.name(locale), proposal_id, step, i)] for i, entry in enumerate(entries)]
    rows.append([_button(context.plain("proposals.back_button"), proposal_id, "b")])
    return InlineKeyboardMarkup(rows)


async def _who(context: AppContext, proposal: Proposal) -> Html:
    user = await context.services.people.user(proposal.user_id)
    if user is None:
        return Html(str(proposal.user_id))
    return user_label(user.first_name, user.last_name, user.user_id)


@answers_refusals
async def propose(update: Update, context: AppContext) -> None:
    proposal = await context.services.proposals.propose(
        actor_of(update, context), place_of(update), command_text(update)
    )
    who = await _who(context, proposal)
    await reply(
        update,
        context,
        context.t("proposals.card", user=who, text=proposal.text),
        _card_buttons(context, proposal.id),
    )


@button(ProposalStep)
async def step(
    update: Update, context: AppContext, query: CallbackQuery, data: ProposalStep
) -> None:
    chat = update.effective_chat
    if chat is None or query.message is None:
        raise stale_button()
    services, actor = context.services, actor_of(update, context)
    catalogue = services.catalogue
    locale = context.locale or context.settings.locale
    if data.step in ("a", "d", "b"):
        proposal = await services.proposals.check_decidable(actor, chat.id, data.proposal_id)
        who = await _who(context, proposal)
        if data.step == "a":
            text = context.t("proposals.pick_category", user=who, text=proposal.text)
            markup = _choices(context, proposal.id, catalogue.discussable(), "c")
        elif data.step == "d":
            text = context.t("proposals.pick_reason", user=who, text=proposal.text)
            markup = _choices(context, proposal.id, catalogue.not_discussable(), "r")
        else:
            text = context.t("proposals.card", user=who, text=proposal.text)
            markup = _card_buttons(context, proposal.id)
        await query.answer()
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        return
    officer = user_label(query.from_user.first_name, query.from_user.last_name, query.from_user.id)
    if data.step == "c":
        entries = catalogue.discussable()
        if not 0 <= data.choice < len(entries):
            raise stale_button()
        published = await services.proposals.accept(
            actor,
            place_of(update),
            data.proposal_id,
            entries[data.choice].key,
            context.runtime.membership,
            locale=locale,
        )
        accepted = await services.proposals.get(data.proposal_id)
        assert accepted is not None
        await query.answer()
        text = context.t(
            "proposals.accepted_card",
            user=await _who(context, accepted),
            officer=officer,
            id=published.topic.id,
        )
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=None)
        await context.runtime.live.sync(published.topic.id)
        return
    if data.step == "r":
        entries = catalogue.not_discussable()
        if not 0 <= data.choice < len(entries):
            raise stale_button()
        declined = await services.proposals.decline(
            actor, chat.id, data.proposal_id, entries[data.choice].key
        )
        await query.answer()
        text = context.t(
            "proposals.declined_card",
            user=await _who(context, declined.proposal),
            text=declined.proposal.text,
            officer=officer,
            name=declined.reason.name(locale),
            reason=declined.reason.reason(locale),
        )
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=None)
        return
    raise stale_button()
