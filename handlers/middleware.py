"""Work done once per update before any handler: record who and where, pick the language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.services.people import SeenUser
from handlers.context import AppContext


async def know_the_update(update: Update, context: AppContext) -> None:
    if not await context.services.people.first_delivery(update.update_id):
        raise ApplicationHandlerStop  # a redelivered update has had its effect already
    user = update.effective_user
    chat = update.effective_chat
    seen = (
        SeenUser(
            user_id=user.id,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            language_code=user.language_code,
        )
        if user is not None and not user.is_bot
        else None
    )
    if seen is None and chat is None:
        context.locale = context.settings.locale
        return
    context.locale = await context.services.people.seen(
        seen,
        chat.id if chat else None,
        chat.type if chat else None,
        chat.title if chat else None,
    )
