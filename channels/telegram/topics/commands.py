"""/topic and the vote buttons (the other topic commands are bot/commands/topics.py)."""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot.commands.base import UsageError
from bot.services.topics.service import Published
from bot.services.topics.syntax import TopicDraft, parse_topic
from channels.telegram.callbacks import VoteChoice
from channels.telegram.common import (
    actor_of,
    answers_refusals,
    button,
    command_text,
    place_of,
    reply,
    stale_button,
)
from channels.telegram.context import AppContext


def _args(update: Update, usage: str, *, at_least: int, at_most: int) -> list[str]:
    args = command_text(update).split()
    if not at_least <= len(args) <= at_most:
        raise UsageError(usage)
    return args


@answers_refusals
async def topic(update: Update, context: AppContext) -> None:
    text = command_text(update)
    if not text:
        await reply(update, context, context.t("topics.topic_usage"))
        return
    services = context.services
    draft = parse_topic(
        text,
        now=services.clock.now(),
        zone=context.settings.zone,
        catalogue=services.catalogue,
        locale=context.locale or context.settings.locale,
    )
    await publish_draft(update, context, draft)


async def publish_draft(update: Update, context: AppContext, draft: TopicDraft) -> Published:
    """Publish a checked draft here and post its ballot(s): the one-line and the guided
    ``/topic`` both end here. The update is marked handled with the topic: a restart amid
    the posts posts the rest and does not publish it again."""
    published = await context.services.topics.publish(
        actor_of(update, context),
        place_of(update),
        draft,
        context.runtime.membership,
        update_id=update.update_id,
    )
    await context.runtime.live.sync(published.topic.id)
    if draft.scope.value == "all":
        voting = sum(1 for post in published.posts if post.voting)
        await reply(
            update, context, context.t("topics.published_all", id=published.topic.id, count=voting)
        )
    return published


@button(VoteChoice)
async def vote(update: Update, context: AppContext, query: CallbackQuery, data: VoteChoice) -> None:
    chat = update.effective_chat
    if chat is None:
        raise stale_button()
    try:
        receipt = await context.services.topics.vote(
            actor_of(update, context),
            chat.id,
            data.topic_id,
            data.option,
            context.runtime.membership,
        )
    finally:
        await context.language_known()  # found out while the ballot was written (middleware)
    if receipt.unchanged:
        key = "topics.vote_same"
    else:
        key = "topics.vote_changed" if receipt.changed else "topics.vote_recorded"
        context.runtime.live.touch(receipt.topic.id)
    await query.answer(context.plain(key, option=receipt.option))
