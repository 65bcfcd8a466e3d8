"""What button presses read, in one statement for a whole batch (bot/services/topics/ballots.py).

For each press: the topic (locked as by ``TopicRepository.get_locked(shared=True)``), its
post in the chat, the presser's cached membership of the chat and their ballot under a given
key. One statement instead of four per press: each statement costs far more in SQLAlchemy
than in the database, and on PostgreSQL each is a round trip (docs/PERFORMANCE.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Integer, column, select, values
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Topic, TopicPost
from storage.repositories.topics import _topic
from storage.tables import ballots, chat_members, topic_posts, topics


@dataclass(frozen=True, slots=True)
class PressFacts:
    topic: Topic
    post: TopicPost
    member: bool | None  # the cached membership (None: never checked)
    previous: tuple[int, str] | None  # (option, channel) of the ballot under the key given


PressKey = tuple[int, int, int, str]  # topic, chat, presser, ballot key


async def read_presses(
    connection: AsyncConnection, presses: Sequence[PressKey]
) -> list[PressFacts | None]:
    """Each press's facts, in order; None where the topic does not exist or is not posted in
    the chat. One statement for them all (a batch of presses, storage/batched_write.py)."""
    pressed = (
        values(
            column("i", Integer),
            column("topic_id", topics.c.id.type),
            column("chat_id", topic_posts.c.chat_id.type),
            column("user_id", chat_members.c.user_id.type),
            column("key", ballots.c.voter_key.type),
            name="pressed",
        )
        .data([(index, *press) for index, press in enumerate(presses)])
        .cte("pressed")
    )
    # ``FOR SHARE OF topics``: PostgreSQL cannot lock the nullable side of an outer join, and
    # only the topic needs the lock (a close waits for the ballot and counts it, or the ballot
    # waits for the close and finds the topic closed).
    statement = (
        select(
            pressed.c.i,
            topics,
            topic_posts.c.node_id.label("p_node_id"),
            topic_posts.c.message_id.label("p_message_id"),
            topic_posts.c.voting.label("p_voting"),
            topic_posts.c.members.label("p_members"),
            topic_posts.c.rendered_hash.label("p_rendered_hash"),
            topic_posts.c.message_thread_id.label("p_thread_id"),
            chat_members.c.member.label("m_member"),
            ballots.c.option.label("b_option"),
            ballots.c.channel.label("b_channel"),
        )
        .select_from(pressed)
        .join(topics, topics.c.id == pressed.c.topic_id)
        .join(
            topic_posts,
            (topic_posts.c.topic_id == pressed.c.topic_id)
            & (topic_posts.c.chat_id == pressed.c.chat_id),
        )
        .outerjoin(
            chat_members,
            (chat_members.c.chat_id == pressed.c.chat_id)
            & (chat_members.c.user_id == pressed.c.user_id),
        )
        .outerjoin(
            ballots,
            (ballots.c.topic_id == pressed.c.topic_id) & (ballots.c.voter_key == pressed.c.key),
        )
        .with_for_update(read=True, of=topics)
    )
    found: list[PressFacts | None] = [None] * len(presses)
    for row in await connection.execute(statement):
        topic_id, chat_id, _, _ = presses[row.i]
        post = TopicPost(
            topic_id=topic_id,
            chat_id=chat_id,
            node_id=row.p_node_id,
            message_id=row.p_message_id,
            voting=row.p_voting,
            members=row.p_members,
            rendered_hash=row.p_rendered_hash,
            thread_id=row.p_thread_id,
        )
        member = None if row.m_member is None else bool(row.m_member)
        previous = None if row.b_option is None else (int(row.b_option), str(row.b_channel))
        found[row.i] = PressFacts(_topic(row), post, member, previous)
    return found
