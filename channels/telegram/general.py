"""/start with a private opinion's link, and presses on buttons nobody answers (/start, /help
and /lang are bot/commands/general.py, shared by every channel)."""

from __future__ import annotations

from telegram import Update

from bot.commands.general import start as shared_start
from channels.telegram.common import (
    answers_refusals,
    command_text,
    place_of,
    shared,
    stale_button,
)
from channels.telegram.context import AppContext
from channels.telegram.feedback.opinions import start_private_opinion

_start = shared(shared_start)


@answers_refusals
async def start(update: Update, context: AppContext) -> None:
    """``/start`` in a private chat may carry a link's payload: the opinion on a topic that
    the "私下提意见" button opens; otherwise it is the shared /start."""
    payload = command_text(update)
    user = update.effective_user
    if payload and user is not None and not place_of(update).is_group:
        await context.services.people.mark_started(user.id)
        if await start_private_opinion(update, context, payload):
            return
    await _start(update, context)


@answers_refusals
async def unknown_button(update: Update, context: AppContext) -> None:
    """A button whose data no handler recognises (garbage, tampered or from an old version)."""
    if update.callback_query is not None:
        raise stale_button()
