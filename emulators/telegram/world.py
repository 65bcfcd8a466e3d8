"""In-memory state of the emulated Telegram world: users, chats, members, messages, files."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from emulators.telegram.errors import CHAT_NOT_FOUND, USER_NOT_FOUND, bad_request
from emulators.telegram.updates import UpdateQueue
from emulators.telegram.webhook import WebhookSettings

ChatType = Literal["private", "group", "supergroup"]
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
PRESENT_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})


@dataclass
class EmuUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False


@dataclass
class EmuChat:
    id: int
    type: ChatType
    title: str | None = None
    members: dict[int, str] = field(default_factory=dict)
    bot_status: str = "member"
    migrated_to: int | None = None
    migrated_from: int | None = None
    next_message_id: int = 1
    pinned_message_id: int | None = None
    is_forum: bool = False  # topics enabled; ``forum_topics``: thread id -> name
    forum_topics: dict[int, str] = field(default_factory=dict)

    @property
    def is_private(self) -> bool:
        return self.type == "private"


@dataclass
class MessageVersion:
    """A previous state of a message (kept in ``EmuMessage.history`` on every edit)."""

    text: str | None
    caption: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    date: int


@dataclass
class EmuMessage:
    chat_id: int
    message_id: int
    from_user: int
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None  # inline keyboards only, as Telegram echoes
    reply_keyboard: dict[str, Any] | None = None  # reply keyboard / remove / force_reply
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    deleted: bool = False
    from_bot: bool = False
    parse_mode: str | None = None
    raw_text: str | None = None  # the text/caption exactly as sent (before HTML parsing)
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    service: dict[str, Any] = field(default_factory=dict)
    link_preview_options: dict[str, Any] | None = None
    history: list[MessageVersion] = field(default_factory=list)
    message_thread_id: int | None = None  # the forum topic it is in (None: General)

    def button_rows(self) -> list[list[dict[str, Any]]]:
        if not self.reply_markup:
            return []
        rows: list[list[dict[str, Any]]] = self.reply_markup.get("inline_keyboard", [])
        return rows

    def button_texts(self) -> list[str]:
        return [str(b.get("text")) for row in self.button_rows() for b in row]

    def button(self, text: str) -> dict[str, Any]:
        for row in self.button_rows():
            for b in row:
                if b.get("text") == text:
                    return b
        raise LookupError(
            f"no inline button {text!r} on message {self.message_id} in chat {self.chat_id}; "
            f"available: {self.button_texts()!r}"
        )

    def summary(self) -> str:
        who = "bot" if self.from_bot else f"user {self.from_user}"
        body = self.text if self.text is not None else self.caption
        if body is not None:
            shown = repr(body)
        else:
            shown = f"<service {', '.join(sorted(self.service))}>" if self.service else "<media>"
        line = f"#{self.message_id} [{who}] {shown}"
        if self.reply_to_message_id:
            line += f" (reply to #{self.reply_to_message_id})"
        if self.button_texts():
            line += f" buttons={self.button_texts()!r}"
        if self.edit_date:
            line += " (edited)"
        if self.deleted:
            line += " (deleted)"
        return line


@dataclass
class EmuFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    filename: str | None
    mime_type: str | None
    kind: str  # "document" | "photo"


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    time: float
    ok: bool | None = None  # None while in flight
    error_code: int | None = None
    description: str | None = None
    result: Any = None


@dataclass
class CallbackRecord:
    id: str
    chat_id: int
    message_id: int
    user_id: int
    data: str | None
    created: float
    answer: dict[str, Any] | None = None
    answered: float | None = None  # when the bot answered (world clock)


class World:
    """All emulator state; every mutation should be followed by :meth:`changed`."""

    def __init__(self, bot: EmuUser, clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.clock = clock
        self.users: dict[int, EmuUser] = {bot.id: bot}
        self.chats: dict[int, EmuChat] = {}
        self.messages: dict[int, dict[int, EmuMessage]] = {}
        self.files: dict[str, EmuFile] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.calls: list[ApiCall] = []
        self.updates = UpdateQueue(self.changed)
        self.webhook = WebhookSettings()  # setWebhook's; the emulator's WebhookSender posts
        self.privacy_mode = True
        self.strict_html = True  # reject a bare "&" in HTML (real Telegram keeps it)
        self.callback_ttl: float | None = None
        self.bot_settings: dict[str, Any] = {}
        self.version = 0
        self.inflight = 0  # Bot API calls in progress, getUpdates excluded
        self.last_activity = time.monotonic()
        self._event: asyncio.Event | None = None
        self._counter = 0

    # -- change notification ---------------------------------------------------------------
    def changed(self, activity: bool = True) -> None:
        """Wakes all waiters; ``activity=False`` for changes that do not count for wait_idle."""
        self.version += 1
        if activity:
            self.last_activity = time.monotonic()
        if self._event is not None:
            self._event.set()
            self._event = None

    def change_event(self) -> asyncio.Event:
        """An event that is set at the next state change."""
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def now(self) -> int:
        return int(self.clock())

    def next_serial(self) -> int:
        self._counter += 1
        return self._counter

    # -- lookups ---------------------------------------------------------------------------
    def user(self, user_id: int) -> EmuUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise LookupError(f"unknown user {user_id}; create it with add_user()") from None

    def chat(self, chat_id: int) -> EmuChat:
        try:
            return self.chats[chat_id]
        except KeyError:
            raise LookupError(f"unknown chat {chat_id}") from None

    def api_chat(self, chat_id: int) -> EmuChat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request(CHAT_NOT_FOUND)
        return chat

    def api_user(self, user_id: int) -> EmuUser:
        user = self.users.get(user_id)
        if user is None:
            raise bad_request(USER_NOT_FOUND)
        return user

    def message(self, chat_id: int, message_id: int) -> EmuMessage | None:
        return self.messages.get(chat_id, {}).get(message_id)

    def status_of(self, chat: EmuChat, user_id: int) -> str:
        if user_id == self.bot.id:
            return chat.bot_status
        return chat.members.get(user_id, "left")

    # -- mutation --------------------------------------------------------------------------
    def add_message(self, chat: EmuChat, from_user: int, **fields: Any) -> EmuMessage:
        msg = EmuMessage(
            chat_id=chat.id,
            message_id=chat.next_message_id,
            from_user=from_user,
            date=self.now(),
            from_bot=from_user == self.bot.id,
            **fields,
        )
        chat.next_message_id += 1
        self.messages.setdefault(chat.id, {})[msg.message_id] = msg
        self.changed()
        return msg

    # -- JSON builders (Telegram shapes) ---------------------------------------------------
    def user_json(self, user: EmuUser | int) -> dict[str, Any]:
        if isinstance(user, int):
            user = self.user(user)
        data: dict[str, Any] = {"id": user.id, "is_bot": user.is_bot, "first_name": user.first_name}
        if user.last_name:
            data["last_name"] = user.last_name
        if user.username:
            data["username"] = user.username
        if user.language_code and not user.is_bot:
            data["language_code"] = user.language_code
        return data

    def chat_json(self, chat: EmuChat) -> dict[str, Any]:
        if chat.is_private:
            user = self.users.get(chat.id)
            data: dict[str, Any] = {"id": chat.id, "first_name": user.first_name if user else ""}
            if user and user.last_name:
                data["last_name"] = user.last_name
            if user and user.username:
                data["username"] = user.username
            data["type"] = "private"
            return data
        data = {"id": chat.id, "title": chat.title or "", "type": chat.type}
        return {**data, "is_forum": True} if chat.is_forum else data

    def message_json(self, msg: EmuMessage, *, nested: bool = True) -> dict[str, Any]:
        chat = self.chat(msg.chat_id)
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": self.user_json(msg.from_user),
            "chat": self.chat_json(chat),
            "date": msg.date,
        }
        if msg.message_thread_id is not None:
            data.update(message_thread_id=msg.message_thread_id, is_topic_message=True)
        # In a forum topic, a message that replies to nothing replies to the topic's creation
        # (its id is the thread's), as Telegram shows it.
        replied = msg.reply_to_message_id or msg.message_thread_id
        if nested and replied is not None and replied != msg.message_id:
            target = self.message(msg.chat_id, replied)
            if target is not None and not target.deleted:
                data["reply_to_message"] = self.message_json(target, nested=False)
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        if msg.text is not None:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = msg.entities
        if msg.document is not None:
            data["document"] = msg.document
        if msg.photo is not None:
            data["photo"] = msg.photo
        if msg.caption is not None:
            data["caption"] = msg.caption
            if msg.caption_entities:
                data["caption_entities"] = msg.caption_entities
        if msg.link_preview_options is not None:
            data["link_preview_options"] = msg.link_preview_options
        data.update(msg.service)
        if msg.reply_markup is not None:
            data["reply_markup"] = msg.reply_markup
        return data

    def member_json(self, chat: EmuChat, user_id: int, status: str | None = None) -> dict[str, Any]:
        status = status or self.status_of(chat, user_id)
        data: dict[str, Any] = {"user": self.user_json(user_id), "status": status}
        if status == "creator":
            data["is_anonymous"] = False
        elif status == "administrator":
            data.update(admin_rights(can_be_edited=user_id == self.bot.id))
        elif status == "kicked":
            data["until_date"] = 0
        elif status == "restricted":
            data.update(restricted_rights())
        return data

    def member_update_json(
        self, chat: EmuChat, actor_id: int, user_id: int, old: str, new: str
    ) -> dict[str, Any]:
        """A ChatMemberUpdated object (payload of my_chat_member / chat_member updates)."""
        return {
            "chat": self.chat_json(chat),
            "from": self.user_json(actor_id),
            "date": self.now(),
            "old_chat_member": self.member_json(chat, user_id, old),
            "new_chat_member": self.member_json(chat, user_id, new),
        }

    def chat_full_json(self, chat: EmuChat) -> dict[str, Any]:
        data = self.chat_json(chat)
        data.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        if chat.pinned_message_id is not None:
            pinned = self.message(chat.id, chat.pinned_message_id)
            if pinned is not None and not pinned.deleted:
                data["pinned_message"] = self.message_json(pinned, nested=False)
        if chat.migrated_from is not None:
            data["migrated_from_chat_id"] = chat.migrated_from
        return data

    def chat_instance(self, chat_id: int) -> str:
        return str((chat_id * 0x9E3779B97F4A7C15) % (1 << 63))


def admin_rights(*, can_be_edited: bool = False) -> dict[str, Any]:
    rights: dict[str, Any] = {"can_be_edited": can_be_edited, "is_anonymous": False}
    for name in (
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_promote_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
        "can_pin_messages",
        "can_manage_topics",
    ):
        rights[name] = name != "can_promote_members"
    return rights


def restricted_rights() -> dict[str, Any]:
    rights: dict[str, Any] = {"is_member": True, "until_date": 0}
    for name in (
        "can_change_info",
        "can_invite_users",
        "can_pin_messages",
        "can_send_messages",
        "can_send_polls",
        "can_send_other_messages",
        "can_add_web_page_previews",
        "can_manage_topics",
        "can_send_audios",
        "can_send_documents",
        "can_send_photos",
        "can_send_videos",
        "can_send_video_notes",
        "can_send_voice_notes",
        "can_edit_tag",
    ):
        rights[name] = False
    return rights
