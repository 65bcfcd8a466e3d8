"""Opinions: replies to a ballot message, their edits, and the private deep link (/opinion
is bot/commands/topics.py)."""

from __future__ import annotations

import re

from telegram import Update

from bot.services.errors import Refusal
from channels.telegram.common import (
    actor_of,
    answers_refusals,
    place_of,
    replied_message,
    reply,
)
from channels.telegram.context import AppContext
from channels.telegram.escalation.commands import answer_prompt

DEEP_LINK = re.compile(r"^op_(\d{1,9})$")
PENDING_OPINION = "opinion_topic"


@answers_refusals
async def reply_in_group(update: Update, context: AppContext) -> None:
    """A reply in a group: the answer to a question the bot asked, or an opinion on a ballot."""
    message = update.effective_message
    replied = replied_message(message)
    if message is None or replied is None or not message.text:
        return
    if await answer_prompt(update, context, message):
        return
    await context.services.opinions.reply(
        actor_of(update, context),
        message.chat.id,
        replied.message_id,
        message.message_id,
        message.text,
    )


async def edited(update: Update, context: AppContext) -> None:
    message = update.edited_message
    if message is None or not message.text:
        return
    try:
        await context.services.opinions.edited(message.chat.id, message.message_id, message.text)
    except Refusal:
        return  # an edit that empties or overfills an opinion keeps the previous text


async def start_private_opinion(update: Update, context: AppContext, payload: str) -> bool:
    """``/start op_12`` from the ballot's deep link: ask for the opinion. True if handled."""
    match = DEEP_LINK.match(payload)
    if match is None:
        return False
    topic = await context.services.opinions.topic_for_private_opinion(int(match.group(1)))
    if context.user_data is not None:
        context.user_data[PENDING_OPINION] = topic.id
    await reply(update, context, context.t("opinions.ask_private", id=topic.id, title=topic.title))
    return True


@answers_refusals
async def private_text(update: Update, context: AppContext) -> None:
    """A plain message in the private chat: the opinion the deep link asked for, if any."""
    message = update.effective_message
    pending = context.user_data.pop(PENDING_OPINION, None) if context.user_data else None
    if message is None or not message.text:
        return
    if pending is None:
        await reply(update, context, context.t("general.private_hint"))
        return
    recorded = await context.services.opinions.record(
        actor_of(update, context),
        place_of(update),
        int(pending),
        message.text,
        context.runtime.membership,
    )
    await reply(update, context, context.t("opinions.recorded_private", id=recorded.topic.id))
