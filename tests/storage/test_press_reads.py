"""What a batch of presses reads: each press's own facts, through the indexes.

Two topics posted in two chats, with people in both: the batch asks for some (topic, chat,
person) triples whose parts also combine into pairs nobody asked for, which must not be mixed
in. On SQLite, the statements of the batch and of its tallies search indexes: a scan of
``ballots`` or ``chat_members`` grew with every ballot ever cast. A tally counts ballots and
opinions in one statement. A building's roll and a person's chats search indexes too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from storage.database import Database
from storage.pairs import in_pairs, in_values, pairs_parameters, values_parameters
from storage.records import Topic, TopicStatus
from storage.repositories import Repositories
from storage.repositories.presses import read_presses
from storage.tables import ballots, chat_members
from tests.conftest import open_postgres

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
EAST, WEST = -1001, -1002  # two buildings' chats


async def _two_topics(database: Database) -> tuple[Topic, Topic]:
    made = []
    async with database.transaction() as repos:
        for name, chat in (("1号楼", EAST), ("2号楼", WEST)):
            node = await repos.orgs.create_node(
                level="building", name=name, parent_id=None, created_by=1, now=NOW
            )
            topic = await repos.topics.create(
                node_id=node.id,
                title=f"{name}加装电梯",
                description="",
                options=["同意", "反对", "弃权"],
                rule="majority",
                status="open",
                deadline=NOW + timedelta(days=3),
                created_by=1,
                created_at=NOW,
            )
            await repos.topics.add_post(
                topic_id=topic.id, chat_id=chat, node_id=node.id, voting=True, members=10
            )
            made.append(topic)
        # Person 1 is a member of the east building's chat, not of the west's; person 2 the
        # other way round. Each voted in their own building.
        await repos.chats.set_memberships([(EAST, 1, True), (WEST, 1, False)], NOW)
        await repos.chats.set_memberships([(WEST, 2, True), (EAST, 2, False)], NOW)
        await repos.topics.put_ballots(
            [_ballot(made[0], "u:1", 0), _ballot(made[1], "u:2", 1), _ballot(made[1], "u:1", 2)]
        )
    return made[0], made[1]


def _ballot(topic: Topic, key: str, option: int) -> dict[str, object]:
    return {
        "topic_id": topic.id,
        "voter_key": key,
        "option": option,
        "user_id": int(key[2:]),
        "household_id": None,
        "area": None,
        "node_id": topic.node_id,
        "channel": "button",
        "recorded_by": None,
        "updated_at": NOW,
    }


async def test_each_press_reads_its_own_membership_post_and_ballot(database: Database) -> None:
    east, west = await _two_topics(database)
    async with database.transaction() as repos:
        read = await read_presses(
            repos.connection,
            [(east.id, EAST, 1, "u:1"), (west.id, WEST, 2, "u:2"), (east.id, EAST, 2, "u:2")],
        )
        everything = await read_presses(
            repos.connection, [(east.id, EAST, 1, "u:1")], all_posts=True
        )
    first, second, third = read.facts
    assert first is not None and second is not None and third is not None
    assert (first.topic.id, first.post.chat_id, first.member, first.previous) == (
        east.id,
        EAST,
        True,
        (0, "button"),
    )
    assert (second.topic.id, second.post.chat_id, second.member, second.previous) == (
        west.id,
        WEST,
        True,
        (1, "button"),
    )
    # Person 2 in the east chat: their no there, and no ballot on the east topic (their
    # ballot on the west topic, and person 1's, are other pairs of the same lists).
    assert (third.member, third.previous) == (False, None)
    # Only the pressed chats' posts, unless all were asked for.
    assert {topic: [post.chat_id for post in posts] for topic, posts in read.posts.items()} == {
        east.id: [EAST],
        west.id: [WEST],
    }
    assert [post.chat_id for post in everything.posts[east.id]] == [EAST]


async def test_a_press_in_a_chat_the_topic_is_not_posted_in_reads_nothing(
    database: Database,
) -> None:
    east, _ = await _two_topics(database)
    async with database.transaction() as repos:
        read = await read_presses(repos.connection, [(east.id, WEST, 2, "u:2")])
    assert read.facts == [None]


async def test_memberships_answers_only_the_pairs_asked(database: Database) -> None:
    await _two_topics(database)
    async with database.transaction() as repos:
        found = await repos.chats.memberships([(EAST, 1), (WEST, 2), (EAST, 3)])
    assert found == {(EAST, 1): True, (WEST, 2): True}


async def _plans(
    database: Database, reads: Callable[[Repositories], Awaitable[object]]
) -> list[tuple[str, list[str]]]:
    """Each SELECT ``reads`` runs, with its plan: SQLite's ``EXPLAIN QUERY PLAN``, or
    PostgreSQL's ``EXPLAIN`` with sequential scans priced out (the tables here are too small
    for an index to be worth it; what counts is that the statement lets PostgreSQL use one)."""
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(database.engine.sync_engine, "before_cursor_execute", keep)
    try:
        async with database.transaction() as repos:
            await reads(repos)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", keep)
    sqlite = database.engine.dialect.name == "sqlite"
    planned = []
    async with database.engine.connect() as connection:
        if not sqlite:
            await connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            explain = "EXPLAIN QUERY PLAN" if sqlite else "EXPLAIN"
            plan = await connection.exec_driver_sql(f"{explain} {statement}", parameters)
            planned.append((statement, [str(row[-1]).strip() for row in plan]))
    return planned


_TABLES = ("ballots", "chat_members", "topics", "topic_posts", "opinions")


async def test_the_reads_of_presses_and_tallies_search_indexes_on_sqlite(
    sqlite_database: Database,
) -> None:
    east, west = await _two_topics(sqlite_database)

    async def reads(repos: Repositories) -> None:
        await read_presses(repos.connection, [(east.id, EAST, 1, "u:1"), (west.id, WEST, 2, "u:2")])
        await read_presses(repos.connection, [(east.id, EAST, 1, "u:1")], all_posts=True)
        await repos.topics.tallies_of([east.id, west.id])
        await repos.chats.memberships([(EAST, 1), (WEST, 2)])

    planned = await _plans(sqlite_database, reads)
    assert len(planned) in (10, 11)  # 11: the topics' rows new to the process, converted
    for statement, steps in planned:
        # Only the bound list is read through.
        scans = [step for step in steps if step.startswith("SCAN")]
        assert all(step.startswith("SCAN json_each ") for step in scans), (statement, steps)
        if "json_extract" in statement:  # pairs: one search of the two-column index per pair
            assert "SCAN json_each VIRTUAL TABLE INDEX 1:" in steps, (statement, steps)
            assert any(
                step.startswith("SEARCH found USING") and "=? AND " in step for step in steps
            ), (
                statement,
                steps,
            )
        if "count(*)" in statement:  # a tally: the ballots counted from the index alone
            assert any("COVERING INDEX ix_ballots_topic_option" in step for step in steps)


async def test_the_reads_of_presses_and_tallies_can_search_indexes_on_postgresql() -> None:
    async with open_postgres() as database:
        east, west = await _two_topics(database)

        async def reads(repos: Repositories) -> None:
            presses = [(east.id, EAST, 1, "u:1"), (west.id, WEST, 2, "u:2")]
            await read_presses(repos.connection, presses)
            await read_presses(repos.connection, presses[:1], all_posts=True)
            await repos.topics.tallies_of([east.id, west.id])
            await repos.chats.memberships([(EAST, 1), (WEST, 2)])

        planned = await _plans(database, reads)
    assert len(planned) in (10, 11)  # 11: the topics' rows new to the process, converted
    for statement, steps in planned:
        # The statements' text does not depend on the number of keys: one array each.
        assert "= ANY ($1::" in statement or "unnest($1::" in statement, statement
        scanned = {re.search(r"Seq Scan on (\w+)", step) for step in steps} - {None}
        assert not [m for m in scanned if m is not None and m[1] in _TABLES], (statement, steps)
        assert any("Index" in step for step in steps), (statement, steps)


async def test_a_buildings_roll_and_a_persons_chats_search_indexes_on_sqlite(
    sqlite_database: Database,
) -> None:
    east, _ = await _two_topics(sqlite_database)

    async def reads(repos: Repositories) -> None:
        await repos.households.registrations_of(east.node_id)
        await repos.households.count_by_status(east.node_id)
        await repos.chats.chats_of_member(1)
        await repos.topics.open_for_member(1)

    planned = await _plans(sqlite_database, reads)
    assert len(planned) == 4
    for statement, steps in planned:
        scans = [step for step in steps if step.startswith("SCAN")]
        # households joined to a building's registrations: that building's households
        assert not [step for step in scans if "registrations" in step or "chat_members" in step], (
            statement,
            steps,
        )


async def test_a_tally_counts_ballots_by_option_and_opinions_by_kind(database: Database) -> None:
    east, west = await _two_topics(database)
    async with database.transaction() as repos:
        for public, text in ((True, "支持"), (True, "同意加装"), (False, "担心噪音")):
            await repos.topics.add_opinion(
                topic_id=east.id,
                user_id=1,
                public=public,
                text=text,
                created_at=NOW,
                updated_at=NOW,
            )
        counts, opinions = await repos.topics.tallies_of([east.id, west.id, east.id + 100])
    assert counts == {east.id: {0: 1}, west.id: {1: 1, 2: 1}}
    assert opinions == {east.id: (2, 1)}


# Ids as Telegram and WeCom make them: a supergroup's, and ids near 2**62 (which a float
# would not keep exactly); voter keys as ballots have them, a person's and a secret one.
BIG = 2**62 + 12_345
CHAT_IDS = [-1001234567890, BIG, -BIG, *range(-3000, -3022, -1)]  # 25
USER_IDS = [1, BIG - 1, 10**12 + 7, *range(100, 137)]  # 40


@pytest.mark.parametrize("size", [0, 1, 500])
async def test_a_bound_list_finds_exactly_its_keys(database: Database, size: int) -> None:
    """Lists of any length, as one bound parameter: exactly the values and pairs asked (the
    pairs' parts combine into a thousand stored pairs nobody asked for), big ints and
    strings compared as stored."""
    east, west = await _two_topics(database)
    stored = [(chat, user) for chat in CHAT_IDS for user in USER_IDS]
    shuffle = random.Random(size)
    longest = "s:" + "f" * 78  # as long as a voter key can be
    keys = [longest, *(f"u:{user}" for user in USER_IDS)] + [
        f"s:{shuffle.getrandbits(256):064x}" for _ in range(60)
    ]
    async with database.transaction() as repos:
        await repos.chats.set_memberships([(c, u, (c + u) % 3 == 0) for c, u in stored], NOW)
        await repos.topics.put_ballots(
            [{**_ballot(east, "u:1", 0), "voter_key": key, "user_id": None} for key in keys]
        )
    asked = shuffle.sample(stored, (size + 1) // 2) + [
        (shuffle.choice(CHAT_IDS), -user) for user in range(1, size // 2 + 1)
    ]
    chats_asked = shuffle.sample(CHAT_IDS, min(size, 12)) + list(range(-5000, -5000 - size, -1))
    ballots_asked = [
        (shuffle.choice([east.id, west.id]), shuffle.choice(keys[1:])) for _ in range(size)
    ]
    if size > 1:  # a longer key is another key (not cut to the column's length, then equal)
        ballots_asked[0] = (east.id, longest + "0")
    async with database.transaction() as repos:
        dialect = repos.connection.dialect
        pairs_found = await repos.connection.execute(
            select(chat_members.c.chat_id, chat_members.c.user_id).where(
                in_pairs(chat_members.c.chat_id, chat_members.c.user_id, "keys")
            ),
            pairs_parameters(dialect, "keys", asked),
        )
        chats_found = await repos.connection.execute(
            select(chat_members.c.chat_id).where(in_values(chat_members.c.chat_id, "ids")),
            values_parameters(dialect, "ids", chats_asked),
        )
        ballots_found = await repos.connection.execute(
            select(ballots.c.topic_id, ballots.c.voter_key).where(
                in_pairs(ballots.c.topic_id, ballots.c.voter_key, "keys")
            ),
            pairs_parameters(dialect, "keys", ballots_asked),
        )
        memberships = await repos.chats.memberships(asked)
    assert sorted(map(tuple, pairs_found)) == sorted(set(asked) & set(stored))
    assert sorted(row[0] for row in chats_found) == sorted(
        chat for chat in chats_asked if chat in CHAT_IDS for _ in USER_IDS
    )
    cast = {(east.id, key) for key in keys} | {(west.id, "u:1"), (west.id, "u:2")}
    assert set(map(tuple, ballots_found)) == set(ballots_asked) & cast
    assert memberships == {(c, u): (c + u) % 3 == 0 for c, u in set(asked) & set(stored)}


async def test_a_topic_changed_since_the_last_batch_is_read_as_it_is_now(
    database: Database,
) -> None:
    east, _ = await _two_topics(database)
    press = [(east.id, EAST, 1, "u:1")]
    async with database.transaction() as repos:
        first = (await read_presses(repos.connection, press)).topics[east.id]
        again = (await read_presses(repos.connection, press)).topics[east.id]
    assert again is first  # the same stored row: the record made from it before
    later = NOW + timedelta(days=9)
    async with database.transaction() as repos:
        await repos.topics.set_deadline(east.id, later)
    async with database.transaction() as repos:
        extended = (await read_presses(repos.connection, press)).topics[east.id]
    assert extended.deadline == later and extended.status == first.status
    async with database.transaction() as repos:
        await repos.topics.close(
            east.id,
            status=TopicStatus.CLOSED,
            now=later,
            outcome={"verdict": "passed", "eligible": 10},
        )
    async with database.transaction() as repos:
        closed = (await read_presses(repos.connection, press)).topics[east.id]
    assert not closed.is_open and closed.outcome == {"verdict": "passed", "eligible": 10}
    assert closed.title == first.title and closed.options == first.options
