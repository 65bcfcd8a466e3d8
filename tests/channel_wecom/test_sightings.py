"""Who a WeCom callback is from: recorded once, the same answer given again while nothing
changed, and never a language older than the chat's (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.catalogue import load_catalogue
from bot.clock import ManualClock
from bot.services import Services
from bot.services.topics.ballots import Newcomer
from bot.settings import load_settings
from channels.wecom.sightings import Arriving, Sightings
from storage.database import Database
from storage.records import Platform
from storage.repositories.seen import REFRESH

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def in_group(userid: str, chatid: str = "wrBuilding0001") -> dict[str, Any]:
    return {"from": {"userid": userid}, "chattype": "group", "chatid": chatid}


def services_on(database: Database, clock: ManualClock) -> Services:
    settings = load_settings(
        TELEGRAM_BOT_TOKEN="1:x", YISHI_LOCALE="zh_CN", YISHI_ADMIN_IDS="1", _env_file=None
    )
    return Services.build(database, clock, settings, load_catalogue(), realtime=False)


async def test_a_sender_seen_lately_is_answered_again_without_a_write_until_something_changed(
    database: Database,
) -> None:
    clock = ManualClock(NOW)
    sightings = Sightings(services_on(database, clock))
    first = await sightings.who(in_group("lisi"))
    assert first is not None and first.locale == "zh_CN" and first.place.is_group
    units = database.group.units
    clock.advance(timedelta(minutes=1))
    assert await sightings.who(in_group("lisi")) is first  # nothing written, nothing new
    assert database.group.units == units

    async with database.transaction() as repos:  # the group chose English
        await repos.chats.set_locale(first.place.chat_id, "en")
    english = await sightings.who(in_group("lisi"))
    assert english is not None and english.locale == "en"
    assert (english.actor, english.place) == (first.actor, first.place)

    clock.advance(REFRESH)  # seen too long ago: recorded again, the same person and group
    again = await sightings.who(in_group("lisi"))
    assert again is not None and again is not english and again == english
    assert database.group.units > units

    private = await sightings.who({"from": {"userid": "lisi"}, "chattype": "single"})
    assert private is not None and not private.place.is_group
    assert private.actor == first.actor and private.address == "lisi"
    assert await sightings.who({"from": {"userid": "lisi"}, "chattype": "single"}) is private


async def test_someone_new_in_a_group_recorded_lately_is_left_to_their_votes_transaction(
    database: Database,
) -> None:
    clock = ManualClock(NOW)
    sightings = Sightings(services_on(database, clock))
    officer = await sightings.who(in_group("zhangsan"))  # the group is recorded
    assert officer is not None
    units = database.group.units
    arriving = await sightings.sighted(in_group("lisi"))
    assert isinstance(arriving, Arriving) and database.group.units == units  # nothing written
    assert arriving.place == officer.place and arriving.locale == officer.locale
    assert arriving.newcomer == Newcomer(Platform.WECOM, "lisi", "lisi")

    async with database.transaction() as repos:  # as the ballot's unit records them
        recorded = await repos.users.seen_on_many(Platform.WECOM, [("lisi", "lisi")], NOW)
    lisi = sightings.arrived(arriving, recorded["lisi"][0])
    assert lisi.actor.user_id == recorded["lisi"][0] and lisi.place == officer.place
    assert await sightings.sighted(in_group("lisi")) is lisi  # remembered: nothing to write

    # A language changed while someone's vote was recording them: not remembered, as the
    # language they were answered in may be older than the chat's.
    wangwu = await sightings.sighted(in_group("wangwu"))
    assert isinstance(wangwu, Arriving)
    async with database.transaction() as repos:
        await repos.chats.set_locale(officer.place.chat_id, "en")
        recorded = await repos.users.seen_on_many(Platform.WECOM, [("wangwu", "wangwu")], NOW)
    sightings.arrived(wangwu, recorded["wangwu"][0])
    again = await sightings.who(in_group("wangwu"))
    assert again is not None and again.locale == "en"
