"""/role, /unrole and /roles."""

from __future__ import annotations

import re

from telegram import Update

from bot.services.errors import Refusal
from bot.services.organisation.people import SeenUser
from bot.services.organisation.permissions import GRANTABLE
from bot.services.organisation.roles import role_of
from channels.telegram.common import (
    actor_of,
    answers_refusals,
    command_text,
    place_of,
    replied_message,
    reply,
    user_label,
)
from channels.telegram.context import AppContext
from locales import Html


async def _target(
    update: Update, context: AppContext, args: list[str], usage: str = "roles.who"
) -> tuple[int, list[str]]:
    """The user a role command is about: the replied-to author, or a numeric id first argument.

    Neither is refused as ``usage``, the command's own explanation.
    """
    message = update.effective_message
    replied = replied_message(message)
    if replied is not None and replied.from_user is not None:
        author = replied.from_user
        if author.is_bot:
            raise Refusal("roles.not_a_bot")
        await context.services.people.seen(
            SeenUser(
                user_id=author.id,
                first_name=author.first_name,
                last_name=author.last_name,
                username=author.username,
                language_code=author.language_code,
            ),
            None,
            None,
            None,
        )
        return author.id, args
    if args and re.fullmatch(r"\d{1,15}", args[0]):
        return int(args[0]), args[1:]
    raise Refusal(usage)


@answers_refusals
async def role(update: Update, context: AppContext) -> None:
    target_id, rest = await _target(update, context, command_text(update).split())
    if not rest:
        raise Refusal("roles.role_usage", roles=tuple(GRANTABLE))
    change = await context.services.roles.grant(
        actor_of(update, context), place_of(update), target_id, " ".join(rest)
    )
    await reply(
        update,
        context,
        context.t(
            "roles.granted",
            user=user_label(change.user.first_name, change.user.last_name, change.user.user_id),
            role=context.t(f"role_names.{change.role}"),
            name=change.node.name,
        ),
    )


@answers_refusals
async def unrole(update: Update, context: AppContext) -> None:
    target_id, rest = await _target(
        update, context, command_text(update).split(), "roles.unrole_usage"
    )
    # "/unrole 楼栋长": the role the officer means to remove, checked against the one held.
    expected = role_of(" ".join(rest)) if rest else None
    change = await context.services.roles.revoke(
        actor_of(update, context), place_of(update), target_id, expected
    )
    await reply(
        update,
        context,
        context.t(
            "roles.revoked",
            user=user_label(change.user.first_name, change.user.last_name, change.user.user_id),
            role=context.t(f"role_names.{change.previous}"),
            name=change.node.name,
        ),
    )


@answers_refusals
async def roles(update: Update, context: AppContext) -> None:
    listing = await context.services.roles.roles_here(place_of(update))
    sections = []
    for entry in listing:
        header = context.t(
            "roles.list_node", level=context.t(f"levels.{entry.node.level}"), name=entry.node.name
        )
        if entry.holders:
            lines = [
                context.t(
                    "roles.list_line",
                    user=user_label(h.user.first_name, h.user.last_name, h.user.user_id),
                    role=context.t(f"role_names.{h.role}"),
                )
                for h in entry.holders
            ]
        else:
            lines = [context.t("roles.list_none")]
        sections.append(header + "\n" + "\n".join(lines))
    await reply(
        update, context, Html(context.t("roles.list_title") + "\n\n" + "\n\n".join(sections))
    )
