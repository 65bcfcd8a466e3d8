"""Chats the bot has seen: kind, title, language and the bot's own membership."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Chat
from storage.tables import chats
from storage.upsert import upsert


def _chat(row: Any) -> Chat:
    return Chat(
        chat_id=row.chat_id,
        type=row.type,
        title=row.title,
        locale=row.locale,
        bot_status=row.bot_status,
    )


class ChatRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def seen(self, *, chat_id: int, type: str, title: str | None, now: datetime) -> None:
        await upsert(
            self._db,
            chats,
            {"chat_id": chat_id, "type": type, "title": title, "updated_at": now},
            conflict=["chat_id"],
            update=["type", "title", "updated_at"],
        )

    async def get(self, chat_id: int) -> Chat | None:
        row = (await self._db.execute(select(chats).where(chats.c.chat_id == chat_id))).first()
        return _chat(row) if row else None

    async def set_locale(self, chat_id: int, locale: str) -> None:
        await self._db.execute(
            update(chats).where(chats.c.chat_id == chat_id).values(locale=locale)
        )

    async def set_bot_status(self, chat_id: int, status: str, now: datetime) -> None:
        await self._db.execute(
            update(chats)
            .where(chats.c.chat_id == chat_id)
            .values(bot_status=status, updated_at=now)
        )

    async def move(self, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
        """A group became a supergroup: carry its settings over to the new id."""
        old = await self.get(old_chat_id)
        if old is None:
            return
        await upsert(
            self._db,
            chats,
            {
                "chat_id": new_chat_id,
                "type": "supergroup",
                "title": old.title,
                "locale": old.locale,
                "bot_status": old.bot_status,
                "updated_at": now,
            },
            conflict=["chat_id"],
            update=["locale", "bot_status", "updated_at"],
        )
        await self._db.execute(
            update(chats).where(chats.c.chat_id == old_chat_id).values(bot_status="migrated")
        )
