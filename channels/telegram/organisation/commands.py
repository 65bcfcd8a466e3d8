"""/setup, /newgrid, /newbuilding, /bind, /unbind, and the chat's own life events."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from channels.telegram.common import (
    actor_of,
    answers_refusals,
    command_text,
    is_chat_admin,
    place_of,
    reply,
    send_html,
)
from channels.telegram.context import AppContext
from storage.records import Level

log = logging.getLogger(__name__)


@answers_refusals
async def setup(update: Update, context: AppContext) -> None:
    node = await context.services.orgs.setup(
        actor_of(update, context), place_of(update), command_text(update)
    )
    await reply(update, context, context.t("orgs.setup_done", name=node.name))


async def _issue(update: Update, context: AppContext, level: Level) -> None:
    issued = await context.services.orgs.issue_code(
        actor_of(update, context), place_of(update), command_text(update), level
    )
    zone = context.settings.zone
    await reply(
        update,
        context,
        context.t(
            "orgs.code_issued",
            level=context.t(f"levels.{issued.level}"),
            name=issued.name,
            code=issued.code,
            expires=context.bot_data.translator.datetime(context.locale, issued.expires_at, zone),
        ),
    )


@answers_refusals
async def newgrid(update: Update, context: AppContext) -> None:
    await _issue(update, context, Level.GRID)


@answers_refusals
async def newbuilding(update: Update, context: AppContext) -> None:
    await _issue(update, context, Level.BUILDING)


@answers_refusals
async def bind(update: Update, context: AppContext) -> None:
    place, actor = place_of(update), actor_of(update, context)
    admin = place.is_group and await is_chat_admin(context, place.chat_id, actor.user_id)
    bound = await context.services.orgs.bind(
        actor, place, command_text(update), is_chat_admin=admin
    )
    parent_name = bound.parent.name if bound.parent else ""
    await reply(
        update,
        context,
        context.t(
            "orgs.bound",
            level=context.t(f"levels.{bound.node.level}"),
            name=bound.node.name,
            parent=parent_name,
        ),
    )


@answers_refusals
async def unbind(update: Update, context: AppContext) -> None:
    node = await context.services.orgs.unbind(actor_of(update, context), place_of(update))
    await reply(
        update,
        context,
        context.t("orgs.unbound", level=context.t(f"levels.{node.level}"), name=node.name),
    )


async def bot_membership(update: Update, context: AppContext) -> None:
    """The bot was added to, promoted in, or removed from a chat (``my_chat_member``)."""
    change = update.my_chat_member
    if change is None or change.chat.type == "private":
        return
    status = change.new_chat_member.status
    by = change.from_user.id if change.from_user else None
    result = await context.services.orgs.bot_membership_changed(
        change.chat.id, str(status), by_user_id=by
    )
    if not result.active:  # the parent node's chat is told through the outbox
        return
    old = change.old_chat_member.status
    if old in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        key = "orgs.greeting_unbound" if result.node is None else "orgs.greeting_back"
        name = result.node.name if result.node else ""
        await send_html(context, change.chat.id, key, name=name)
    if status != ChatMemberStatus.ADMINISTRATOR and old != status:
        await send_html(context, change.chat.id, "orgs.not_admin_hint")


async def chat_migrated(update: Update, context: AppContext) -> None:
    """A group became a supergroup; the binding follows the new chat id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    migration = await context.services.orgs.chat_migrated(old, new)
    node = migration.node
    log.info("chat %s migrated to %s (node %s)", old, new, node.id if node else None)
    if node is not None and message.migrate_from_chat_id:
        try:
            await send_html(context, new, "orgs.migrated", name=node.name)
        except TelegramError as error:
            log.warning("could not greet migrated chat %s: %s", new, error)


async def member_changed(update: Update, context: AppContext) -> None:
    """Someone joined or left a group where the bot is an administrator (``chat_member``)."""
    change = update.chat_member
    if change is None or change.new_chat_member.user.is_bot:
        return
    status = change.new_chat_member.status
    present = status in (
        ChatMemberStatus.OWNER,
        ChatMemberStatus.ADMINISTRATOR,
        ChatMemberStatus.MEMBER,
    ) or (
        status == ChatMemberStatus.RESTRICTED
        and bool(getattr(change.new_chat_member, "is_member", False))
    )
    await context.services.people.membership_changed(
        change.chat.id, change.new_chat_member.user.id, present
    )
