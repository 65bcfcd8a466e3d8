"""A group upgraded to a supergroup: what moves to the new id, on SQLite and PostgreSQL.

The end-to-end tests (tests/e2e/test_chat_migration.py) show the binding, queued mail, an
open ballot, a membership and a coming meeting following the chat; this covers the rest, and
what must not move.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.services.announcements import TopicClosed
from storage.database import Database
from storage.tables import (
    chat_members,
    digests_sent,
    escalations,
    outbox,
    proposals,
    subscriptions,
    topic_posts,
)

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
OLD, NEW, OTHER = -555, -100555, -777


async def _topic(database: Database, node_id: int, status: str) -> int:
    async with database.transaction() as repos:
        topic = await repos.topics.create(
            node_id=node_id,
            title="议题",
            description="",
            options=["同意", "反对"],
            rule="majority",
            status=status,
            deadline=NOW,
            created_by=1,
            created_at=NOW,
        )
        await repos.topics.add_post(
            topic_id=topic.id, chat_id=OLD, node_id=node_id, voting=True, members=3
        )
        await repos.topics.set_post_message(topic.id, OLD, 42)
        return topic.id


async def test_live_rows_move_and_the_record_stays(database: Database) -> None:
    async with database.transaction() as repos:
        grid = await repos.orgs.create_node(
            level="grid", name="网格", parent_id=None, created_by=1, now=NOW
        )
        building = await repos.orgs.create_node(
            level="building", name="楼", parent_id=grid.id, created_by=1, now=NOW
        )
    open_topic = await _topic(database, building.id, "open")
    closed_topic = await _topic(database, building.id, "closed")
    async with database.transaction() as repos:
        hops = await repos.escalations.add_many(
            [
                {
                    "topic_id": topic,
                    "from_node_id": building.id,
                    "to_node_id": grid.id,
                    "reason": "tie",
                    "created_at": NOW,
                    "card_chat_id": OLD,
                }
                for topic in (open_topic, closed_topic)
            ]
        )
        await repos.escalations.transition(
            hops[1].id, from_states=("open",), to_state="resolved", closed_at=NOW
        )
        await repos.chats.set_memberships([(OLD, 5, True), (OLD, 6, True), (NEW, 6, False)], NOW)
        await repos.digests.subscribe(chat_id=OLD, node_id=grid.id, by=1, now=NOW)
        await repos.outbox.add(
            chat_id=OLD, announcement=TopicClosed(topic_id=1), now=NOW, reply_to=42
        )
        sent = await repos.outbox.add(chat_id=OLD, announcement=TopicClosed(topic_id=1), now=NOW)
        await repos.outbox.sent(sent, telegram_id=43, now=NOW)
        await repos.outbox.add(chat_id=OTHER, announcement=TopicClosed(topic_id=1), now=NOW)
        for status in ("open", "declined"):
            await repos.connection.execute(
                proposals.insert().values(
                    node_id=building.id,
                    chat_id=OLD,
                    user_id=5,
                    text="提议",
                    status=status,
                    created_at=NOW,
                )
            )

    async with database.transaction() as repos:
        moved = await repos.chat_moves.move(OLD, NEW)
    assert moved.topic_ids == [open_topic] and moved.escalation_ids == [hops[0].id]
    assert moved.queued

    async with database.transaction() as repos:
        run = repos.connection.execute
        posts = (await run(select(topic_posts.c.topic_id, topic_posts.c.chat_id))).all()
        # The open ballot is posted again in the new chat; the closed one's stays history.
        assert sorted(map(tuple, posts)) == [(open_topic, NEW), (closed_topic, OLD)]
        post = await repos.topics.post_in(open_topic, NEW)
        assert post is not None and post.message_id is None
        cards = dict((await run(select(escalations.c.id, escalations.c.card_chat_id))).all())
        assert cards == {hops[0].id: NEW, hops[1].id: OLD}
        members = (await run(select(chat_members.c.chat_id, chat_members.c.user_id))).all()
        # The new chat's own answer (user 6: not a member) wins over the old one.
        assert sorted(map(tuple, members)) == [(NEW, 5), (NEW, 6)]
        assert await repos.chats.membership(NEW, 6) is False
        assert (await run(select(subscriptions.c.chat_id))).scalars().all() == [NEW]
        mail = (await run(select(outbox.c.chat_id, outbox.c.reply_to, outbox.c.sent_at))).all()
        assert sorted((chat, reply, sent is not None) for chat, reply, sent in mail) == sorted(
            [
                (NEW, None, False),  # pending: to the new id, no reply into the old chat
                (OLD, None, True),  # delivered: its record stays
                (OTHER, None, False),
            ]
        )
        asked = (await run(select(proposals.c.status, proposals.c.chat_id))).all()
        assert sorted(map(tuple, asked)) == [("declined", OLD), ("open", NEW)]
        assert (await run(select(digests_sent))).all() == []

    async with database.transaction() as repos:  # told again (the service message): no-op
        again = await repos.chat_moves.move(OLD, NEW)
    assert again.topic_ids == [] and again.escalation_ids == [] and not again.queued
