"""Chats the bot has seen: kind, title, language and the bot's own membership."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.pairs import in_pairs, pairs_parameters
from storage.records import BotStatus, Chat, ChatType, Platform, new_foreign_id
from storage.repositories.seen import seen_memo
from storage.tables import chat_members, chats, push_webhooks
from storage.upsert import insert_or_nothing, upsert, upsert_many, upsert_many_returning


def _chat(row: Any) -> Chat:
    return Chat(
        chat_id=row.chat_id,
        platform=Platform(row.platform),
        address=row.address,
        type=ChatType(row.type),
        title=row.title,
        locale=row.locale,
        bot_status=BotStatus(row.bot_status),
    )


# Statements of every update, built once (see storage/upsert.py for why).
_CHAT = select(chats).where(chats.c.chat_id == bindparam("chat_id"))
_SEEN_ON = (  # another platform's chat seen again: built once, as every WeCom press runs it
    update(chats)
    .where(chats.c.platform == bindparam("b_platform"), chats.c.address == bindparam("b_address"))
    .values(type=bindparam("b_type"), title=bindparam("b_title"), updated_at=bindparam("b_now"))
    .returning(chats.c.chat_id, chats.c.locale)
)
_MEMBERSHIPS = select(chat_members.c.chat_id, chat_members.c.user_id, chat_members.c.member).where(
    in_pairs(chat_members.c.chat_id, chat_members.c.user_id, "keys")  # storage/pairs.py
)
_MEMBERSHIP = select(chat_members.c.member).where(
    chat_members.c.chat_id == bindparam("chat_id"), chat_members.c.user_id == bindparam("user_id")
)


# An attempt fails only when a concurrent transaction recorded the same address first (the
# next finds its row) or, once in 2**40 or so, when a random id is taken already.
_ALLOCATION_ATTEMPTS = 5


class ChatRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def seen(
        self, *, chat_id: int, type: str, title: str | None, now: datetime
    ) -> str | None:
        """Record the chat as seen now; returns the language chosen for it, if any."""
        return (await self.seen_many([(chat_id, type, title)], now))[chat_id]

    async def seen_many(
        self, sightings: Sequence[tuple[int, str, str | None]], now: datetime
    ) -> dict[int, str | None]:
        """:meth:`seen` for several chats (id, type, title) in one statement (the last
        sighting of each counts); the language chosen for each, by chat id."""
        latest = {chat_id: (type_, title) for chat_id, type_, title in sightings}
        rows = await upsert_many_returning(
            self._db,
            chats,
            [
                {
                    "chat_id": chat_id,
                    "platform": Platform.TELEGRAM,
                    "address": str(chat_id),
                    "type": type_,
                    "title": title,
                    "updated_at": now,
                }
                for chat_id, (type_, title) in sorted(latest.items())
            ],
            conflict=["chat_id"],
            update=["type", "title", "updated_at"],
            returning=["chat_id", "locale"],
        )
        return {row.chat_id: row.locale for row in rows}

    async def seen_on(
        self, platform: Platform, address: str, *, type: ChatType, title: str | None, now: datetime
    ) -> tuple[int, str | None]:
        """Yishi's id of another platform's chat (WeCom's ``chatid``), recorded as seen now
        (its type and title), and the language chosen for it; the first sighting allocates
        an id at or above FIRST_FOREIGN_ID.
        Two transactions seeing a new chat at once: one insert wins, the other sees its row."""
        changes = {"type": type, "title": title, "updated_at": now}
        bound: dict[str, Any] = {"b_platform": platform.value, "b_address": address}
        bound |= {"b_type": type, "b_title": title, "b_now": now}
        for _ in range(_ALLOCATION_ATTEMPTS):
            row = (await self._db.execute(_SEEN_ON, bound)).first()
            if row is not None:
                return row.chat_id, row.locale
            candidate = new_foreign_id()
            new = {"chat_id": candidate, "platform": platform.value, "address": address}
            if await insert_or_nothing(self._db, chats, new | changes, returning="chat_id"):
                return candidate, None
        raise RuntimeError(f"no id for the {platform} chat {address!r}")

    async def address_of(self, chat_id: int) -> tuple[Platform, str] | None:
        row = (
            await self._db.execute(
                select(chats.c.platform, chats.c.address).where(chats.c.chat_id == chat_id)
            )
        ).first()
        return (Platform(row.platform), row.address) if row else None

    async def push_webhook(self, chat_id: int) -> str | None:
        """The chat's 消息推送 webhook URL, if its officers gave one."""
        row = (
            await self._db.execute(
                select(push_webhooks.c.url).where(push_webhooks.c.chat_id == chat_id)
            )
        ).first()
        return str(row.url) if row else None

    async def set_push_webhook(self, chat_id: int, url: str | None, by: int, now: datetime) -> bool:
        """Keep ``url`` as the chat's push webhook (None: forget it); False if none was set
        and none is given."""
        if url is None:
            gone = await self._db.execute(
                delete(push_webhooks).where(push_webhooks.c.chat_id == chat_id)
            )
            return bool(gone.rowcount)
        await upsert(
            self._db,
            push_webhooks,
            {"chat_id": chat_id, "url": url, "set_by": by, "set_at": now},
            conflict=("chat_id",),
            update=("url", "set_by", "set_at"),
        )
        return True

    async def get(self, chat_id: int) -> Chat | None:
        row = (await self._db.execute(_CHAT, {"chat_id": chat_id})).first()
        return _chat(row) if row else None

    async def set_locale(self, chat_id: int, locale: str) -> None:
        await self._db.execute(
            update(chats).where(chats.c.chat_id == chat_id).values(locale=locale)
        )
        # Once the row is ours (locked until commit): see storage/repositories/seen.py.
        seen_memo(self._db.sync_engine).locale_written()

    async def set_bot_status(self, chat_id: int, status: BotStatus, now: datetime) -> None:
        await self._db.execute(
            update(chats)
            .where(chats.c.chat_id == chat_id)
            .values(bot_status=status, updated_at=now)
        )

    async def move(self, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
        """A group became a supergroup: carry its settings over to the new id."""
        old = await self.get(old_chat_id)
        if old is None or old.bot_status == BotStatus.MIGRATED:
            return  # moved already (the service message and a refused send both tell)
        await upsert(
            self._db,
            chats,
            {
                "chat_id": new_chat_id,
                "platform": old.platform,
                "address": str(new_chat_id),
                "type": ChatType.SUPERGROUP,
                "title": old.title,
                "locale": old.locale,
                "bot_status": old.bot_status,
                "updated_at": now,
            },
            conflict=["chat_id"],
            update=["locale", "bot_status", "updated_at"],
        )
        seen_memo(self._db.sync_engine).locale_written()  # the new id reads the old one's
        await self._db.execute(
            update(chats)
            .where(chats.c.chat_id == old_chat_id)
            .values(bot_status=BotStatus.MIGRATED)
        )

    async def membership(self, chat_id: int, user_id: int) -> bool | None:
        """Whether the user was last seen a member of the chat (None: never checked)."""
        result = await self._db.execute(_MEMBERSHIP, {"chat_id": chat_id, "user_id": user_id})
        value: bool | None = result.scalar_one_or_none()
        return value

    async def memberships(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bool]:
        """:meth:`membership` of several (chat, user) pairs in one statement; a pair never
        checked is left out."""
        if not keys:
            return {}
        rows = await self._db.execute(
            _MEMBERSHIPS, pairs_parameters(self._db.dialect, "keys", set(keys))
        )
        return {(int(row.chat_id), int(row.user_id)): bool(row.member) for row in rows}

    async def chats_of_member(self, user_id: int) -> list[int]:
        """The chats the user was last seen a member of (the web's "my household" page)."""
        rows = await self._db.execute(
            select(chat_members.c.chat_id).where(
                chat_members.c.user_id == user_id, chat_members.c.member.is_(True)
            )
        )
        return sorted(int(row.chat_id) for row in rows)

    async def set_membership(self, chat_id: int, user_id: int, member: bool, now: datetime) -> None:
        await self.set_memberships([(chat_id, user_id, member)], now)

    async def set_memberships(
        self, memberships: Sequence[tuple[int, int, bool]], now: datetime
    ) -> None:
        """(chat, user, member) of several, in one executemany."""
        await upsert_many(
            self._db,
            chat_members,
            [
                {"chat_id": chat_id, "user_id": user_id, "member": member, "checked_at": now}
                for chat_id, user_id, member in memberships
            ],
            conflict=["chat_id", "user_id"],
            update=["member", "checked_at"],
        )
