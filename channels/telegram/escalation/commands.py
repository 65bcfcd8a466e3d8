"""/escalate, /resolve, /progress, /sla, the escalation card's buttons, and ratings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from telegram import CallbackQuery, ForceReply, Message, ReplyParameters, Update
from telegram.constants import ParseMode

from bot.services.errors import Refusal
from bot.services.topics.eligibility import parse_topic_id
from bot.services.topics.syntax import DEFAULT_OPTIONS, TopicDraft
from channels.telegram.callbacks import CardAction, RatingChoice
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
from channels.telegram.escalation.render import RATING_KEYS
from storage.records import Rule, Scope

VOTE_DEADLINE = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Prompt:
    """The bot asked an officer for text by a reply (a decision, a reason)."""

    action: str  # "resolve" | "escalate"
    topic_id: int
    user_id: int


def _two_parts(update: Update, usage: str) -> tuple[int, str]:
    parts = command_text(update).split(maxsplit=1)
    if not parts:
        raise Refusal(usage)
    return parse_topic_id(parts[0]), parts[1] if len(parts) > 1 else ""


@answers_refusals
async def escalate_command(update: Update, context: AppContext) -> None:
    topic_id, reason = _two_parts(update, "escalation.usage_escalate")
    await context.services.escalation.escalate_by_hand(
        actor_of(update, context), place_of(update), topic_id, reason
    )
    await _confirm_escalated(update, context, topic_id)


async def _confirm_escalated(update: Update, context: AppContext, topic_id: int) -> None:
    matter = await context.services.escalation.matter(topic_id)
    level = matter.holder.level if matter else "grid"
    await reply(
        update,
        context,
        context.t("escalation.escalated_done", id=topic_id, level=context.t(f"levels.{level}")),
    )


@answers_refusals
async def resolve_command(update: Update, context: AppContext) -> None:
    topic_id, decision = _two_parts(update, "escalation.usage_resolve")
    await context.services.escalation.resolve(
        actor_of(update, context), place_of(update), topic_id, decision
    )
    await reply(update, context, context.t("escalation.resolved_reply", id=topic_id))


@answers_refusals
async def progress_command(update: Update, context: AppContext) -> None:
    topic_id, text = _two_parts(update, "escalation.usage_progress")
    await context.services.escalation.progress(
        actor_of(update, context), place_of(update), topic_id, text
    )
    done = text.strip().lower() in ("办结", "已办结", "完成", "done", "finished")
    key = "escalation.done_reply" if done else "escalation.progress_reply"
    await reply(update, context, context.t(key, id=topic_id))


@answers_refusals
async def sla_command(update: Update, context: AppContext) -> None:
    text = command_text(update)
    if not text:
        raise Refusal("escalation.usage_sla")
    sla = await context.services.escalation.set_sla(
        actor_of(update, context), place_of(update), text
    )
    await reply(
        update,
        context,
        context.t(
            "escalation.sla_set", sla=context.bot_data.translator.duration(context.locale, sla)
        ),
    )


@button(CardAction)
async def card_button(
    update: Update, context: AppContext, query: CallbackQuery, data: CardAction
) -> None:
    if query.message is None:
        raise stale_button()
    services, actor, place = context.services, actor_of(update, context), place_of(update)
    cards = context.runtime.cards
    if data.action == "a":
        await services.escalation.accept(actor, place, data.escalation_id)
        await query.answer(context.plain("escalation.accepted_toast"))
        return
    hop = await services.escalation.check_card(actor, place, data.escalation_id)
    view = await services.escalation.card(hop.id)
    assert view is not None
    locale = context.locale or context.settings.locale
    if data.action in ("v", "b"):
        text, markup = await cards.render(view, locale, choosing_scope=data.action == "v")
        await query.answer()
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        return
    if data.action in ("h", "l"):
        await _open_vote(
            update, context, view.topic.id, hop.id, Scope.ALL if data.action == "l" else Scope.HERE
        )
        await query.answer()
        return
    if data.action in ("r", "u"):
        await query.answer()
        level = view.parent.level if view.parent else view.hop.to_node.level
        key = "escalation.ask_decision" if data.action == "r" else "escalation.ask_reason"
        prompt = await context.bot.send_message(
            place.chat_id,
            context.t(
                key, id=view.topic.id, title=view.topic.title, level=context.t(f"levels.{level}")
            ),
            parse_mode=ParseMode.HTML,
            reply_markup=ForceReply(selective=True),
            reply_parameters=ReplyParameters(
                message_id=query.message.message_id, allow_sending_without_reply=True
            ),
            message_thread_id=place.thread_id,
        )
        action = "resolve" if data.action == "r" else "escalate"
        context.runtime.prompts[(place.chat_id, prompt.message_id)] = Prompt(
            action, view.topic.id, actor.user_id
        )
        return
    raise stale_button()


async def _open_vote(
    update: Update, context: AppContext, topic_id: int, escalation_id: int, scope: Scope
) -> None:
    """发起网格表决: a topic at the receiving node, pre-filled from the escalated one."""
    matter = await context.services.escalation.matter(topic_id)
    assert matter is not None
    original = matter.topic
    locale = context.locale or context.settings.locale
    draft = TopicDraft(
        title=original.title,
        description=original.description,
        deadline=context.services.clock.now() + VOTE_DEADLINE,
        options=DEFAULT_OPTIONS["en" if locale == "en" else "zh_CN"],
        rule=Rule.MAJORITY,
        category=original.category,
        quorum_percent=None,
        secret=original.secret,
        household=original.household,
        hide_results=False,
        scope=scope,
    )
    published = await context.services.topics.publish(
        actor_of(update, context),
        place_of(update),
        draft,
        context.runtime.membership,
        update_id=update.update_id,
    )
    actor = actor_of(update, context)
    await context.services.escalation.accept_if_open(actor, escalation_id)
    await context.runtime.live.sync(published.topic.id)
    context.runtime.cards.touch(escalation_id)
    await reply(
        update,
        context,
        context.t("escalation.vote_opened", id=topic_id, new_id=published.topic.id),
    )


async def answer_prompt(update: Update, context: AppContext, message: Message) -> bool:
    """A reply to one of the bot's prompts; True if it was one (and was handled)."""
    replied = message.reply_to_message
    if replied is None or message.from_user is None:
        return False
    key = (message.chat.id, replied.message_id)
    prompt = context.runtime.prompts.get(key)
    if prompt is None or prompt.user_id != message.from_user.id:
        return False
    del context.runtime.prompts[key]
    actor, place = actor_of(update, context), place_of(update)
    text = message.text or ""
    if prompt.action == "resolve":
        await context.services.escalation.resolve(actor, place, prompt.topic_id, text)
        await reply(update, context, context.t("escalation.resolved_reply", id=prompt.topic_id))
    else:
        await context.services.escalation.escalate_by_hand(actor, place, prompt.topic_id, text)
        await _confirm_escalated(update, context, prompt.topic_id)
    return True


@button(RatingChoice)
async def rate(
    update: Update, context: AppContext, query: CallbackQuery, data: RatingChoice
) -> None:
    chat = update.effective_chat
    if chat is None or not 0 <= data.rating < len(RATING_KEYS):
        raise stale_button()
    rating = RATING_KEYS[data.rating]
    changed = await context.services.escalation.rate(
        actor_of(update, context), chat.id, data.topic_id, rating
    )
    label = context.plain(f"escalation.rate_{rating}")
    key = "escalation.rated" if changed else "escalation.rated_same"
    await query.answer(context.plain(key, rating=label))
