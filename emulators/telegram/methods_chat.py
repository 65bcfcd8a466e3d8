"""Bot API methods about the bot itself, updates, webhooks, commands and chats."""

from __future__ import annotations

import json
import re
from typing import Any

from emulators.telegram import errors as E
from emulators.telegram.errors import ApiError, bad_request
from emulators.telegram.forums import ICON_COLOR, open_topic
from emulators.telegram.methods import Method, resolve_chat
from emulators.telegram.params import Params
from emulators.telegram.webhook import SECRET_TOKEN, WebhookSettings
from emulators.telegram.world import PRESENT_STATUSES, World, admin_rights

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)


async def get_me(world: World, p: Params) -> Any:
    me = world.user_json(world.bot)
    me.update(
        {
            "can_join_groups": True,
            "can_read_all_group_messages": not world.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
    )
    return me


async def ok(world: World, p: Params) -> Any:
    return True


async def get_updates(world: World, p: Params) -> Any:
    if world.webhook.url:
        raise ApiError(409, E.WEBHOOK_ACTIVE)
    limit = min(max(p.get_int("limit", 100) or 100, 1), 100)
    allowed = p.get_list("allowed_updates")
    return await world.updates.get(
        offset=p.get_int("offset"),
        limit=limit,
        timeout=max(p.get_float("timeout", 0.0), 0.0),
        allowed_updates=[str(a) for a in allowed] if allowed is not None else None,
    )


async def set_webhook(world: World, p: Params) -> Any:
    url = p.get_str("url") or ""
    if url and not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.get_str("secret_token")
    if secret is not None and not SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    connections = p.get_int("max_connections", 40) or 40
    if not 1 <= connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    if p.get_bool("drop_pending_updates"):
        world.updates.drop_pending()
    allowed = p.get_list("allowed_updates")
    if allowed is not None:
        world.updates.allowed_updates = [str(a) for a in allowed]
    world.webhook = WebhookSettings(url, secret or None, connections) if url else WebhookSettings()
    world.changed()
    return True


async def delete_webhook(world: World, p: Params) -> Any:
    if p.get_bool("drop_pending_updates"):
        world.updates.drop_pending()
    world.webhook = WebhookSettings()
    world.changed()
    return True


async def get_webhook_info(world: World, p: Params) -> Any:
    info: dict[str, Any] = {
        "url": world.webhook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates.pending),
    }
    if world.webhook.url:
        info["max_connections"] = world.webhook.max_connections
    if world.webhook.last_error_date is not None:
        info["last_error_date"] = world.webhook.last_error_date
        info["last_error_message"] = world.webhook.last_error_message
    if world.updates.allowed_updates:
        info["allowed_updates"] = world.updates.allowed_updates
    return info


def _commands_key(world: World, p: Params) -> tuple[str, str]:
    scope = p.get_dict("scope") or {"type": "default"}
    if scope.get("type") not in _SCOPE_TYPES:
        raise bad_request("wrong BotCommandScope type specified")
    if scope["type"].startswith("chat"):
        if "chat_id" not in scope:
            raise bad_request("chat_id is empty")
        resolve_chat(world, int(scope["chat_id"]), write=False)
    lang = p.get_str("language_code") or ""
    return json.dumps(scope, sort_keys=True, separators=(",", ":")), lang


async def set_my_commands(world: World, p: Params) -> Any:
    commands = p.get_list("commands")
    if commands is None:
        raise bad_request('parameter "commands" is required')
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    stored: list[dict[str, Any]] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand")
        command = str(item.get("command", ""))
        description = str(item.get("description", ""))
        if not _COMMAND_RE.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        stored.append({"command": command, "description": description})
    world.commands[_commands_key(world, p)] = stored
    world.changed()
    return True


async def get_my_commands(world: World, p: Params) -> Any:
    return world.commands.get(_commands_key(world, p), [])


async def delete_my_commands(world: World, p: Params) -> Any:
    world.commands.pop(_commands_key(world, p), None)
    world.changed()
    return True


async def get_chat(world: World, p: Params) -> Any:
    return world.chat_full_json(resolve_chat(world, p.chat_id(), write=False))


async def get_chat_member(world: World, p: Params) -> Any:
    chat = resolve_chat(world, p.chat_id(), write=False)
    user_id = p.get_int("user_id")
    if user_id is None:
        raise bad_request("user_id is empty")
    world.api_user(user_id)
    if chat.is_private:
        status = "member" if user_id in (chat.id, world.bot.id) else "left"
        return world.member_json(chat, user_id, status)
    return world.member_json(chat, user_id)


async def get_chat_administrators(world: World, p: Params) -> Any:
    chat = resolve_chat(world, p.chat_id(), write=False)
    if chat.is_private:
        raise bad_request("there are no administrators in the private chat")
    admins = [
        world.member_json(chat, uid, status)
        for uid, status in chat.members.items()
        if status in ("creator", "administrator")
    ]
    if chat.bot_status == "administrator":
        admins.append(world.member_json(chat, world.bot.id))
    return admins


