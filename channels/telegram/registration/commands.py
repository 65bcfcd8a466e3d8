"""The officers' approve/reject buttons on a building's pending-registrations card
(/register and /members are bot/commands/registration.py, shared by every channel)."""

from __future__ import annotations

from telegram import CallbackQuery, Update

from channels.telegram.callbacks import RegistrationVerdict
from channels.telegram.common import actor_of, button, stale_button
from channels.telegram.context import AppContext
from channels.telegram.delivery.privately import tell_privately
from channels.telegram.registration.pending_card import area_text
from locales import Html


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
    # The card is edited on the change the service recorded (the runtime's on_events). The
    # resident hears privately if they can; otherwise the card's latest decisions say it.
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
