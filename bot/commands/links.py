"""/link: one person's Telegram and WeCom identities joined (bot/services/organisation/links.py)."""

from __future__ import annotations

from bot.commands.base import Asked, Reply, said
from bot.services.announcement_texts import Said
from bot.services.organisation.links import CODE_TTL


async def link(asked: Asked) -> Reply:
    links = asked.services.links
    if not asked.text:
        issued = await links.code(asked.actor, asked.place)
        return said(
            "links.code",
            code=issued.code,
            minutes=int(CODE_TTL.total_seconds() // 60),
            other=Said(f"links.platform_{issued.other.value}"),
        )
    linked = await links.link(asked.actor, asked.place, asked.text)
    return said("links.linked", ballots=linked.ballots_moved)


COMMANDS = {"link": link}
