"""User-side actions: they change the world and enqueue the updates Telegram would send."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from emulators.telegram.entities import auto_entities
from emulators.telegram.forums import delete_topic, open_topic
from emulators.telegram.world import (
    MEMBER_STATUSES,
    PRESENT_STATUSES,
    CallbackRecord,
    ChatType,
    EmuChat,
    EmuFile,
    EmuMessage,
    EmuUser,
    MessageVersion,
    World,
)

_QUERY_ID_BASE = 4_370_000_000_000_000_000


class Driver:
    """Mixin of :class:`BotApiEmulator` with the "user action" API used by tests."""

    world: World

    # -- users and chats -------------------------------------------------------------------
    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        is_bot: bool = False,
    ) -> EmuUser:
        if user_id <= 0:
            raise ValueError("user ids must be positive")
        user = EmuUser(user_id, first_name, last_name, username, language_code, is_bot)
        self.world.users[user_id] = user
        self.world.changed()
        return user

    def add_group(
        self,
        chat_id: int,
        title: str,
        *,
        members: Iterable[int] = (),
        admins: Iterable[int] = (),
        creator: int | None = None,
        type: ChatType = "supergroup",
        bot_admin: bool = True,
        added_by: int | None = None,
        forum: bool = False,
    ) -> EmuChat:
        """A group with the bot added; ``forum``: a supergroup with topics enabled."""
        if chat_id >= 0:
            raise ValueError("group chat ids must be negative (supergroups: -100...)")
        if type == "private":
            raise ValueError("add_group creates groups; private chats appear on send_message")
        if chat_id in self.world.chats:
            raise ValueError(f"chat {chat_id} already exists")
        if forum and type != "supergroup":
            raise ValueError("only supergroups can be forums")
        chat = EmuChat(chat_id, type, title, bot_status="left", is_forum=forum)
        for status, ids in (("member", members), ("administrator", admins)):
            for user_id in ids:
                self.world.user(user_id)
                chat.members[user_id] = status
        if creator is not None:
            self.world.user(creator)
            chat.members[creator] = "creator"
        actor = added_by if added_by is not None else creator
        if actor is None:
            actor = next(iter(chat.members), None)
        if actor is None:
            raise ValueError("add_group needs creator=, added_by= or members to add the bot")
        if added_by is not None and added_by not in chat.members:
            self.world.user(added_by)
            chat.members[added_by] = "member"
        self.world.chats[chat_id] = chat
        self.add_bot(chat_id, actor, admin=bot_admin)
        return chat

    def add_bot(self, chat_id: int, by_user_id: int, admin: bool = True) -> None:
        chat = self._group(chat_id)
        old = chat.bot_status
        chat.bot_status = "administrator" if admin else "member"
        self._my_chat_member(chat, by_user_id, old, chat.bot_status)
        if old not in PRESENT_STATUSES:
            bot = self.world.user_json(self.world.bot)
            self._service(chat, by_user_id, {"new_chat_members": [bot]})

    def remove_bot(self, chat_id: int, by_user_id: int, *, kick: bool = True) -> None:
        chat = self._group(chat_id)
        old = chat.bot_status
        chat.bot_status = "kicked" if kick else "left"
        self._my_chat_member(chat, by_user_id, old, chat.bot_status)
        # The service message exists in the chat, but the bot no longer receives it.
        self.world.add_message(
            chat, by_user_id, service={"left_chat_member": self.world.user_json(self.world.bot)}
        )

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: my_chat_member in the private chat, sends then fail."""
        chat = self._private(user_id)
        old, chat.bot_status = chat.bot_status, "kicked"
        self._my_chat_member(chat, user_id, old, "kicked")

    def unblock_bot(self, user_id: int) -> None:
        chat = self._private(user_id)
        old, chat.bot_status = chat.bot_status, "member"
        self._my_chat_member(chat, user_id, old, "member")

    def add_member(
        self, chat_id: int, user_id: int, status: str = "member", *, by: int | None = None
    ) -> None:
        self.set_status(chat_id, user_id, status, by=by)

    def remove_member(
        self, chat_id: int, user_id: int, *, by: int | None = None, ban: bool = False
    ) -> None:
        self.set_status(chat_id, user_id, "kicked" if ban else "left", by=by)

    def set_status(self, chat_id: int, user_id: int, status: str, *, by: int | None = None) -> None:
        """Changes a member's status; service message and chat_member update as Telegram."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {MEMBER_STATUSES}")
        chat = self._group(chat_id)
        user = self.world.user(user_id)
        old = self.world.status_of(chat, user_id)
        if old == status:
            return
        chat.members[user_id] = status
        actor = by if by is not None else user_id
        joined = old not in PRESENT_STATUSES and status in PRESENT_STATUSES
        left = old in PRESENT_STATUSES and status not in PRESENT_STATUSES
        if joined:
            self._service(chat, actor, {"new_chat_members": [self.world.user_json(user)]})
        elif left:
            self._service(chat, actor, {"left_chat_member": self.world.user_json(user)})
        if chat.bot_status == "administrator":
            payload = self.world.member_update_json(chat, actor, user_id, old, status)
            self.world.updates.enqueue("chat_member", payload)
        self.world.changed()

    def migrate_to_supergroup(
        self, chat_id: int, new_chat_id: int, *, by: int | None = None, announce: bool = True
    ) -> EmuChat:
        """The basic group becomes a supergroup with a new id; the bot's sends and edits to the
        old id are answered 400 with ``migrate_to_chat_id``. ``announce=False``: the service
        messages (``migrate_to_chat_id`` / ``migrate_from_chat_id``) are not delivered to the
        bot, as when it learns of the upgrade from a refused send before it fetched them."""
        old = self._group(chat_id)
        if old.type != "group":
            raise ValueError(f"chat {chat_id} is a {old.type}; only basic groups migrate")
        if new_chat_id in self.world.chats:
            raise ValueError(f"chat {new_chat_id} already exists")
        actor = by
        if actor is None:
            ranked = sorted(old.members.items(), key=lambda kv: MEMBER_STATUSES.index(kv[1]))
            actor = ranked[0][0] if ranked else self.world.bot.id
        new = EmuChat(
            new_chat_id,
            "supergroup",
            old.title,
            members=dict(old.members),
            bot_status=old.bot_status,
            migrated_from=chat_id,
        )
        self.world.chats[new_chat_id] = new
        if announce:
            self._service(old, actor, {"migrate_to_chat_id": new_chat_id})
        else:
            self.world.add_message(old, actor, service={"migrate_to_chat_id": new_chat_id})
        old.migrated_to = new_chat_id
        if announce:
            self._service(new, actor, {"migrate_from_chat_id": chat_id})
        else:
            self.world.add_message(new, actor, service={"migrate_from_chat_id": chat_id})
        return new

    def announce_migration(self, chat_id: int) -> None:
        """Deliver the service messages of ``migrate_to_supergroup(..., announce=False)``."""
        old = self.world.chat(chat_id)
        if old.migrated_to is None:
            raise ValueError(f"chat {chat_id} was not migrated")
        new = self.world.chat(old.migrated_to)
        for chat, key in ((old, "migrate_to_chat_id"), (new, "migrate_from_chat_id")):
            for msg in list(self.world.messages.get(chat.id, {}).values()):
                if key in msg.service:
                    self._deliver(chat, msg, "message")

    def create_forum_topic(self, chat_id: int, user_id: int, name: str) -> int:
        """A member opens a topic in a forum group; returns its thread id."""
        chat = self.world.chat(chat_id)
        if self.world.status_of(chat, user_id) not in PRESENT_STATUSES:
            raise ValueError(f"user {user_id} is not a member of chat {chat_id}")
        created = open_topic(self.world, chat, user_id, name)
        self._deliver(chat, created, "message")
        return created.message_id

    def delete_forum_topic(self, chat_id: int, thread: int) -> None:
        """An admin deletes a forum topic with all its messages (no update tells the bot)."""
        delete_topic(self.world, self.world.chat(chat_id), thread)

    # -- messages --------------------------------------------------------------------------
    def send_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        thread: int | None = None,
    ) -> EmuMessage:
        """A user's text message (private chat when ``chat_id == user_id``); ``thread``: in
        that forum topic (a reply lands in the thread of the message it replies to)."""
        self.world.user(user_id)
        if chat_id == user_id:
            chat = self._private(user_id)
            if chat.bot_status == "kicked":  # writing to a blocked bot restarts it
                self.unblock_bot(user_id)
        else:
            chat = self.world.chat(chat_id)
            if chat.migrated_to is not None:
                raise ValueError(f"chat {chat_id} was migrated to {chat.migrated_to}")
            if self.world.status_of(chat, user_id) not in PRESENT_STATUSES:
                raise ValueError(f"user {user_id} is not a member of chat {chat_id}")
        if reply_to is not None:
            target = self.world.message(chat.id, reply_to)
            if target is None or target.deleted:
                raise LookupError(f"no message {reply_to} in chat {chat.id} to reply to")
            thread = target.message_thread_id if thread is None else thread
        if thread is not None and thread not in chat.forum_topics:
            raise ValueError(f"chat {chat.id} has no forum topic {thread}")
        msg = self.world.add_message(
            chat,
            user_id,
            text=text,
            entities=auto_entities(text),
            reply_to_message_id=reply_to,
            message_thread_id=thread,
        )
        self._deliver(chat, msg, "message")
        return msg

    def send_media(
        self,
        chat_id: int,
        user_id: int,
        kind: str,
        data: bytes,
        *,
        caption: str | None = None,
        filename: str | None = None,
        reply_to: int | None = None,
    ) -> EmuMessage:
        """A user's photo or document (``kind``), with an optional caption, in a group."""
        if kind not in ("photo", "document"):
            raise ValueError("kind must be 'photo' or 'document'")
        chat = self.world.chat(chat_id)
        if self.world.status_of(chat, user_id) not in PRESENT_STATUSES:
            raise ValueError(f"user {user_id} is not a member of chat {chat_id}")
        serial = self.world.next_serial()
        name = filename or ("photo.jpg" if kind == "photo" else "file")
        file = EmuFile(
            file_id=f"{'AgAC' if kind == 'photo' else 'BQAC'}UserUpload{serial:08d}",
            file_unique_id=f"AgAD{serial:06d}",
            file_path=f"{kind}s/file_{serial}.{name.rsplit('.', 1)[-1]}",
            data=data,
            filename=filename,
            mime_type=None,
            kind=kind,
        )
        self.world.files[file.file_id] = file
        base = {"file_id": file.file_id, "file_unique_id": file.file_unique_id}
        fields: dict[str, Any] = {}
        if kind == "photo":
            fields["photo"] = [{**base, "file_size": len(data), "width": 0, "height": 0}]
        else:
            fields["document"] = {**base, "file_size": len(data)}
            if filename:
                fields["document"]["file_name"] = filename
        msg = self.world.add_message(
            chat,
            user_id,
            caption=caption,
            caption_entities=auto_entities(caption) if caption else [],
            reply_to_message_id=reply_to,
            **fields,
        )
        self._deliver(chat, msg, "message")
        return msg

    def edit_message(
        self, chat_id: int, message_id: int, user_id: int, new_text: str
    ) -> EmuMessage:
        msg = self.world.message(chat_id, message_id)
        if msg is None or msg.deleted or msg.from_user != user_id:
            raise LookupError(f"user {user_id} has no message {message_id} in chat {chat_id}")
        msg.history.append(
            MessageVersion(msg.text, msg.caption, msg.entities, None, msg.edit_date or msg.date)
        )
        msg.text, msg.entities = new_text, auto_entities(new_text)
        msg.edit_date = self.world.now()
        self.world.changed()
        self._deliver(self.world.chat(chat_id), msg, "edited_message")
        return msg

    def press_button(self, chat_id: int, message_id: int, user_id: int, button_text: str) -> str:
        """Presses an inline button by its visible text; returns the callback query id."""
        msg = self.world.message(chat_id, message_id)
        if msg is None or msg.deleted:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        button = msg.button(button_text)
        if "callback_data" not in button:
            raise ValueError(f"button {button_text!r} is not a callback button: {button!r}")
        return self.press_callback(chat_id, message_id, user_id, str(button["callback_data"]))

    def press_callback(self, chat_id: int, message_id: int, user_id: int, data: str) -> str:
        """A callback query with arbitrary (possibly forged) data; returns its id."""
        user = self.world.user(user_id)
        chat = self.world.chat(chat_id)
        msg = self.world.message(chat_id, message_id)
        message: dict[str, Any]
        if msg is None or msg.deleted:  # InaccessibleMessage
            message = {"chat": self.world.chat_json(chat), "message_id": message_id, "date": 0}
        else:
            message = self.world.message_json(msg)
        query_id = str(_QUERY_ID_BASE + self.world.next_serial())
        self.world.callbacks[query_id] = CallbackRecord(
            query_id, chat_id, message_id, user_id, data, self.world.clock()
        )
        payload = {
            "id": query_id,
            "from": self.world.user_json(user),
            "message": message,
            "chat_instance": self.world.chat_instance(chat_id),
            "data": data,
        }
        self.world.updates.enqueue("callback_query", payload)
        return query_id

    def inject_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queues a raw (possibly malformed) update; an ``update_id`` is added if missing."""
        return self.world.updates.inject(update)

    # -- helpers ---------------------------------------------------------------------------
    def _group(self, chat_id: int) -> EmuChat:
        chat = self.world.chat(chat_id)
        if chat.is_private:
            raise ValueError(f"chat {chat_id} is a private chat")
        return chat

    def _private(self, user_id: int) -> EmuChat:
        self.world.user(user_id)
        chat = self.world.chats.get(user_id)
        if chat is None:
            chat = EmuChat(user_id, "private", members={user_id: "member"})
            self.world.chats[user_id] = chat
        return chat

    def _my_chat_member(self, chat: EmuChat, actor: int, old: str, new: str) -> None:
        payload = self.world.member_update_json(chat, actor, self.world.bot.id, old, new)
        self.world.updates.enqueue("my_chat_member", payload)

    def _service(self, chat: EmuChat, actor: int, fields: dict[str, Any]) -> EmuMessage:
        msg = self.world.add_message(chat, actor, service=fields)
        self._deliver(chat, msg, "message")
        return msg

    def _deliver(self, chat: EmuChat, msg: EmuMessage, kind: str) -> None:
        if chat.bot_status not in PRESENT_STATUSES:
            return  # bot left/kicked (or blocked by the user in private)
        if not chat.is_private and not self._bot_sees(chat, msg):
            return
        self.world.updates.enqueue(kind, self.world.message_json(msg))

    def _bot_sees(self, chat: EmuChat, msg: EmuMessage) -> bool:
        """Privacy mode: non-admin bots only see commands, replies to them and mentions."""
        if not self.world.privacy_mode or chat.bot_status == "administrator" or msg.service:
            return True
        username = (self.world.bot.username or "").lower()
        text = msg.text or ""
        command = re.match(r"/\w+(?:@(\w+))?", text)
        if command and (command.group(1) is None or command.group(1).lower() == username):
            return True
        if f"@{username}" in text.lower():
            return True
        target = self.world.message(chat.id, msg.reply_to_message_id or 0)
        return target is not None and target.from_bot
