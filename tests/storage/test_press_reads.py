"""What a batch of presses reads: each press's own facts, through the indexes.

Two topics posted in two chats, with people in both: the batch asks for some (topic, chat,
person) triples whose parts also combine into pairs nobody asked for, which must not be mixed
in. On SQLite, the statements of the batch and of its tallies search indexes: a scan of
``ballots`` or ``chat_members`` grew with every ballot ever cast. A tally counts ballots and
opinions in one statement. A building's roll and a person's chats search indexes too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from storage.database import Database
from storage.records import Topic
from storage.repositories import Repositories
from storage.repositories.presses import read_presses

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
    """Each SELECT ``reads`` runs, with SQLite's plan for it."""
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
    planned = []
    async with database.engine.connect() as connection:
        for statement, parameters in statements:
            plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            planned.append((statement, [str(row[-1]) for row in plan]))
    return planned


async def test_the_reads_of_presses_and_tallies_search_indexes_on_sqlite(
    sqlite_database: Database,
) -> None:
    east, west = await _two_topics(sqlite_database)

    async def reads(repos: Repositories) -> None:
        await read_presses(repos.connection, [(east.id, EAST, 1, "u:1"), (west.id, WEST, 2, "u:2")])
        await repos.topics.tallies_of([east.id, west.id])
        await repos.chats.memberships([(EAST, 1), (WEST, 2)])

    planned = await _plans(sqlite_database, reads)
    assert len(planned) == 6
    for statement, steps in planned:
        assert not [step for step in steps if step.startswith("SCAN")], (statement, steps)
        if "count(*)" in statement:  # a tally: the ballots counted from the index alone
            assert any("COVERING INDEX ix_ballots_topic_option" in step for step in steps)


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
