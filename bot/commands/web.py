"""/web: a one-time link that signs this person in to the web pages
(bot/services/web/sessions.py), in a private chat only."""

from __future__ import annotations

from bot.commands.base import Asked, Reply, said
from bot.services.errors import Refusal
from bot.services.web.sessions import CODE_TTL


async def web(asked: Asked) -> Reply:
    public_url = asked.services.settings.public_url
    if public_url is None:
        raise Refusal("web.off")
    issued = await asked.services.web_sessions.issue_code(asked.actor, asked.place)
    return said(
        "web.link",
        url=f"{public_url}/signin/{issued.code}",
        minutes=int(CODE_TTL.total_seconds() // 60),
    )


COMMANDS = {"web": web}
