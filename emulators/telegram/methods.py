"""Bot API methods dealing with messages, callback queries and files."""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from emulators.telegram import errors as E
from emulators.telegram.entities import format_text
from emulators.telegram.errors import ApiError, bad_request, forbidden
from emulators.telegram.forums import thread_for
from emulators.telegram.params import Params
from emulators.telegram.world import (
    PRESENT_STATUSES,
    EmuChat,
    EmuFile,
    EmuMessage,
    MessageVersion,
    World,
)

Method = Callable[[World, Params], Awaitable[Any]]
_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
)


def resolve_chat(world: World, chat_id: int, *, write: bool = True) -> EmuChat:
    """The chat the bot addresses, raising the errors Telegram gives for unusable chats."""
    chat = world.chats.get(chat_id)
    if chat is None:
        user = world.users.get(chat_id)
        if user is not None and write and not user.is_bot:
            raise forbidden(E.CANT_INITIATE)
        raise bad_request(E.CHAT_NOT_FOUND)
    if chat.migrated_to is not None:
        raise ApiError(
            400, f"Bad Request: {E.GROUP_UPGRADED}", {"migrate_to_chat_id": chat.migrated_to}
        )
    if chat.is_private:
        user = world.users.get(chat.id)
        if user is not None and user.is_bot:
            raise forbidden(E.CANT_SEND_TO_BOTS)
        if write and chat.bot_status == "kicked":
            raise forbidden(E.BLOCKED_BY_USER)
        return chat
    if chat.bot_status == "kicked":
        raise forbidden(E.kicked_from(chat.type))
    if chat.bot_status not in PRESENT_STATUSES:
        raise forbidden(E.not_member_of(chat.type))
    return chat


