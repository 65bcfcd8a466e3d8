"""/setup, /newgrid, /newbuilding, /bind, /unbind: the organisation tree from the chats."""

from __future__ import annotations

from bot.commands.base import Asked, Reply, level_said, said
from storage.records import Level


async def setup(asked: Asked) -> Reply:
    node = await asked.services.orgs.setup(asked.actor, asked.place, asked.text)
    return said("orgs.setup_done", name=node.name)


async def _issue(asked: Asked, level: Level) -> Reply:
    issued = await asked.services.orgs.issue_code(asked.actor, asked.place, asked.text, level)
    return said(
        "orgs.code_issued",
        level=level_said(issued.level),
        name=issued.name,
        code=issued.code,
        expires=issued.expires_at,
    )


async def newgrid(asked: Asked) -> Reply:
    return await _issue(asked, Level.GRID)


async def newbuilding(asked: Asked) -> Reply:
    return await _issue(asked, Level.BUILDING)


async def bind(asked: Asked) -> Reply:
    admin = await asked.is_chat_admin()
    bound = await asked.services.orgs.bind(
        asked.actor, asked.place, asked.text, is_chat_admin=admin
    )
    return said(
        "orgs.bound",
        level=level_said(bound.node.level),
        name=bound.node.name,
        parent=bound.parent.name if bound.parent else "",
    )


async def unbind(asked: Asked) -> Reply:
    node = await asked.services.orgs.unbind(asked.actor, asked.place)
    return said("orgs.unbound", level=level_said(node.level), name=node.name)


COMMANDS = {
    "setup": setup,
    "newgrid": newgrid,
    "newbuilding": newbuilding,
    "bind": bind,
    "unbind": unbind,
}
