"""/role, /unrole and /roles."""

from __future__ import annotations

from bot.commands.base import Asked, Reply, lines, said
from bot.services.announcement_texts import Line, Person, Said
from bot.services.errors import Refusal
from bot.services.organisation.permissions import GRANTABLE
from bot.services.organisation.roles import RoleChange, role_of
from storage.records import User


def person(user: User) -> Person:
    return Person.of(user.first_name, user.last_name, user.user_id)


async def _target(asked: Asked, usage: str) -> tuple[int, list[str]]:
    """Who a role command is about: the person the message points at (Telegram: a reply),
    or the person its first word names; neither is refused as ``usage``, the command's own
    explanation."""
    words = asked.text.split()
    pointed = await asked.addressee()
    if pointed is not None:
        return pointed, words
    named = await asked.person(words[0]) if words else None
    if named is not None:
        return named, words[1:]
    raise Refusal(usage)


async def role(asked: Asked) -> Reply:
    target_id, rest = await _target(asked, "roles.who")
    if not rest:
        raise Refusal("roles.role_usage", roles=tuple(GRANTABLE))
    change = await asked.services.roles.grant(asked.actor, asked.place, target_id, " ".join(rest))
    return _changed("roles.granted", change, change.role)


async def unrole(asked: Asked) -> Reply:
    target_id, rest = await _target(asked, "roles.unrole_usage")
    # "/unrole 楼栋长": the role the officer means to remove, checked against the one held.
    expected = role_of(" ".join(rest)) if rest else None
    change = await asked.services.roles.revoke(asked.actor, asked.place, target_id, expected)
    return _changed("roles.revoked", change, change.previous)


def _changed(key: str, change: RoleChange, role: str | None) -> Reply:
    """Who now has (or no longer has) which role where."""
    return said(
        key, user=person(change.user), role=Said(f"role_names.{role}"), name=change.node.name
    )


async def roles(asked: Asked) -> Reply:
    listing = await asked.services.roles.roles_here(asked.place)
    parts: list[Line] = [Said("roles.list_title")]
    for entry in listing:
        parts += [
            "",
            Said(
                "roles.list_node",
                {"level": Said(f"levels.{entry.node.level}"), "name": entry.node.name},
            ),
        ]
        parts += [
            Said("roles.list_line", {"user": person(h.user), "role": Said(f"role_names.{h.role}")})
            for h in entry.holders
        ] or [Said("roles.list_none")]
    return lines(*parts)


COMMANDS = {"role": role, "unrole": unrole, "roles": roles}
