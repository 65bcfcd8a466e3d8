"""Chats and people live on a platform: each one's id there is unique per platform, and the
database refuses a platform Yishi does not know."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.records import FIRST_FOREIGN_ID, Platform
from storage.tables import chats

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def a_chat(chat_id: int, platform: str, address: str) -> dict[str, object]:
    return {
        "chat_id": chat_id,
        "platform": platform,
        "address": address,
        "type": "group",
        "title": "3号楼",
        "updated_at": NOW,
    }


async def test_a_telegram_chat_seen_is_on_telegram_under_its_own_id(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.chats.seen(chat_id=-1001234, type="supergroup", title="3号楼", now=NOW)
        await repos.users.seen(
            user_id=42,
            first_name="王",
            last_name=None,
            username=None,
            language_code="zh",
            now=NOW,
        )
    async with database.transaction() as repos:
        chat = await repos.chats.get(-1001234)
        person = await repos.users.get(42)
    assert chat is not None and (chat.platform, chat.address) == (Platform.TELEGRAM, "-1001234")
    assert person is not None and (person.platform, person.address) == (Platform.TELEGRAM, "42")


async def test_the_same_address_on_two_platforms_is_two_chats(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.connection.execute(
            insert(chats),
            [a_chat(-100, "telegram", "wrk-3"), a_chat(FIRST_FOREIGN_ID, "wecom", "wrk-3")],
        )
    async with database.transaction() as repos:
        wecom = await repos.chats.get(FIRST_FOREIGN_ID)
    assert wecom is not None and wecom.platform is Platform.WECOM


async def test_an_address_is_one_chat_per_platform(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.connection.execute(insert(chats), [a_chat(FIRST_FOREIGN_ID, "wecom", "wr1")])
    with pytest.raises(IntegrityError):
        async with database.transaction() as repos:
            await repos.connection.execute(
                insert(chats), [a_chat(FIRST_FOREIGN_ID + 1, "wecom", "wr1")]
            )


async def test_a_platform_yishi_does_not_know_is_refused(database: Database) -> None:
    with pytest.raises(IntegrityError):
        async with database.transaction() as repos:
            await repos.connection.execute(insert(chats), [a_chat(7, "whatsapp", "7")])
    async with database.transaction() as repos:
        assert await repos.chats.get(7) is None
