"""What button presses read, in one statement for a whole batch (bot/services/topics/ballots.py).

For each press: the topic (locked as by ``TopicRepository.get_locked(shared=True)``), its
post in the chat (all the topic's posts are read), the presser's cached membership of the
chat and their ballot under a given key. Four statements for the whole batch instead of four
per press: each statement costs far more in SQLAlchemy than in the database, and on
PostgreSQL each is a round trip (docs/PERFORMANCE.md). Each is built once and compiled once:
the presses' keys go in as one bound list each (storage/pairs.py: a JSON array on SQLite, arrays
on PostgreSQL), whose SQL text does not depend on their number (a ``VALUES`` list of the
presses, as this once was, built and compiled a new statement for every batch, which cost more
than everything else a press does; expanding ``IN`` lists were rendered at every execution). The
two-column keys find exactly the pairs asked for, each by one search of the table's index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, Text, cast, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import NullType

from storage.pairs import in_pairs, in_values, pairs_parameters, values_parameters
from storage.records import Topic, TopicPost
from storage.repositories.topics import _post, _topic
from storage.tables import ballots, chat_members, topic_posts, topics


@dataclass(frozen=True, slots=True)
class PressFacts:
    topic: Topic
    post: TopicPost
    member: bool | None  # the cached membership (None: never checked)
    previous: tuple[int, str] | None  # (option, channel) of the ballot under the key given


PressKey = tuple[int, int, int, str]  # topic, chat, presser, ballot key


def _as_stored(column: Column[Any]) -> ColumnElement[Any]:
    """The column's value as the driver reads it, and hashable: JSON as its text (asyncpg
    would decode it into lists and dicts), the rest unconverted."""
    if isinstance(column.type, JSON):
        return type_coerce(cast(column, Text), NullType())
    return type_coerce(column, NullType())


# ``FOR SHARE``: a close waits for the ballot and counts it, or the ballot waits for the close
# and finds the topic closed (PostgreSQL; on SQLite every transaction holds the write lock).
# The rows as the driver gives them, unconverted: the records made from them are kept
# (_StoredTopics), and a row seen before is not converted again.
_TOPICS = (
    select(*(_as_stored(column).label(column.name) for column in topics.c))
    .where(in_values(topics.c.id, "ids"))
    .with_for_update(read=True)
)
# The topics whose stored row is new to the memo, converted (locked already, unchanged since).
_TOPICS_CONVERTED = select(topics).where(in_values(topics.c.id, "ids"))


class _StoredTopics:
    """The ``Topic`` made from each stored row lately read, by the row's every value.

    A batch of presses reads its topics (locked) and made a ``Topic`` of each row: SQLAlchemy
    converting the JSON and datetime columns, then the record, for the same few topics in
    every batch (6 % of a WeCom press's CPU). A row equal in every column to one read before
    makes the same record, so that one is answered (records are immutable); a row that
    differs in anything (a close, a new deadline) is new, and converted. Kept for the
    ``capacity`` rows last made, the oldest forgotten first."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._made: dict[tuple[Any, ...], Topic] = {}

    async def of(
        self, connection: AsyncConnection, ids: Iterable[int], dialect: Any
    ) -> dict[int, Topic]:
        rows = await connection.execute(_TOPICS, values_parameters(dialect, "ids", ids))
        stored: dict[int, tuple[Any, ...]] = {int(row[0]): tuple(row) for row in rows}
        found: dict[int, Topic] = {}
        new: list[int] = []
        for topic_id, row in stored.items():
            topic = self._made.get(row)
            if topic is None:
                new.append(topic_id)
            else:
                found[topic_id] = topic
        if new:
            for row in await connection.execute(
                _TOPICS_CONVERTED, values_parameters(dialect, "ids", new)
            ):
                topic = found[row.id] = _topic(row)
                self._made[stored[row.id]] = topic
            while len(self._made) > self.capacity:
                del self._made[next(iter(self._made))]
        return found


_STORED_TOPICS = _StoredTopics()
_POSTS = select(topic_posts).where(in_pairs(topic_posts.c.topic_id, topic_posts.c.chat_id, "keys"))
# Every post of the batch's topics, when a tally is read after the ballots
# (TopicService.vote(tally=True)): it needs them all, and need not read them again.
_ALL_POSTS = select(topic_posts).where(in_values(topic_posts.c.topic_id, "ids"))
_MEMBERS = select(chat_members.c.chat_id, chat_members.c.user_id, chat_members.c.member).where(
    in_pairs(chat_members.c.chat_id, chat_members.c.user_id, "keys")
)
_BALLOTS = select(
    ballots.c.topic_id, ballots.c.voter_key, ballots.c.option, ballots.c.channel
).where(in_pairs(ballots.c.topic_id, ballots.c.voter_key, "keys"))


@dataclass(frozen=True, slots=True)
class PressesRead:
    """What a batch of presses read: each press's facts, in order (None where the topic does
    not exist or is not posted in the chat), and the batch's topics and their posts (all of
    them if asked for: ``read_presses(all_posts=True)``)."""

    facts: list[PressFacts | None]
    topics: dict[int, Topic]
    posts: dict[int, list[TopicPost]]


async def read_presses(
    connection: AsyncConnection, presses: Sequence[PressKey], *, all_posts: bool = False
) -> PressesRead:
    """Each press's facts. Four statements for them all (a batch of presses,
    storage/batched_write.py); ``all_posts``: every post of their topics, not only the pressed
    chats' (``PressesRead.posts`` has only those otherwise)."""
    if not presses:
        return PressesRead([], {}, {})
    dialect = connection.dialect
    found = await _STORED_TOPICS.of(connection, {p[0] for p in presses}, dialect)
    if not found:
        return PressesRead([None] * len(presses), found, {})
    posts_of: dict[int, list[TopicPost]] = {}
    posts: dict[tuple[int, int], TopicPost] = {}
    if all_posts:
        rows = await connection.execute(_ALL_POSTS, values_parameters(dialect, "ids", found.keys()))
    else:
        pairs = {(topic, chat) for topic, chat, _, _ in presses if topic in found}
        rows = await connection.execute(_POSTS, pairs_parameters(dialect, "keys", pairs))
    for row in rows:
        read = _post(row)
        posts_of.setdefault(read.topic_id, []).append(read)
        posts[(read.topic_id, read.chat_id)] = read
    members_asked = {(chat, user) for topic, chat, user, _ in presses if (topic, chat) in posts}
    members: dict[tuple[int, int], bool] = {}
    if members_asked:
        rows = await connection.execute(_MEMBERS, pairs_parameters(dialect, "keys", members_asked))
        for row in rows:
            if row.member is not None:
                members[(row.chat_id, row.user_id)] = bool(row.member)
    ballots_asked = {(topic, key) for topic, chat, _, key in presses if (topic, chat) in posts}
    previous: dict[tuple[int, str], tuple[int, str]] = {}
    if ballots_asked:
        for cast in await connection.execute(
            _BALLOTS, pairs_parameters(dialect, "keys", ballots_asked)
        ):
            previous[(cast.topic_id, cast.voter_key)] = (int(cast.option), str(cast.channel))
    facts: list[PressFacts | None] = []
    for topic_id, chat_id, user_id, key in presses:
        post = posts.get((topic_id, chat_id))
        if post is None:
            facts.append(None)
            continue
        facts.append(
            PressFacts(
                found[topic_id],
                post,
                members.get((chat_id, user_id)),
                previous.get((topic_id, key)),
            )
        )
    return PressesRead(facts, found, posts_of)
