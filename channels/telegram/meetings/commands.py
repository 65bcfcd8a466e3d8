"""/meeting, Telegram's ways of /cancelmeeting and /minutes (bot/commands/meetings.py
has the rest of them, /meetings and /agenda), and the buttons of meetings."""

from __future__ import annotations

import re
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.commands.base import Reply
from bot.commands.meetings import cancel_meeting as shared_cancel
from bot.commands.meetings import cancelled, minutes_number, record_minutes, scheduled_notes
from bot.services.announcement_texts import Told
from bot.services.errors import Refusal
from bot.services.meetings.minutes import Attachment
from bot.services.meetings.service import Scheduled
from bot.services.meetings.syntax import MeetingDraft, parse_meeting
from bot.services.topics.eligibility import parse_topic_id
from channels.telegram.common import (
    actor_of,
    answers_refusals,
    asked_of,
    button,
    command_text,
    place_of,
    replied_message,
    reply,
    reply_with,
    stale_button,
    told_html,
)
from channels.telegram.context import AppContext
from channels.telegram.meetings.callbacks import (
    ANSWER_CODES,
    MeetingAnswer,
    MeetingCancel,
    MeetingWho,
)
from storage.records import FileKind, MeetingOccurrence

MINUTES_CAPTION = re.compile(r"^/minutes(@\w+)?(\s|$)", re.IGNORECASE)


def _locale(context: AppContext) -> str:
    return context.locale or context.settings.locale


@answers_refusals
async def meeting(update: Update, context: AppContext) -> None:
    """One-line ``/meeting <when> <标题> [key=value ...]`` (no arguments: the guided mode)."""
    text = command_text(update)
    if not text:
        raise Refusal("meetings.usage_meeting")
    draft = parse_meeting(
        text, now=context.services.clock.now(), zone=context.settings.zone, locale=_locale(context)
    )
    await schedule_draft(update, context, draft)


async def schedule_draft(update: Update, context: AppContext, draft: MeetingDraft) -> Scheduled:
    """Schedule a checked draft here and post its announcement(s); then say what was skipped.
    The update is marked handled with the meeting: a restart amid the posts posts the rest
    and does not schedule it again."""
    scheduled = await context.services.meetings.schedule(
        actor_of(update, context), place_of(update), draft, update_id=update.update_id
    )
    await context.runtime.reminders.sync(scheduled.occurrence.id)
    notes = scheduled_notes(scheduled, context.settings.zone)
    if notes:
        await reply(update, context, told_html(context, Reply(Told(notes))))
    return scheduled


@answers_refusals
async def cancel_meeting(update: Update, context: AppContext) -> None:
    """``/cancelmeeting <id>`` of a series: ask which with buttons; the rest is the shared
    command's (a one-off is cancelled, ``本次`` / ``全部`` say which of a series)."""
    args = command_text(update).split()
    if len(args) == 1:
        found, occurrence = await context.services.meetings.cancellable(
            actor_of(update, context), place_of(update), parse_topic_id(args[0])
        )
        if found.recurring:
            await _ask_which(update, context, found.id, found.title, occurrence)
            return
    await reply_with(update, context, await shared_cancel(asked_of(update, context)))


async def _ask_which(
    update: Update, context: AppContext, meeting_id: int, title: str, occurrence: MeetingOccurrence
) -> None:
    renderer, locale = context.runtime.meeting_renderer, _locale(context)
    when = renderer.when(locale, occurrence.starts_at)

    def button(key: str, choice: str) -> list[InlineKeyboardButton]:
        data = MeetingCancel(meeting_id, occurrence.id, choice).encode()
        return [
            InlineKeyboardButton(context.plain(f"meetings.{key}", when=when), callback_data=data)
        ]

    markup = InlineKeyboardMarkup(
        [button("cancel_one", "o"), button("cancel_series", "s"), button("cancel_keep", "k")]
    )
    question = context.t("meetings.cancel_which", id=meeting_id, title=title, when=when)
    await reply(update, context, question, markup)


