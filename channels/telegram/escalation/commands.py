"""The escalation card's buttons, the replies giving a decision or reason they ask for, and
ratings. (/escalate, /resolve, /progress, /sla: bot/commands/escalation.py.)"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import CallbackQuery, ForceReply, Message, ReplyParameters, Update
from telegram.constants import ParseMode

from bot.commands.escalation import escalated_reply, open_vote
from channels.telegram.callbacks import CardAction, RatingChoice
from channels.telegram.common import (
    actor_of,
    button,
    place_of,
    reply,
    stale_button,
    written,
)
from channels.telegram.context import AppContext
from channels.telegram.escalation.render import RATING_KEYS
from storage.records import Scope


@dataclass(frozen=True, slots=True)
class Prompt:
    """The bot asked an officer for text by a reply (a decision, a reason)."""

    action: str  # "resolve" | "escalate"
    topic_id: int
    user_id: int


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
        await _open_vote(update, context, hop.id, Scope.ALL if data.action == "l" else Scope.HERE)
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


async def _open_vote(update: Update, context: AppContext, escalation_id: int, scope: Scope) -> None:
    """发起网格表决: the vote published (bot/commands/escalation.py) and its ballots posted."""
    topic_id, published = await open_vote(
        context.services,
        actor_of(update, context),
        place_of(update),
        escalation_id,
        scope,
        locale=context.locale or context.settings.locale,
        membership=context.runtime.membership,
        update_id=update.update_id,
    )
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
        answer = await escalated_reply(context.services, prompt.topic_id)
        await reply(update, context, written(context, answer.told))
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
