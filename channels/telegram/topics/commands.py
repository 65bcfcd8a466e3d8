"""/topic, the vote buttons, /topics, /close, /extend, /cancel, /result, /nudge, /ballot."""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot.commands.base import UsageError
from bot.services.topics.eligibility import parse_topic_id
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
    reply_long,
    stale_button,
)
from channels.telegram.context import AppContext
from locales import Html


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


@answers_refusals
async def topics(update: Update, context: AppContext) -> None:
    open_topics, closed = await context.services.topics.listing(place_of(update))
    renderer = context.runtime.renderer
    locale = context.locale or context.settings.locale
    lines: list[Html] = []
    if open_topics:
        lines.append(context.t("topics.list_open"))
        lines.extend(
            context.t(
                "topics.list_open_item", id=t.id, title=t.title, deadline=renderer.when(locale, t)
            )
            for t in open_topics
        )
    if closed:
        lines.append(context.t("topics.list_closed"))
        lines.extend(
            context.t(
                "topics.list_closed_item",
                id=t.id,
                title=t.title,
                verdict=renderer.verdict(locale, t),
            )
            for t in closed
        )
    await reply_long(update, context, lines or [context.t("topics.list_none")])


@answers_refusals
async def result(update: Update, context: AppContext) -> None:
    (raw_id,) = _args(update, "topics.usage_result", at_least=1, at_most=1)
    view = await context.services.topics.view(
        actor_of(update, context), place_of(update), parse_topic_id(raw_id)
    )
    locale = context.locale or context.settings.locale
    lines: list[str] = [context.runtime.renderer.result(locale, view)]
    record = await context.services.escalation.history(view.topic.id)
    resolver = None
    if record.resolution is not None:
        node = next(
            (hop.to_node for hop in record.hops if hop.to_node.id == record.resolution.node_id),
            None,
        )
        resolver = node.name if node else None
    lines.extend(context.runtime.escalation_renderer.history(locale, record, resolver))
    await reply_long(update, context, [Html(line) for line in lines])
