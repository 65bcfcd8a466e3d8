"""/register, /members, and the officers' approve/reject buttons."""

from __future__ import annotations

from decimal import Decimal

from telegram import CallbackQuery, Update

from bot.services.errors import Refusal
from bot.services.registration.service import is_area_unit
from channels.telegram.callbacks import RegistrationVerdict
from channels.telegram.common import (
    actor_of,
    answers_refusals,
    button,
    command_text,
    place_of,
    reply,
    reply_long,
    stale_button,
    user_label,
)
from channels.telegram.context import AppContext
from channels.telegram.delivery.privately import tell_privately
from channels.telegram.registration.pending_card import area_text
from locales import Html
from storage.records import RegistrationStatus


def _area(context: AppContext, area: Decimal | None) -> str:
    if area is None:
        return context.plain("registration.area_unknown")
    number = context.bot_data.translator.number(context.locale, area)
    return context.plain("registration.area", area=number)


@answers_refusals
async def register(update: Update, context: AppContext) -> None:
    args = command_text(update).split()
    if len(args) == 3 and is_area_unit(args[2]):  # "89.5 平方米": the unit after a space
        args = [args[0], args[1] + args[2]]
    if not 1 <= len(args) <= 2:
        raise Refusal("registration.usage")
    outcome = await context.services.registration.register(
        actor_of(update, context), place_of(update), args[0], args[1] if len(args) > 1 else None
    )
    registration = outcome.registration
    user = update.effective_user
    assert user is not None
    who = user_label(user.first_name, user.last_name, user.id)
    area = _area(context, registration.area)
    if not outcome.needs_approval:
        await reply(
            update,
            context,
            context.t("registration.registered", user=who, unit=registration.unit, area=area),
        )
        return
    # One card per building lists what waits for approval: edited, not a message per request.
    context.runtime.registration_cards.touch(outcome.node.id)


@button(RegistrationVerdict)
async def verdict(
    update: Update, context: AppContext, query: CallbackQuery, data: RegistrationVerdict
) -> None:
    chat = update.effective_chat
    if chat is None or query.message is None:
        raise stale_button()
    decision = await context.services.registration.decide(
        actor_of(update, context), chat.id, data.registration_id, approve=data.approve
    )
    registration = decision.registration
    await query.answer(context.plain(f"registration.{registration.status}_toast"))
    context.runtime.registration_cards.touch(decision.node.id)
    # The resident hears privately if they can; otherwise the card's latest decisions say it.
    translator = context.bot_data.translator

    def told(locale: str) -> Html:
        return translator(
            locale,
            f"registration.decided_private_{registration.status}",
            building=decision.node.name,
            unit=registration.unit,
            area=area_text(translator, locale, registration.area),
        )

    await tell_privately(context, registration.user_id, told)


@answers_refusals
async def members(update: Update, context: AppContext) -> None:
    listing = await context.services.registration.members(
        actor_of(update, context), place_of(update)
    )
    lines = [
        context.t(
            "registration.members_title",
            name=listing.node.name,
            households=len(listing.households),
            approved=listing.counts.get(RegistrationStatus.APPROVED, 0),
            pending=listing.counts.get(RegistrationStatus.PENDING, 0),
        )
    ]
    for entry in listing.households:
        people = ", ".join(
            context.t(
                "registration.members_person",
                user=user_label(user.first_name, user.last_name, user.user_id)
                if user
                else Html(str(reg.user_id)),
                status=context.t(f"statuses.{reg.status}"),
            )
            for reg, user in entry.members
        )
        lines.append(
            context.t(
                "registration.members_line",
                unit=entry.household.unit,
                area=_area(context, entry.household.area),
                people=Html(people),
            )
        )
    if not listing.households:
        lines.append(context.t("registration.members_none"))
    await reply_long(update, context, lines)
