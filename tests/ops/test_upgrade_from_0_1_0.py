"""A database written by Yishi 0.1.0, upgraded with `yishi db upgrade` as an operator does it,
then used: what its people did is all there, and they go on consulting on it.

The database is ``tests/fixtures/release-0.1.0/``: 0.1.0's own demo (a whole consultation)
played by that release's code, on SQLite and on PostgreSQL; its README says how it was made.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, literal, select, table

from bot.clock import ManualClock
from emulators.telegram.world import EmuChat
from storage import tables
from storage.backup.facts import code_head
from storage.backup.postgres_dump import libpq_environment
from storage.database import Database
from tests.auxil.harness import Harness
from tests.auxil.meetings import answers, reminders
from tests.auxil.topics import publish, topic_id
from tests.conftest import fresh_postgres_database
from tests.e2e.conftest import _no_handler_errors
from tests.ops.conftest import ROOT, yishi
from tests.ops.test_restore_refusals import revision

RELEASE = ROOT / "tests" / "fixtures" / "release-0.1.0"
RELEASE_REVISION = "0005"

# The demo's people and chats, as 0.1.0's bot/demo/script.py made them (`git show
# v0.1.0:bot/demo/script.py`): a new emulator must know them before anyone can speak.
STAFF_CHAT, GRID_CHAT, BUILDING_A, BUILDING_B = -1001, -1002, -1003, -1004
DIRECTOR, STAFF, WORKER, HEAD_A, QIAN, SUN, HEAD_B, WU, ZHENG = range(1, 10)
GROUPS = {  # chat: (who created it and added the bot, the other members)
    STAFF_CHAT: (DIRECTOR, (STAFF,)),
    GRID_CHAT: (STAFF, (WORKER,)),
    BUILDING_A: (WORKER, (HEAD_A, QIAN, SUN)),
    BUILDING_B: (WORKER, (HEAD_B, WU, ZHENG)),
}
RESIDENT_OF = {BUILDING_A: QIAN, BUILDING_B: WU}
FIRST_NEW_MESSAGE = 1000  # past every message 0.1.0's bot sent in those chats
# Monday 30 November 2026, 09:00 in Shanghai: half an hour after the demo's last step.
AFTER_THE_DEMO = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)

# What people did, table by table: an upgrade must keep every row.
RECORD = (
    "nodes", "chat_bindings", "users", "role_grants", "households", "registrations",
    "topics", "ballots", "opinions", "escalations", "resolutions", "ratings",
    "subscriptions", "meetings", "meeting_occurrences", "meeting_rsvps", "audit_log",
)  # fmt: skip


@dataclass(frozen=True)
class Topic:
    title: str
    chat: int  # where it was voted on
    tally: str  # the counts as /result shows them: "同意：2 · 反对：1 · 弃权：0"


@dataclass(frozen=True)
class Record:
    """What people did, read straight from the tables."""

    rows: dict[str, int]  # table -> rows
    topics: dict[int, Topic]
    decisions: dict[int, str]  # topic -> the decision on its escalated matter
    ratings: dict[int, Counter[str]]  # topic -> how many rated it satisfied, basically, ...
    meetings: dict[int, str]  # meeting -> title
    rsvps: Counter[str]  # "yes" / "no" -> answers, over every occurrence


async def read_record(url: str) -> Record:
    """Only columns 0.1.0's schema had: the same query reads it before and after the upgrade."""
    t = tables
    database = Database(url)
    try:
        async with database.connection() as connection:

            async def all_of(query: Any) -> list[Any]:
                return list((await connection.execute(query)).all())

            rows = {
                name: len(await all_of(select(literal(1)).select_from(table(name))))
                for name in RECORD
            }
            votes: dict[int, Counter[int]] = defaultdict(Counter)
            for ballot in await all_of(select(t.ballots.c.topic_id, t.ballots.c.option)):
                votes[ballot.topic_id][ballot.option] += 1
            where = select(
                t.topics.c.id, t.topics.c.title, t.topics.c.options, t.chat_bindings.c.chat_id
            )
            where = where.join_from(
                t.topics, t.chat_bindings, t.topics.c.node_id == t.chat_bindings.c.node_id
            )
            topics = {
                row.id: Topic(
                    row.title,
                    row.chat_id,
                    " · ".join(
                        f"{option}：{votes[row.id][number]}"
                        for number, option in enumerate(row.options)
                    ),
                )
                for row in await all_of(where)
            }
            decisions = {
                row.topic_id: row.decision
                for row in await all_of(select(t.resolutions.c.topic_id, t.resolutions.c.decision))
            }
            ratings: dict[int, Counter[str]] = defaultdict(Counter)
            for rating in await all_of(select(t.ratings.c.topic_id, t.ratings.c.rating)):
                ratings[rating.topic_id][rating.rating] += 1
            meetings = {
                row.id: row.title
                for row in await all_of(select(t.meetings.c.id, t.meetings.c.title))
            }
            rsvps = Counter(row.answer for row in await all_of(select(t.meeting_rsvps.c.answer)))
    finally:
        await database.close()
    return Record(rows, topics, decisions, dict(ratings), meetings, rsvps)


