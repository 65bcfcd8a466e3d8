"""The last line of defence: log the failure and tell the user something went wrong."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Conflict, TelegramError

from channels.telegram.common import reply
from channels.telegram.context import AppContext

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
    # from getUpdates; channels/telegram/token_guard.py decides
    if isinstance(context.error, Conflict):
        log.warning(
            "another process polled getUpdates with this bot token (409 Conflict): is a second "
            "instance running on another database?"
        )
        return
    if isinstance(context.error, BadRequest) and "query is too old" in str(context.error).lower():
        # A press handled late (e.g. again from the inbox after a restart) can no longer be
        # answered; its effect has been recorded.
        log.info("%s: the press was handled too late to be answered", describe(update))
        return
    log.error("%s failed", describe(update), exc_info=context.error)
    if not isinstance(update, Update):
        return
    if context.locale is None:  # an error handler gets a context of its own: no language yet
        context.locale = await _locale(update, context)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(
                context.plain("refusals.general.internal_error"), show_alert=True
            )
        elif update.effective_message is not None and update.effective_chat is not None:
            await reply(update, context, context.t("refusals.general.internal_error"))
    except TelegramError:
        log.exception("could not report the failure to the chat")


async def _locale(update: Update, context: AppContext) -> str:
    chat = update.effective_chat
    if chat is None:
        return context.settings.locale
    try:
        return await context.services.people.chat_locale(chat.id)
    except Exception:  # the database may be why the update failed
        log.warning("could not read the language of chat %s", chat.id)
        return context.settings.locale
