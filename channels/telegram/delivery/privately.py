"""Telling one person something in their private chat instead of the group.

A group has 20 messages a minute for everyone; what concerns one person (why their command
was refused, how their registration was decided) goes to them privately when they have
started the bot (``users.started``: Telegram refuses a bot's first message to anyone else
with 403). The caller falls back to the group when this returns False: never started, or
blocked the bot since.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from channels.telegram.context import AppContext
from locales import Html
from storage.records import on_telegram

log = logging.getLogger(__name__)


async def tell_privately(context: AppContext, user_id: int, render: Callable[[str], Html]) -> bool:
    """Send ``render(their language)`` to the user privately; False if that cannot be done."""
    if not on_telegram(user_id):
        return False  # a person known on another platform only
    user = await context.services.people.user(user_id)
    if user is None or not user.started:
        return False
    locale = await context.services.people.chat_locale(user_id)
    try:
        await context.bot.send_message(user_id, render(locale), parse_mode=ParseMode.HTML)
    except (Forbidden, BadRequest) as error:
        log.info("could not tell user %s privately (%s); telling the group", user_id, error)
        return False
    return True