@asynccontextmanager
async def released_database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new database holding exactly what 0.1.0 wrote (the fixture, as it was made)."""
    if kind == "sqlite":
        shutil.copyfile(RELEASE / "yishi.db", tmp_path / "yishi.db")
        yield f"sqlite+aiosqlite:///{tmp_path / 'yishi.db'}"
        return
    async with fresh_postgres_database() as url:
        # pg_restore itself, not `yishi db restore`: that would upgrade it on the way in.
        process = await asyncio.create_subprocess_exec(
            "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
            f"--dbname={libpq_environment(url)['PGDATABASE']}", str(RELEASE / "yishi.pgdump"),
            env=libpq_environment(url), stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        yield url


@dataclass(frozen=True)
class Upgraded:
    url: str
    before: Record  # as 0.1.0 left it
    said: str  # what `yishi db upgrade` printed


@pytest.fixture(params=["sqlite", "postgresql"])
async def upgraded(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Upgraded]:
    async with released_database(request.param, tmp_path) as url:
        assert await revision(url) == RELEASE_REVISION
        before = await read_record(url)
        ran = await yishi("db", "upgrade", database_url=url, cwd=tmp_path)
        assert ran.status == 0, ran.err
        yield Upgraded(url, before, ran.out)


async def the_released_world(h: Harness, url: str) -> None:
    """Telegram as 0.1.0's bot left it: its users and groups (read from the database; who is
    in which group from the demo's script), the bot in each, and the update ids going on
    from the last one it handled, as Telegram's do."""
    database = Database(url)
    try:
        async with database.connection() as connection:
            users = (await connection.execute(select(tables.users))).all()
            chats = (await connection.execute(select(tables.chats))).all()
            last_update = await connection.execute(select(func.max(tables.inbox.c.update_id)))
            last_update_id = int(last_update.scalar_one())
            for posts in (tables.topic_posts, tables.meeting_posts):
                newest = await connection.execute(select(func.max(posts.c.message_id)))
                assert newest.scalar_one() < FIRST_NEW_MESSAGE
    finally:
        await database.close()
    for user in users:
        h.user(user.user_id, user.first_name, language_code=user.language_code)
    assert {chat.chat_id for chat in chats} == set(GROUPS)
    for chat in chats:
        creator, members = GROUPS[chat.chat_id]
        emulated = EmuChat(chat.chat_id, chat.type, chat.title, bot_status=chat.bot_status)
        emulated.members = {creator: "creator"} | dict.fromkeys(members, "member")
        emulated.next_message_id = FIRST_NEW_MESSAGE
        h.emu.world.chats[chat.chat_id] = emulated
    h.emu.world.updates.next_update_id = last_update_id + 1
    h.emu.world.changed()


@asynccontextmanager
async def bot_on(
    url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Harness]:
    h = Harness(tmp_path, database_url=url)
    h.clock = ManualClock(AFTER_THE_DEMO)
    await h.emu.start()
    await the_released_world(h, url)
    try:
        await h.start_bot()
        yield h
    finally:
        await h.stop()
    _no_handler_errors(caplog)


