"""Thin python-telegram-bot handlers: parse the update, call a service, render, reply."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.commands import COMMANDS as SHARED_COMMANDS
from channels.telegram import general
from channels.telegram.callbacks import (
    CardAction,
    ProposalStep,
    RatingChoice,
    RegistrationVerdict,
    VoteChoice,
)
from channels.telegram.common import shared
from channels.telegram.context import AppContext
from channels.telegram.errors import on_error
from channels.telegram.escalation import commands as escalation
from channels.telegram.feedback import opinions, proposals
from channels.telegram.meetings import commands as meetings
from channels.telegram.meetings import wizard as meeting_wizard
from channels.telegram.middleware import know_the_update
from channels.telegram.organisation import commands as orgs
from channels.telegram.registration import commands as registration
from channels.telegram.reports import digest, export
from channels.telegram.topics import commands as topics
from channels.telegram.topics import wizard as topic_wizard

MIDDLEWARE_GROUP = -1

COMMAND_CALLBACKS = {
    **{name: shared(command) for name, command in SHARED_COMMANDS.items()},
    "start": general.start,
    "topic": topics.topic,
    "propose": proposals.propose,
    "meeting": meetings.meeting,
    "cancelmeeting": meetings.cancel_meeting,
    "minutes": meetings.minutes,
    "digest": digest.digest_now,
}


def register_handlers(application: Application[Any, AppContext, Any, Any, Any, Any]) -> None:
    application.add_handler(TypeHandler(Update, know_the_update), group=MIDDLEWARE_GROUP)
    topic_wizard.register(application)
    meeting_wizard.register(application)
    # Commands act on new messages only: editing "/topic 修路" to fix a typo must not publish
    # a second topic (python-telegram-bot runs commands on edited messages by default).
    for name, callback in COMMAND_CALLBACKS.items():
        application.add_handler(CommandHandler(name, callback, filters.UpdateType.MESSAGE))
    export.register(application)
    meetings.register(application)
    application.add_handler(CallbackQueryHandler(topics.vote, pattern=VoteChoice.pattern()))
    application.add_handler(
        CallbackQueryHandler(registration.verdict, pattern=RegistrationVerdict.pattern())
    )
    application.add_handler(CallbackQueryHandler(proposals.step, pattern=ProposalStep.pattern()))
    application.add_handler(
        CallbackQueryHandler(escalation.card_button, pattern=CardAction.pattern())
    )
    application.add_handler(CallbackQueryHandler(escalation.rate, pattern=RatingChoice.pattern()))
    application.add_handler(
        ChatMemberHandler(orgs.bot_membership, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(ChatMemberHandler(orgs.member_changed, ChatMemberHandler.CHAT_MEMBER))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, orgs.chat_migrated))
    text = filters.TEXT & ~filters.COMMAND
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.GROUPS & filters.REPLY & text,
            opinions.reply_in_group,
        )
    )
    application.add_handler(
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.REPLY & text, opinions.edited)
    )
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & text, opinions.private_text
        )
    )
    application.add_handler(CallbackQueryHandler(general.unknown_button))
    application.add_error_handler(on_error)