def parse_markup(
    p: Params, chat: EmuChat | None = None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Returns (inline keyboard markup, other reply markup) after Telegram's validation; with
    the chat, the buttons a chat of its type may not carry are refused too."""
    markup = p.get_dict("reply_markup")
    if markup is None:
        return None, None
    if "inline_keyboard" not in markup:
        return None, markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            if not any(k in button for k in _BUTTON_ACTIONS):
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise bad_request(E.BUTTON_DATA_INVALID)
            if "url" in button:
                _check_button_url(button["url"])
            if "web_app" in button:
                _check_web_app(button["web_app"], chat)
    return {"inline_keyboard": rows}, None


def _check_button_url(url: Any) -> None:
    """An inline button's ``url``: "HTTP or tg:// URL" (Bot API, InlineKeyboardButton): an
    http(s) URL with a host and no blanks, or a tg:// link."""
    if not isinstance(url, str) or not url or any(ch.isspace() for ch in url):
        raise bad_request(E.BUTTON_URL_INVALID)
    if url.startswith("tg://"):
        return
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise bad_request(
            f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol"
        )
    if not parts.hostname:
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _check_web_app(web_app: Any, chat: EmuChat | None) -> None:
    """A ``web_app`` button: "Available only in private chats between a user and the bot"
    (Bot API, InlineKeyboardButton), and its WebAppInfo's url "An HTTPS URL"."""
    if chat is not None and not chat.is_private:
        raise bad_request(E.BUTTON_TYPE_INVALID)
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(url, str) or urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
        raise bad_request(E.BUTTON_URL_INVALID)


def reply_target(world: World, chat: EmuChat, p: Params) -> int | None:
    params = p.get_dict("reply_parameters")
    allow = p.get_bool("allow_sending_without_reply")
    message_id: Any = None
    if params is not None:
        message_id = params.get("message_id")
        allow = bool(params.get("allow_sending_without_reply", allow))
    elif p.has("reply_to_message_id"):
        message_id = p.get_int("reply_to_message_id")
    if message_id is None:
        return None
    target = world.message(chat.id, int(message_id))
    if target is None or target.deleted:
        if allow:
            return None
        raise bad_request(E.REPLY_NOT_FOUND)
    return int(message_id)


async def send_message(world: World, p: Params) -> Any:
    chat = resolve_chat(world, p.chat_id())
    raw = p.get_str("text")
    parse_mode = p.get_str("parse_mode")
    text, entities = format_text(
        raw, parse_mode, p.get_list("entities"), strict_html=world.strict_html
    )
    inline, other = parse_markup(p, chat)
    reply_to = reply_target(world, chat, p)
    thread = thread_for(world, chat, p, reply_to)
    msg = world.add_message(
        chat,
        world.bot.id,
        message_thread_id=thread,
        text=text,
        entities=entities,
        reply_markup=inline,
        reply_keyboard=other,
        reply_to_message_id=reply_to,
        parse_mode=parse_mode,
        raw_text=raw,
        link_preview_options=p.get_dict("link_preview_options"),
    )
    return world.message_json(msg)


def _editable(world: World, p: Params) -> tuple[EmuChat, EmuMessage]:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = resolve_chat(world, p.chat_id())
    message_id = p.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    msg = world.message(chat.id, message_id)
    if msg is None or msg.deleted:
        raise bad_request(E.MESSAGE_TO_EDIT_NOT_FOUND)
    if not msg.from_bot or msg.service:
        raise bad_request(E.MESSAGE_CANT_BE_EDITED)
    return chat, msg


def apply_edit(world: World, msg: EmuMessage, **changes: Any) -> None:
    """Applies an edit, raising "message is not modified" when nothing changes."""
    if all(getattr(msg, key) == value for key, value in changes.items()):
        raise bad_request(E.NOT_MODIFIED)
    msg.history.append(
        MessageVersion(
            msg.text, msg.caption, list(msg.entities), msg.reply_markup, msg.edit_date or msg.date
        )
    )
    for key, value in changes.items():
        setattr(msg, key, value)
    msg.edit_date = world.now()
    world.changed()


async def edit_message_text(world: World, p: Params) -> Any:
    chat, msg = _editable(world, p)
    if msg.text is None:
        raise bad_request("there is no text in the message to edit")
    raw = p.get_str("text")
    parse_mode = p.get_str("parse_mode")
    text, entities = format_text(
        raw, parse_mode, p.get_list("entities"), strict_html=world.strict_html
    )
    inline, _ = parse_markup(p, chat)
    # Without reply_markup, Telegram removes the inline keyboard of the edited message.
    apply_edit(world, msg, text=text, entities=entities, reply_markup=inline)
    msg.parse_mode, msg.raw_text = parse_mode, raw
    link_preview = p.get_dict("link_preview_options")
    if link_preview is not None:
        msg.link_preview_options = link_preview
    return world.message_json(msg)


async def edit_message_caption(world: World, p: Params) -> Any:
    chat, msg = _editable(world, p)
    if msg.text is not None:
        raise bad_request("there is no caption in the message to edit")
    raw = p.get_str("caption")
    parse_mode = p.get_str("parse_mode")
    caption, entities = format_text(
        raw,
        parse_mode,
        p.get_list("caption_entities"),
        caption=True,
        strict_html=world.strict_html,
    )
    inline, _ = parse_markup(p, chat)
    apply_edit(world, msg, caption=caption or None, caption_entities=entities, reply_markup=inline)
    msg.parse_mode, msg.raw_text = parse_mode, raw
    return world.message_json(msg)


async def edit_message_reply_markup(world: World, p: Params) -> Any:
    chat, msg = _editable(world, p)
    inline, _ = parse_markup(p, chat)
    apply_edit(world, msg, reply_markup=inline)
    return world.message_json(msg)


def _delete_one(world: World, chat: EmuChat, message_id: int) -> None:
    msg = world.message(chat.id, message_id)
    if msg is None or msg.deleted:
        raise bad_request(E.MESSAGE_TO_DELETE_NOT_FOUND)
    if not msg.from_bot and not chat.is_private and chat.bot_status != "administrator":
        raise bad_request(E.MESSAGE_CANT_BE_DELETED)
    msg.deleted = True
    world.changed()


async def delete_message(world: World, p: Params) -> Any:
    chat = resolve_chat(world, p.chat_id())
    message_id = p.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    _delete_one(world, chat, message_id)
    return True


async def delete_messages(world: World, p: Params) -> Any:
    chat = resolve_chat(world, p.chat_id())
    for message_id in p.get_list("message_ids") or []:
        with contextlib.suppress(ApiError):
            _delete_one(world, chat, int(message_id))
    return True


async def answer_callback_query(world: World, p: Params) -> Any:
    query_id = p.get_str("callback_query_id") or ""
    record = world.callbacks.get(query_id)
    expired = (
        record is not None
        and world.callback_ttl is not None
        and world.clock() - record.created > world.callback_ttl
    )
    if record is None or record.answer is not None or expired:
        raise bad_request(E.QUERY_TOO_OLD)
    text = p.get_str("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answer = {
        "text": text,
        "show_alert": p.get_bool("show_alert"),
        "url": p.get_str("url"),
        "cache_time": p.get_int("cache_time"),
    }
    record.answered = world.clock()
    world.changed()
    return True


def _image_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 0, 0


def _resolve_file(world: World, p: Params, kind: str) -> EmuFile:
    upload = p.files.get(kind)
    value = p.raw(kind)
    if upload is None and isinstance(value, str) and value.startswith("attach://"):
        upload = p.files.get(value.removeprefix("attach://"))
    if upload is not None:
        if not upload.data:
            raise bad_request("file must be non-empty")
        serial = world.next_serial()
        prefix = "BQACAgUAAxkDAAI" if kind == "document" else "AgACAgUAAxkDAAI"
        name = upload.filename or ("photo.jpg" if kind == "photo" else "file")
        ext = name.rsplit(".", 1)[-1] if "." in name else "bin"
        folder = "documents" if kind == "document" else "photos"
        file = EmuFile(
            file_id=f"{prefix}{serial:08d}",
            file_unique_id=f"AgAD{serial:06d}",
            file_path=f"{folder}/file_{serial}.{ext}",
            data=upload.data,
            filename=upload.filename,
            mime_type=upload.content_type,
            kind=kind,
        )
        world.files[file.file_id] = file
        return file
    if isinstance(value, str) and value in world.files:
        return world.files[value]
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        serial = world.next_serial()
        file = EmuFile(
            f"URL{serial:08d}",
            f"AgAD{serial:06d}",
            f"documents/file_{serial}",
            b"",
            value.rsplit("/", 1)[-1] or None,
            None,
            kind,
        )
        world.files[file.file_id] = file
        return file
    if value is None:
        raise bad_request(f"there is no {kind} in the request")
    raise bad_request("wrong file identifier/HTTP URL specified")


async def _send_media(world: World, p: Params, kind: str) -> Any:
    chat = resolve_chat(world, p.chat_id())
    raw = p.get_str("caption")
    parse_mode = p.get_str("parse_mode")
    caption, entities = format_text(
        raw,
        parse_mode,
        p.get_list("caption_entities"),
        caption=True,
        strict_html=world.strict_html,
    )
    file = _resolve_file(world, p, kind)
    inline, other = parse_markup(p, chat)
    reply_to = reply_target(world, chat, p)
    fields: dict[str, Any] = {"message_thread_id": thread_for(world, chat, p, reply_to)}
    base: dict[str, Any] = {"file_id": file.file_id, "file_unique_id": file.file_unique_id}
    if kind == "document":
        document = dict(base)
        if file.filename:
            document["file_name"] = file.filename
        if file.mime_type:
            document["mime_type"] = file.mime_type
        document["file_size"] = len(file.data)
        fields["document"] = document
    else:
        width, height = _image_size(file.data)
        fields["photo"] = [{**base, "file_size": len(file.data), "width": width, "height": height}]
    msg = world.add_message(
        chat,
        world.bot.id,
        caption=caption or None,
        caption_entities=entities,
        reply_markup=inline,
        reply_keyboard=other,
        reply_to_message_id=reply_to,
        parse_mode=parse_mode,
        raw_text=raw,
        **fields,
    )
    return world.message_json(msg)


async def send_document(world: World, p: Params) -> Any:
    return await _send_media(world, p, "document")


async def send_photo(world: World, p: Params) -> Any:
    return await _send_media(world, p, "photo")


async def get_file(world: World, p: Params) -> Any:
    file = world.files.get(p.get_str("file_id") or "")
    if file is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": len(file.data),
        "file_path": file.file_path,
    }


METHODS: dict[str, Method] = {
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "deleteMessages": delete_messages,
    "answerCallbackQuery": answer_callback_query,
    "sendDocument": send_document,
    "sendPhoto": send_photo,
    "getFile": get_file,
}
