"""/start, /help and /lang."""

from __future__ import annotations

from bot.commands.base import Asked, Reply, lines, said
from bot.commands.menu import PRIVATE, UNBOUND, commands_for
from bot.services.announcement_texts import Plain, Said


def node_path(names: list[str]) -> str:
    return " › ".join(names)


async def start(asked: Asked) -> Reply:
    if not asked.place.is_group:
        await asked.services.people.mark_started(asked.actor.user_id)
        user = await asked.services.people.user(asked.actor.user_id)
        return said("general.start_private", name=user.first_name if user else "")
    standing = await asked.services.roles.standing(asked.actor, asked.place.chat_id)
    if standing.node is None:
        return said("general.start_unbound")
    return said("general.start_bound", path=node_path([node.name for node in standing.path]))


async def help_command(asked: Asked) -> Reply:
    """The commands the sender may use where they are, of those their channel answers."""
    standing = await asked.services.roles.standing(asked.actor, asked.place.chat_id)
    if not asked.place.is_group:
        where, header = PRIVATE, Said("general.help_private")
    elif standing.node is None:
        where, header = UNBOUND, Said("general.help_unbound")
    else:
        where = standing.node.level
        header = Said(
            "general.help_bound",
            {
                "path": node_path([node.name for node in standing.path]),
                "role": Said(f"role_names.{standing.rank.role_name}"),
            },
        )
    listed = [
        Said("general.help_line", {"command": spec.name, "text": Plain(f"commands.{spec.name}")})
        for spec in commands_for(where, standing.rank)
        if asked.answers(spec.name)
    ]
    # What a secret ballot does not hide is said on each secret topic (topics.secret) and in
    # the README, not to every resident who asks for the commands.
    return lines(header, "", *listed)


async def lang(asked: Asked) -> Reply:
    if not asked.text:
        return said("general.lang_usage")
    admin = await asked.is_chat_admin()
    locale = await asked.services.people.set_language(
        asked.actor, asked.place, asked.text, is_chat_admin=admin
    )
    key = "general.lang_set_group" if asked.place.is_group else "general.lang_set_private"
    return said(key, locale)


COMMANDS = {"start": start, "help": help_command, "lang": lang}
