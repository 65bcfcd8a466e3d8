"""Telegram's command menus (``setMyCommands``), from the one table of commands
(bot/commands/menu.py)."""

from __future__ import annotations

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
)
from telegram.ext import ExtBot

from bot.commands.menu import PRIVATE, CommandSpec, menu_on
from locales import Translator
from storage.records import Platform

COMMANDS = menu_on(Platform.TELEGRAM)  # the table's commands Telegram answers


async def publish_command_menus(bot: ExtBot[None], translator: Translator) -> None:
    """``setMyCommands`` per language and scope: group admins also see the admin commands."""
    private = [spec for spec in COMMANDS if PRIVATE in spec.places]
    group = [spec for spec in COMMANDS if spec.places - {PRIVATE} and not spec.for_admins_only]
    admin = [spec for spec in COMMANDS if spec.places - {PRIVATE}]
    for locale, language_code in (("zh_CN", "zh"), ("en", "en"), (None, None)):
        chosen = translator.resolve(locale)

        def menu(specs: list[CommandSpec], chosen: str = chosen) -> list[BotCommand]:
            return [
                BotCommand(spec.name, translator.plain(chosen, f"commands.{spec.name}"))
                for spec in specs
            ]

        await bot.set_my_commands(
            menu(private), scope=BotCommandScopeDefault(), language_code=language_code
        )
        await bot.set_my_commands(
            menu(private), scope=BotCommandScopeAllPrivateChats(), language_code=language_code
        )
        await bot.set_my_commands(
            menu(group), scope=BotCommandScopeAllGroupChats(), language_code=language_code
        )
        await bot.set_my_commands(
            menu(admin), scope=BotCommandScopeAllChatAdministrators(), language_code=language_code
        )
