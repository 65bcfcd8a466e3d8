"""Topics, ballots, opinions, proposals, timers and the outbox on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from bot.services.announcements import TopicClosed
from storage.database import Database
from storage.records import BallotChannel, Rule, Scope, Topic, TopicStatus

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


async def _topic(database: Database, **overrides: object) -> Topic:
    async with database.transaction() as repos:
        node = await repos.orgs.create_node(
            level="building", name="1号楼", parent_id=None, created_by=1, now=NOW
        )
        values: dict[str, object] = {
            "node_id": node.id,
            "title": "加装电梯",
            "description": "",
            "options": ["同意", "反对", "弃权"],
            "rule": "majority",
            "status": "open",
            "deadline": NOW + timedelta(days=3),
            "created_by": 1,
            "created_at": NOW,
        }
        values.update(overrides)
        topic = await repos.topics.create(**values)
        await repos.topics.add_post(
            topic_id=topic.id, chat_id=-100, node_id=node.id, voting=True, members=10
        )
    return topic


def _ballot(topic: Topic, key: str, option: int) -> dict[str, object]:
    return {
        "topic_id": topic.id,
        "voter_key": key,
        "option": option,
        "user_id": None,
        "household_id": None,
        "area": Decimal("80.50"),
        "node_id": topic.node_id,
        "channel": "button",
        "recorded_by": None,
        "updated_at": NOW,
    }


async def test_the_last_ballot_of_a_voter_counts(database: Database) -> None:
    topic = await _topic(database)
    async with database.transaction() as repos:
        await repos.topics.put_ballot(**_ballot(topic, "u:1", 0))
        await repos.topics.put_ballot(**_ballot(topic, "u:2", 0))
        await repos.topics.put_ballot(**_ballot(topic, "u:1", 1))
        counts = await repos.topics.counts(topic.id)
        stored = await repos.topics.ballot(topic.id, "u:1")
    assert counts == {0: 1, 1: 1}
    assert stored is not None and stored.option == 1 and stored.area == Decimal("80.50")


@pytest.mark.parametrize("rule", list(Rule))
async def test_a_topic_and_its_ballot_read_back_as_the_enums_members(
    database: Database, rule: Rule
) -> None:
    topic = await _topic(database, rule=rule.value, scope="all")
    async with database.transaction() as repos:
        await repos.topics.put_ballot(**{**_ballot(topic, "u:1", 0), "channel": "paper"})
        read = await repos.topics.get(topic.id)
        ballot = await repos.topics.ballot(topic.id, "u:1")
    assert read is not None and ballot is not None
    assert read.rule is rule and read.scope is Scope.ALL and read.status is TopicStatus.OPEN
    assert ballot.channel is BallotChannel.PAPER


async def test_a_topic_closes_once_and_its_salt_is_erased(database: Database) -> None:
    topic = await _topic(database, secret=True, ballot_salt="abc")
    async with database.transaction() as repos:
        assert await repos.topics.close(topic.id, status="closed", now=NOW, outcome={"v": 1})
        assert not await repos.topics.close(topic.id, status="cancelled", now=NOW, outcome=None)
        closed = await repos.topics.get(topic.id)
    assert closed is not None and closed.status == "closed"
    assert closed.ballot_salt is None and closed.outcome == {"v": 1} and closed.closed_at == NOW


async def test_posts_and_messages(database: Database) -> None:
    topic = await _topic(database)
    async with database.transaction() as repos:
        await repos.topics.set_post_message(topic.id, -100, 42)
        await repos.topics.set_rendered(topic.id, -100, "f" * 64)
        post = await repos.topics.post_at_message(-100, 42)
        needing = await repos.topics.ids_needing_refresh()
    assert post is not None and post.members == 10 and post.rendered_hash == "f" * 64
    assert needing == [topic.id]  # open topics are refreshed after a restart


async def test_opinions_are_updated_by_their_message(database: Database) -> None:
    topic = await _topic(database)
    async with database.transaction() as repos:
        await repos.topics.add_opinion(
            topic_id=topic.id,
            user_id=5,
            public=True,
            text="好",
            chat_id=-100,
            message_id=7,
            created_at=NOW,
            updated_at=NOW,
        )
        await repos.topics.add_opinion(
            topic_id=topic.id,
            user_id=6,
            public=False,
            text="私下",
            chat_id=None,
            message_id=None,
            created_at=NOW,
            updated_at=NOW,
        )
        assert await repos.topics.update_opinion_at(-100, 7, "很好", NOW)
        assert not await repos.topics.update_opinion_at(-100, 8, "无", NOW)
        public = await repos.topics.opinions(topic.id, public_only=True)
        counts = await repos.topics.opinion_counts(topic.id)
    assert [o.text for o in public] == ["很好"]
    assert counts == (1, 1)


async def test_the_same_reply_cannot_be_two_opinions(database: Database) -> None:
    topic = await _topic(database)
    values = {
        "topic_id": topic.id,
        "user_id": 5,
        "public": True,
        "text": "a",
        "chat_id": -100,
        "message_id": 7,
        "created_at": NOW,
        "updated_at": NOW,
    }
    with pytest.raises(IntegrityError):
        async with database.transaction() as repos:
            await repos.topics.add_opinion(**values)
            await repos.topics.add_opinion(**values)


async def test_a_nudge_is_claimed_once_per_spacing(database: Database) -> None:
    topic = await _topic(database)
    async with database.transaction() as repos:
        assert await repos.topics.claim_nudge(
            topic.id, now=NOW, not_after=NOW - timedelta(hours=12)
        )
        later = NOW + timedelta(hours=1)
        assert not await repos.topics.claim_nudge(
            topic.id, now=later, not_after=later - timedelta(hours=12)
        )
        much_later = NOW + timedelta(hours=13)
        assert await repos.topics.claim_nudge(
            topic.id, now=much_later, not_after=much_later - timedelta(hours=12)
        )


async def test_timers_are_moved_claimed_once_and_cancelled(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.timers.schedule("topic.close", "1", NOW + timedelta(hours=1))
        await repos.timers.schedule("topic.close", "1", NOW + timedelta(hours=2))  # moved
        await repos.timers.schedule("topic.nudge", "1", NOW + timedelta(minutes=30))
        assert await repos.timers.due(NOW) == []
        due = await repos.timers.due(NOW + timedelta(hours=3))
        assert [(t.kind, t.due_at) for t in due] == [
            ("topic.nudge", NOW + timedelta(minutes=30)),
            ("topic.close", NOW + timedelta(hours=2)),
        ]
        assert not await repos.timers.claim(due[0].id, NOW)  # not due yet (moved meanwhile)
        assert await repos.timers.claim(due[0].id, NOW + timedelta(hours=3))
        assert not await repos.timers.claim(due[0].id, NOW + timedelta(hours=3))
        await repos.timers.cancel("topic.close", "1", NOW)
        assert await repos.timers.due(NOW + timedelta(days=9)) == []
        assert await repos.timers.next_due() is None


async def test_outbox_retries_and_marks_sent(database: Database) -> None:
    async with database.transaction() as repos:
        first = await repos.outbox.add(
            chat_id=-100, announcement=TopicClosed(topic_id=1), now=NOW, reply_to=9
        )
        await repos.outbox.add(chat_id=-200, announcement=TopicClosed(topic_id=1), now=NOW)
        await repos.outbox.retry_later(first, at=NOW + timedelta(seconds=30), error="429")
        pending = await repos.outbox.pending(NOW)
        assert [m.chat_id for m in pending] == [-200]
        assert (pending[0].kind, pending[0].payload) == ("topic.closed", {"topic_id": 1})
        later = await repos.outbox.pending(NOW + timedelta(minutes=1))
        assert [m.chat_id for m in later] == [-100, -200] and later[0].attempts == 1
        await repos.outbox.sent(first, telegram_id=77, now=NOW)
        await repos.outbox.give_up(later[1].id, error="403")
        assert await repos.outbox.pending(NOW + timedelta(days=1)) == []
        assert await repos.outbox.telegram_id(first) == 77


async def test_proposals_are_decided_once(database: Database) -> None:
    async with database.transaction() as repos:
        node = await repos.orgs.create_node(
            level="building", name="1号楼", parent_id=None, created_by=1, now=NOW
        )
        proposal = await repos.proposals.add(
            node_id=node.id, chat_id=-100, user_id=5, text="加装充电桩", now=NOW
        )
        assert await repos.proposals.decide(
            proposal.id, status="declined", decided_by=2, now=NOW, reason="private_dispute"
        )
        assert not await repos.proposals.decide(
            proposal.id, status="accepted", decided_by=3, now=NOW
        )
        stored = await repos.proposals.get(proposal.id)
    assert stored is not None and stored.status == "declined" and stored.reason == "private_dispute"


async def test_membership_is_recorded(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.chats.set_membership(-100, 5, True, NOW)
        await repos.chats.set_membership(-100, 5, False, NOW)
        assert await repos.chats.membership(-100, 5) is False
        assert await repos.chats.membership(-100, 6) is None