async def test_the_upgrade_keeps_everything_0_1_0_recorded(upgraded: Upgraded) -> None:
    assert upgraded.said.endswith(f"is at revision {code_head()}.\n")
    assert await revision(upgraded.url) == code_head()
    assert await read_record(upgraded.url) == upgraded.before
    # The fixture holds the whole demo, not an empty schema: every kind of record is there.
    assert all(upgraded.before.rows.values()), upgraded.before.rows
    assert upgraded.before.decisions and upgraded.before.ratings and upgraded.before.rsvps


async def test_every_chat_and_person_of_0_1_0_is_on_telegram_under_its_own_id(
    upgraded: Upgraded,
) -> None:
    database = Database(upgraded.url)
    try:
        async with database.connection() as connection:
            chats = (await connection.execute(select(tables.chats))).all()
            users = (await connection.execute(select(tables.users))).all()
    finally:
        await database.close()
    assert {(c.platform, c.address) for c in chats} == {("telegram", str(c)) for c in GROUPS}
    assert {(u.platform, u.address) for u in users} == {("telegram", str(u.user_id)) for u in users}
    assert len(users) == len(range(DIRECTOR, ZHENG + 1))


async def test_people_see_their_record_on_the_upgraded_database(
    upgraded: Upgraded, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record = upgraded.before
    async with bot_on(upgraded.url, tmp_path, caplog) as h:
        for number, topic in record.topics.items():
            listed = await h.say(topic.chat, RESIDENT_OF[topic.chat], "/topics")
            assert f"#{number} {topic.title}" in (listed.text or "")
            result = await h.say(topic.chat, RESIDENT_OF[topic.chat], f"/result {number}")
            shown = result.text or ""
            assert shown.startswith(f"📋 #{number} {topic.title}") and topic.tally in shown
            if number in record.decisions:  # the matter that went up, and what came back
                assert "上报经过" in shown and "已解决" in shown
                assert f"：{record.decisions[number]}" in shown
                rated = record.ratings[number]
                assert (
                    f"评价：满意 {rated['satisfied']} · 基本满意 {rated['basically']} · "
                    f"不满意 {rated['unsatisfied']}"
                ) in shown
        meetings = (await h.say(STAFF_CHAT, STAFF, "/meetings")).text or ""
        for number, title in record.meetings.items():
            assert f"#{number} {title}" in meetings
        assert f"参加 {record.rsvps['yes']} · 请假 {record.rsvps['no']}" in meetings


async def test_the_main_flows_go_on_on_the_upgraded_database(
    upgraded: Upgraded, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with bot_on(upgraded.url, tmp_path, caplog) as h:
        # The meeting series 0.1.0 scheduled reminds an hour before, and those who answered
        # then are known: the director's 参加 becomes 请假.
        await h.pass_time(timedelta(hours=9, minutes=1))  # Monday 18:01 in Shanghai
        (reminder,) = reminders(h, STAFF_CHAT)
        assert "协商议事日" in (reminder.text or "")
        changed = await h.press(STAFF_CHAT, reminder.message_id, DIRECTOR, "请假")
        assert changed["text"] == "已改为：请假"
        await h.settle()
        assert answers(h.emu.message(STAFF_CHAT, reminder.message_id)) == (0, 2)

        # A new topic in building 1: numbered after 0.1.0's, voted on, closed, sent up.
        ballot = await publish(h, "楼道加装声控灯", chat=BUILDING_A, by=HEAD_A)
        number = topic_id(ballot)
        assert number == max(upgraded.before.topics) + 1
        for resident in (QIAN, SUN):
            assert (await h.press(BUILDING_A, ballot.message_id, resident, "同意"))[
                "text"
            ] == "已记录：同意"
        outcome = (await h.say(BUILDING_A, HEAD_A, f"/close {number}")).text or ""
        assert outcome.startswith(f"🔒 #{number} 楼道加装声控灯 已结束\n结果：通过\n同意：2 · ")
        sent = await h.say(BUILDING_A, HEAD_A, f"/escalate {number} 需要动用维修资金")
        assert "上报网格" in (sent.text or "")
        await h.settle()
        card = next(m for m in h.emu.bot_messages(GRID_CHAT) if "⬆️ 上报" in (m.text or ""))
        assert f"#{number}" in (card.text or "") and "需要动用维修资金" in (card.text or "")
        taken = await h.press(GRID_CHAT, card.message_id, WORKER, "受理")
        assert taken["text"] == "已受理"
