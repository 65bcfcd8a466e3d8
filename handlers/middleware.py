"""Work done once per update before any handler: record who and where, pick the language.

A redelivered update never gets here: the inbox (bot/inbox.py) lets each update id through once.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.services.people import SeenUser
from handlers.context import AppContext


async def know_the_update(update: Update, context: AppContext) -> None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None and update.effective_message is not None:
        # Telegram names a sender for every message the bot receives (a stand-in user for an
        # anonymous admin or a channel); a message without one is nobody's to act on.
        raise ApplicationHandlerStop
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
