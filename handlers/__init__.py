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

from handlers import general, orgs, registration, roles
from handlers.callbacks import RegistrationVerdict
from handlers.context import AppContext
from handlers.errors import on_error
from handlers.middleware import know_the_update

MIDDLEWARE_GROUP = -1

COMMAND_CALLBACKS = {
    "start": general.start,
    "help": general.help_command,
    "lang": general.lang,
    "setup": orgs.setup,
    "newgrid": orgs.newgrid,
    "newbuilding": orgs.newbuilding,
    "bind": orgs.bind,
    "unbind": orgs.unbind,
    "role": roles.role,
    "unrole": roles.unrole,
    "roles": roles.roles,
    "register": registration.register,
    "members": registration.members,
}


def register_handlers(application: Application[Any, AppContext, Any, Any, Any, Any]) -> None:
    application.add_handler(TypeHandler(Update, know_the_update), group=MIDDLEWARE_GROUP)
    for name, callback in COMMAND_CALLBACKS.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(
        CallbackQueryHandler(registration.verdict, pattern=RegistrationVerdict.pattern())
    )
    application.add_handler(
        ChatMemberHandler(orgs.bot_membership, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, orgs.chat_migrated))
    application.add_handler(CallbackQueryHandler(general.unknown_button))
    application.add_error_handler(on_error)
