"""/lang: the language of a private chat, or of a group (its officers' or admins' choice)."""

from __future__ import annotations

from bot.commands.base import Asked, Reply, said


async def lang(asked: Asked) -> Reply:
    if not asked.text:
        return said("general.lang_usage")
    admin = await asked.is_chat_admin()
    locale = await asked.services.people.set_language(
        asked.actor, asked.place, asked.text, is_chat_admin=admin
    )
    key = "general.lang_set_group" if asked.place.is_group else "general.lang_set_private"
    return said(key, locale)


COMMANDS = {"lang": lang}
