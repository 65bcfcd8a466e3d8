"""/start, /help and /lang."""

from __future__ import annotations

from telegram import Update

from channels.telegram.command_menu import PRIVATE, UNBOUND, commands_for
from channels.telegram.common import (
    actor_of,
    answers_refusals,
    command_text,
    place_of,
    reply,
    stale_button,
)
from channels.telegram.context import AppContext
from channels.telegram.feedback.opinions import start_private_opinion
from locales import Html


def node_path(context: AppContext, names: list[str]) -> str:
    return " › ".join(names)


@answers_refusals
async def start(update: Update, context: AppContext) -> None:
    place = place_of(update)
    user = update.effective_user
    assert user is not None
    if not place.is_group:
        await context.services.people.mark_started(user.id)
        payload = command_text(update)
        if payload and await start_private_opinion(update, context, payload):
            return
        await reply(update, context, context.t("general.start_private", name=user.first_name))
        return
    standing = await context.services.roles.standing(actor_of(update, context), place.chat_id)
    if standing.node is None:
        await reply(update, context, context.t("general.start_unbound"))
    else:
        await reply(
            update,
            context,
            context.t(
                "general.start_bound", path=node_path(context, [n.name for n in standing.path])
            ),
        )


@answers_refusals
async def help_command(update: Update, context: AppContext) -> None:
    place = place_of(update)
    actor = actor_of(update, context)
    standing = await context.services.roles.standing(actor, place.chat_id)
    if not place.is_group:
        where = PRIVATE
        header = context.t("general.help_private")
    elif standing.node is None:
        where = UNBOUND
        header = context.t("general.help_unbound")
    else:
        where = standing.node.level
        header = context.t(
            "general.help_bound",
            path=node_path(context, [node.name for node in standing.path]),
            role=context.t(f"role_names.{standing.rank.role_name}"),
        )
    lines = [
        context.t(
            "general.help_line", command=spec.name, text=context.plain(f"commands.{spec.name}")
        )
        for spec in commands_for(where, standing.rank)
    ]
    # What a secret ballot does not hide is said on each secret topic (topics.secret) and in
    # the README, not to every resident who asks for the commands.
    await reply(update, context, Html(header + "\n\n" + "\n".join(lines)))


@answers_refusals
async def unknown_button(update: Update, context: AppContext) -> None:
    """A button whose data no handler recognises (garbage, tampered or from an old version)."""
    if update.callback_query is not None:
        raise stale_button()
