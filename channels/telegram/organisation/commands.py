"""The chat's own life events: the bot added or removed, a group migrated, members changing."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from channels.telegram.common import (
    send_html,
)
from channels.telegram.context import AppContext

log = logging.getLogger(__name__)


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
