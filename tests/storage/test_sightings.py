"""Who was seen where: concurrent updates' users and chats recorded in one upsert each, and
each update answered in its own language (both databases)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.services.organisation.people import PeopleService, SeenUser
from storage.database import Database
from storage.tables import chats, users

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def person(user_id: int, name: str = "居民", language_code: str | None = "zh-hans") -> SeenUser:
    return SeenUser(user_id, f"{name}{user_id}", None, None, language_code)


async def test_concurrent_sightings_are_one_write_and_each_gets_its_language(
    database: Database,
) -> None:
    people = PeopleService(database, ManualClock(NOW), "zh_CN")
    await people.seen(person(1), -100, "supergroup", "一号楼")
    await people.seen(person(2), 2, "private", None)
    async with database.transaction() as repos:
        await repos.chats.set_locale(-100, "en")  # the group chose English
        await repos.users.set_locale(2, "en")  # resident 2 chose English for herself
    units = database.group.units
    answers = await asyncio.gather(
        *(people.seen(person(i), -100, "supergroup", "一号楼") for i in range(1, 41)),
        people.seen(person(2), 2, "private", None),  # her private chat: her language
        people.seen(person(3, language_code="en-GB"), 3, "private", None),  # from Telegram's
        people.seen(person(4), None, None, None),  # no chat (an inline query)
        people.seen(person(5, "新名字"), -200, "group", "二号楼"),  # renamed, in a new group
    )
    assert answers == ["en"] * 40 + ["en", "en", "zh_CN", "zh_CN"]
    assert database.group.units - units <= 2  # one write, perhaps a second for late ones
    async with database.transaction() as repos:
        count = (await repos.connection.execute(select(func.count()).select_from(users))).scalar()
        assert count == 40
        renamed = await repos.users.get(5)
        assert renamed is not None and renamed.first_name == "新名字5"
        titles = {
            row.chat_id: row.title
            for row in await repos.connection.execute(select(chats.c.chat_id, chats.c.title))
        }
        assert titles == {-100: "一号楼", -200: "二号楼", 2: None, 3: None}


async def test_a_chat_of_a_type_telegram_may_add_does_not_spoil_the_others_sightings(
    database: Database,
) -> None:
    people = PeopleService(database, ManualClock(NOW), "zh_CN")
    answers = await asyncio.gather(
        people.seen(person(1), -300, "future_kind", "新东西"),
        people.seen(person(2), -100, "supergroup", "一号楼"),
    )
    assert answers == ["zh_CN", "zh_CN"]  # both answered, neither refused
    async with database.transaction() as repos:
        seen = (await repos.connection.execute(select(chats.c.chat_id))).scalars().all()
        people_seen = (await repos.connection.execute(select(users.c.user_id))).scalars().all()
    assert seen == [-100]  # the table takes only the types it knows (ck_chats_type)
    assert sorted(people_seen) == [1, 2]