@button(MeetingCancel)
async def cancel_choice(
    update: Update, context: AppContext, query: CallbackQuery, data: MeetingCancel
) -> None:
    if data.choice not in ("o", "s", "k"):
        raise stale_button()
    if data.choice == "k":
        # Only someone who may cancel may dismiss the question.
        await context.services.meetings.cancellable(
            actor_of(update, context), place_of(update), data.meeting_id
        )
        kept = context.t("meetings.cancel_kept", id=data.meeting_id)
        await query.edit_message_text(kept, parse_mode=ParseMode.HTML)
        await query.answer()
        return
    done = await context.services.meetings.cancel(
        actor_of(update, context),
        place_of(update),
        data.meeting_id,
        data.occurrence_id,
        whole=data.choice == "s",
    )
    text = told_html(context, cancelled(done))
    await query.edit_message_text(text, parse_mode=ParseMode.HTML)
    await query.answer()


@answers_refusals
async def minutes(update: Update, context: AppContext) -> None:
    """``/minutes <id> <内容>``, or ``/minutes <内容>`` as a reply to a meeting's message; the
    caption of a photo or a document works the same way."""
    message = update.effective_message
    assert message is not None
    replied_to = replied_message(message)
    replied = replied_to.message_id if replied_to else None
    meeting_id, text = minutes_number(
        command_text(update), replying=replied is not None, usage="meetings.usage_minutes"
    )
    answer = await record_minutes(
        asked_of(update, context),
        meeting_id,
        text,
        replied_to=replied if meeting_id is None else None,
        attachment=_attachment(message),
    )
    await reply_with(update, context, answer)


def _attachment(message: Message) -> Attachment | None:
    if message.photo:
        return Attachment(FileKind.PHOTO, message.photo[-1].file_id)
    if message.document is not None:
        return Attachment(FileKind.DOCUMENT, message.document.file_id, message.document.file_name)
    return None


@button(MeetingAnswer)
async def answer(
    update: Update, context: AppContext, query: CallbackQuery, data: MeetingAnswer
) -> None:
    chat = update.effective_chat
    if chat is None or data.answer not in ANSWER_CODES:
        raise stale_button()
    answered = await context.services.meetings.answer(
        actor_of(update, context), chat.id, data.occurrence_id, ANSWER_CODES[data.answer]
    )
    label = context.plain(f"meetings.button_{answered.answer}")
    if answered.same:
        key = "meetings.answer_same"
    else:
        key = "meetings.answer_changed" if answered.changed else "meetings.answer_recorded"
        context.runtime.reminders.touch(data.occurrence_id)
    await query.answer(context.plain(key, answer=label))


@button(MeetingWho)
async def who_answered(
    update: Update, context: AppContext, query: CallbackQuery, data: MeetingWho
) -> None:
    """👥: the names go to the officer's private chat, never into the group."""
    actor = actor_of(update, context)
    detail = await context.services.meetings.who_answered(actor, data.occurrence_id)
    locale = await context.services.people.chat_locale(actor.user_id)
    text = context.runtime.meeting_renderer.detail(locale, detail)
    try:
        await context.bot.send_message(actor.user_id, text, parse_mode=ParseMode.HTML)
    except (Forbidden, BadRequest):
        raise Refusal("meetings.who_start_private") from None
    await query.answer(context.plain("meetings.who_sent"))


def register(application: Application[Any, AppContext, Any, Any, Any, Any]) -> None:
    """The buttons, and minutes sent as the caption of a photo or a document."""
    application.add_handler(CallbackQueryHandler(answer, pattern=MeetingAnswer.pattern()))
    application.add_handler(CallbackQueryHandler(who_answered, pattern=MeetingWho.pattern()))
    application.add_handler(CallbackQueryHandler(cancel_choice, pattern=MeetingCancel.pattern()))
    media = filters.PHOTO | filters.Document.ALL
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.ChatType.GROUPS
            & media
            & filters.CaptionRegex(MINUTES_CAPTION),
            minutes,
        )
    )