async def get_chat_member_count(world: World, p: Params) -> Any:
    chat = resolve_chat(world, p.chat_id(), write=False)
    if chat.is_private:
        return 2
    count = sum(1 for status in chat.members.values() if status in PRESENT_STATUSES)
    return count + (1 if chat.bot_status in PRESENT_STATUSES else 0)


async def leave_chat(world: World, p: Params) -> Any:
    chat = resolve_chat(world, p.chat_id(), write=False)
    if chat.is_private:
        raise bad_request("chat member status can't be changed in private chats")
    old = chat.bot_status
    chat.bot_status = "left"
    payload = world.member_update_json(chat, world.bot.id, world.bot.id, old, "left")
    world.updates.enqueue("my_chat_member", payload)
    world.changed()
    return True


async def pin_chat_message(world: World, p: Params) -> Any:
    chat = resolve_chat(world, p.chat_id())
    if not chat.is_private and chat.bot_status != "administrator":
        raise bad_request("not enough rights to manage pinned messages in the chat")
    message_id = p.get_int("message_id")
    target = world.message(chat.id, message_id) if message_id is not None else None
    if target is None or target.deleted:
        raise bad_request("message to pin not found")
    chat.pinned_message_id = target.message_id
    pinned = world.message_json(target, nested=False)
    world.add_message(chat, world.bot.id, service={"pinned_message": pinned})
    return True


async def unpin_chat_message(world: World, p: Params) -> Any:
    chat = resolve_chat(world, p.chat_id())
    if not chat.is_private and chat.bot_status != "administrator":
        raise bad_request("not enough rights to manage pinned messages in the chat")
    chat.pinned_message_id = None
    world.changed()
    return True


async def send_chat_action(world: World, p: Params) -> Any:
    resolve_chat(world, p.chat_id())
    if not p.get_str("action"):
        raise bad_request("wrong parameter action in request")
    return True


def _store(key: str) -> Method:
    """A setX stub remembering its parameters for the matching getX."""

    async def setter(world: World, p: Params) -> Any:
        world.bot_settings[key] = p.log_view()
        world.changed()
        return True

    return setter


def _stored(world: World, key: str) -> dict[str, Any]:
    value = world.bot_settings.get(key)
    return value if isinstance(value, dict) else {}


async def get_my_name(world: World, p: Params) -> Any:
    return {"name": _stored(world, "name").get("name") or world.bot.first_name}


async def get_my_description(world: World, p: Params) -> Any:
    return {"description": _stored(world, "description").get("description", "")}


async def get_my_short_description(world: World, p: Params) -> Any:
    stored = _stored(world, "short_description")
    return {"short_description": stored.get("short_description", "")}


async def get_chat_menu_button(world: World, p: Params) -> Any:
    return _stored(world, "menu_button").get("menu_button") or {"type": "commands"}


async def get_my_default_administrator_rights(world: World, p: Params) -> Any:
    stored = _stored(world, "rights").get("rights")
    if isinstance(stored, dict):
        return stored
    rights = admin_rights()
    rights.pop("can_be_edited")
    return dict.fromkeys(rights, False)


async def create_forum_topic(world: World, p: Params) -> Any:
    chat = resolve_chat(world, p.chat_id())
    name = p.get_str("name")
    if not name or len(name) > 128:
        raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
    if chat.bot_status != "administrator":
        raise bad_request(E.NOT_ENOUGH_RIGHTS_TOPICS)
    msg = open_topic(world, chat, world.bot.id, name)
    return {"message_thread_id": msg.message_id, "name": name, "icon_color": ICON_COLOR}


METHODS: dict[str, Method] = {
    "createForumTopic": create_forum_topic,
    "getMe": get_me,
    "logOut": ok,
    "close": ok,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getChatAdministrators": get_chat_administrators,
    "getChatMemberCount": get_chat_member_count,
    "getChatMembersCount": get_chat_member_count,
    "leaveChat": leave_chat,
    "pinChatMessage": pin_chat_message,
    "unpinChatMessage": unpin_chat_message,
    "unpinAllChatMessages": unpin_chat_message,
    "sendChatAction": send_chat_action,
    "setMyName": _store("name"),
    "getMyName": get_my_name,
    "setMyDescription": _store("description"),
    "getMyDescription": get_my_description,
    "setMyShortDescription": _store("short_description"),
    "getMyShortDescription": get_my_short_description,
    "setChatMenuButton": _store("menu_button"),
    "getChatMenuButton": get_chat_menu_button,
    "setMyDefaultAdministratorRights": _store("rights"),
    "getMyDefaultAdministratorRights": get_my_default_administrator_rights,
}
