"""The last line of defence: log the failure and tell the user something went wrong."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from handlers.common import reply
from handlers.context import AppContext

log = logging.getLogger(__name__)


def describe(update: object) -> str:
    """Which update failed, without its content: who pressed what may be a secret ballot."""
    if not isinstance(update, Update):
        return type(update).__name__
    chat = update.effective_chat
    kinds = ("message", "edited_message", "callback_query", "my_chat_member", "chat_member")
    kind = next((name for name in kinds if getattr(update, name, None)), "other")
    return f"update {update.update_id} ({kind} in chat {chat.id if chat else '-'})"


async def on_error(update: object, context: AppContext) -> None:
    log.error("%s failed", describe(update), exc_info=context.error)
    if not isinstance(update, Update) or context.locale is None:
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(
                context.plain("refusals.general.internal_error"), show_alert=True
            )
        elif update.effective_message is not None and update.effective_chat is not None:
            await reply(update, context, context.t("refusals.general.internal_error"))
    except TelegramError:
        log.exception("could not report the failure to the chat")
