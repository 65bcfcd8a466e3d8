"""Chats and people live on a platform: each one's id there is unique per platform, and the
database refuses a platform Yishi does not know."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.records import FIRST_FOREIGN_ID, Platform
from storage.tables import chats, users

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


async def test_a_wecom_chat_and_person_get_ids_of_their_own_kept_on_every_sighting(
    database: Database,
) -> None:
    async with database.transaction() as repos:
        group, _ = await repos.chats.seen_on(
            Platform.WECOM, "wrkGroupA", type="group", title=None, now=NOW
        )
        other, _ = await repos.chats.seen_on(
            Platform.WECOM, "wrkGroupB", type="group", title="2号楼", now=NOW
        )
        person, _ = await repos.users.seen_on(Platform.WECOM, "zhangsan", name="张三", now=NOW)
    async with database.transaction() as repos:
        await repos.chats.set_locale(group, "en")
        await repos.users.set_locale(person, "en")
    async with database.transaction() as repos:
        again = await repos.chats.seen_on(
            Platform.WECOM, "wrkGroupA", type="group", title="3号楼", now=NOW
        )
        person_again = await repos.users.seen_on(Platform.WECOM, "zhangsan", name="张三丰", now=NOW)
        chat = await repos.chats.get(group)
        user = await repos.users.get(person)
        address = await repos.chats.address_of(other)
    assert group >= FIRST_FOREIGN_ID and other >= FIRST_FOREIGN_ID and group != other
    assert person >= FIRST_FOREIGN_ID
    assert again == (group, "en") and person_again == (person, "en")
    assert chat is not None and (chat.platform, chat.address, chat.title) == (
        Platform.WECOM,
        "wrkGroupA",
        "3号楼",
    )
    assert user is not None and (user.platform, user.address, user.first_name) == (
        Platform.WECOM,
        "zhangsan",
        "张三丰",
    )
    assert address == (Platform.WECOM, "wrkGroupB")


async def test_an_id_already_taken_is_drawn_again(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.transaction() as repos:
        await repos.connection.execute(insert(chats), [a_chat(FIRST_FOREIGN_ID, "wecom", "old")])
    drawn = iter([FIRST_FOREIGN_ID, FIRST_FOREIGN_ID + 7])  # the first is taken
    monkeypatch.setattr("storage.repositories.chats.new_foreign_id", lambda: next(drawn))
    async with database.transaction() as repos:
        chat_id, _ = await repos.chats.seen_on(
            Platform.WECOM, "new", type="group", title=None, now=NOW
        )
        old = await repos.chats.get(FIRST_FOREIGN_ID)
    assert chat_id == FIRST_FOREIGN_ID + 7
    assert old is not None and old.address == "old"  # untouched


async def test_people_seen_at_once_in_racing_transactions_each_get_one_id(
    database: Database,
) -> None:
    """Many transactions meet the same new people at once: each person ends with one id,
    every transaction is told that id, and no two people share one."""

    async def sighting(address: str) -> int:
        async with database.transaction() as repos:
            user_id, _ = await repos.users.seen_on(Platform.WECOM, address, name=address, now=NOW)
            chat_id, _ = await repos.chats.seen_on(
                Platform.WECOM, f"g-{address}", type="group", title=None, now=NOW
            )
            assert chat_id >= FIRST_FOREIGN_ID
            return user_id

    addresses = [f"person{i % 30}" for i in range(90)]
    ids = await asyncio.gather(*(sighting(address) for address in addresses))
    by_address: dict[str, set[int]] = {}
    for address, user_id in zip(addresses, ids, strict=True):
        by_address.setdefault(address, set()).add(user_id)
    assert all(len(found) == 1 for found in by_address.values())
    assert len({next(iter(found)) for found in by_address.values()}) == 30
    async with database.transaction() as repos:
        count = (await repos.connection.execute(select(func.count()).select_from(users))).scalar()
    assert count == 30


async def test_people_seen_together_in_one_statement_are_each_one_person(
    database: Database,
) -> None:
    """A burst of WeCom presses records everyone it saw in one statement: a new person gets an
    id of their own, someone known keeps theirs and their language, and a WeCom identity
    joined to a Telegram person (/link) acts as that person."""
    async with database.transaction() as repos:
        known, _ = await repos.users.seen_on(Platform.WECOM, "lisi", name="lisi", now=NOW)
        linked, _ = await repos.users.seen_on(Platform.WECOM, "wangwu", name="wangwu", now=NOW)
        await repos.users.seen(
            user_id=42,
            first_name="王五",
            last_name=None,
            username=None,
            language_code="zh",
            now=NOW,
        )
    async with database.transaction() as repos:
        await repos.users.set_locale(known, "en")
        await repos.links.join(linked, 42)
    later = NOW.replace(hour=9)
    async with database.transaction() as repos:
        seen = await repos.users.seen_on_many(
            Platform.WECOM,
            [("zhaoliu", "zhaoliu"), ("lisi", "lisi"), ("wangwu", "wangwu"), ("sunqi", "孙七")],
            later,
        )
        last_seen = (
            await repos.connection.execute(
                select(users.c.last_seen).where(users.c.user_id == known)
            )
        ).scalar_one()
    assert seen["lisi"] == (known, "en")
    assert seen["wangwu"][0] == 42
    new = {seen["zhaoliu"][0], seen["sunqi"][0]}
    assert len(new) == 2 and min(new) >= FIRST_FOREIGN_ID and known not in new
    assert last_seen == later
    async with database.transaction() as repos:
        again = await repos.users.seen_on_many(Platform.WECOM, [("sunqi", "孙七")], later)
        count = (
            await repos.connection.execute(
                select(func.count()).select_from(users).where(users.c.address == "sunqi")
            )
        ).scalar_one()
    assert again["sunqi"] == seen["sunqi"] and count == 1
