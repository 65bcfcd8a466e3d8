"""The topic aggregate: a topic, the messages it was posted as, its ballots and opinions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, cast, func, literal_column, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.changes import UNTRACKED
from storage.pairs import in_values, values_parameters
from storage.records import (
    Ballot,
    BallotChannel,
    Opinion,
    Rule,
    Scope,
    Topic,
    TopicPost,
    TopicStatus,
    member_of,
)
from storage.tables import ballots, chat_members, opinions, topic_posts, topics
from storage.upsert import upsert_many

_rule, _scope, _status = member_of(Rule), member_of(Scope), member_of(TopicStatus)
_channel = member_of(BallotChannel)


def _topic(row: Any) -> Topic:
    return Topic(
        id=row.id,
        node_id=row.node_id,
        title=row.title,
        description=row.description,
        options=tuple(row.options),
        rule=_rule(row.rule),
        category=row.category,
        quorum_percent=row.quorum_percent,
        secret=row.secret,
        household=row.household,
        hide_results=row.hide_results,
        scope=_scope(row.scope),
        status=_status(row.status),
        deadline=row.deadline,
        created_by=row.created_by,
        created_at=row.created_at,
        closed_at=row.closed_at,
        outcome=dict(row.outcome) if row.outcome is not None else None,
        ballot_salt=row.ballot_salt,
        last_nudge_at=row.last_nudge_at,
    )


def _post(row: Any) -> TopicPost:
    return TopicPost(
        topic_id=row.topic_id,
        chat_id=row.chat_id,
        node_id=row.node_id,
        message_id=row.message_id,
        voting=row.voting,
        members=row.members,
        rendered_hash=row.rendered_hash,
        thread_id=row.message_thread_id,
    )


def _ballot(row: Any) -> Ballot:
    return Ballot(
        topic_id=row.topic_id,
        voter_key=row.voter_key,
        option=row.option,
        user_id=row.user_id,
        household_id=row.household_id,
        area=row.area,
        node_id=row.node_id,
        channel=_channel(row.channel),
        recorded_by=row.recorded_by,
        updated_at=row.updated_at,
    )


def _opinion(row: Any) -> Opinion:
    return Opinion(
        id=row.id,
        topic_id=row.topic_id,
        user_id=row.user_id,
        public=row.public,
        text=row.text,
        chat_id=row.chat_id,
        message_id=row.message_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# The statements of every button press, built once (see storage/upsert.py for why).
_TOPIC = select(topics).where(topics.c.id == bindparam("topic_id"))
# PostgreSQL: FOR SHARE / FOR NO KEY UPDATE (SQLite renders neither: see get_locked).
_TOPIC_SHARED = _TOPIC.with_for_update(read=True)
_TOPIC_LOCKED = _TOPIC.with_for_update(key_share=True)
_POST_IN = select(topic_posts).where(
    topic_posts.c.topic_id == bindparam("topic_id"), topic_posts.c.chat_id == bindparam("chat_id")
)
_BALLOT = select(ballots).where(
    ballots.c.topic_id == bindparam("topic_id"), ballots.c.voter_key == bindparam("voter_key")
)
_BALLOT_OF_USER = (
    select(ballots)
    .where(ballots.c.topic_id == bindparam("topic_id"), ballots.c.user_id == bindparam("user_id"))
    .order_by(ballots.c.updated_at.desc())
    .limit(1)
)
_CHOICES_OF = (
    select(ballots.c.user_id, ballots.c.option)
    .where(
        ballots.c.topic_id == bindparam("topic_id"),
        ballots.c.user_id.in_(bindparam("user_ids", expanding=True)),
    )
    .order_by(ballots.c.updated_at)
)
_MANY = select(topics).where(topics.c.id.in_(bindparam("ids", expanding=True)))
_POSTS_OF = select(topic_posts).where(topic_posts.c.topic_id.in_(bindparam("ids", expanding=True)))
_COUNTS_OF = (
    select(ballots.c.topic_id, ballots.c.option, func.count())
    .where(ballots.c.topic_id.in_(bindparam("ids", expanding=True)))
    .group_by(ballots.c.topic_id, ballots.c.option)
)
_OPINION_COUNTS_OF = (
    select(opinions.c.topic_id, opinions.c.public, func.count())
    .where(opinions.c.topic_id.in_(bindparam("ids", expanding=True)))
    .group_by(opinions.c.topic_id, opinions.c.public)
)
# Both in one statement (a tally shows them together): ballots by option (kind 0), opinions
# by public (kind 1, public 1 or 0). The topics as one bound list (storage/pairs.py): a batch
# of presses reads its tallies, and an expanding IN list is rendered at every execution.
_TALLIES_OF = union_all(
    select(
        ballots.c.topic_id,
        literal_column("0", Integer).label("kind"),
        ballots.c.option.label("key"),
        func.count(),
    )
    .where(in_values(ballots.c.topic_id, "ids"))
    .group_by(ballots.c.topic_id, ballots.c.option),
    select(
        opinions.c.topic_id,
        literal_column("1", Integer).label("kind"),
        cast(opinions.c.public, Integer).label("key"),
        func.count(),
    )
    .where(in_values(opinions.c.topic_id, "ids"))
    .group_by(opinions.c.topic_id, opinions.c.public),
)
# After every edit of a live ballot message.
_SET_RENDERED = (
    update(topic_posts)
    .where(
        topic_posts.c.topic_id == bindparam("b_topic_id"),
        topic_posts.c.chat_id == bindparam("b_chat_id"),
    )
    .values(rendered_hash=bindparam("b_hash"))
)
# Closing many topics sets each one's outcome in one executemany.
_SET_OUTCOME = (
    update(topics).where(topics.c.id == bindparam("b_id")).values(outcome=bindparam("b_outcome"))
)


class TopicRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    # Topics -------------------------------------------------------------------------------

    async def create(self, **values: Any) -> Topic:
        result = await self._db.execute(topics.insert().values(**values).returning(*topics.c))
        return _topic(result.one())

    async def get(self, topic_id: int) -> Topic | None:
        row = (await self._db.execute(_TOPIC, {"topic_id": topic_id})).first()
        return _topic(row) if row else None

    async def get_locked(self, topic_id: int, *, shared: bool = False) -> Topic | None:
        """The topic, its row locked until the transaction ends (PostgreSQL; on SQLite every
        transaction holds the write lock): a ballot (``shared``) waits for a concurrent close
        and finds the topic closed, or the close waits for it and counts it."""
        statement = _TOPIC_SHARED if shared else _TOPIC_LOCKED
        row = (await self._db.execute(statement, {"topic_id": topic_id})).first()
        return _topic(row) if row else None

    async def many(self, topic_ids: Iterable[int]) -> dict[int, Topic]:
        """Topics by id, in one query."""
        ids = sorted(set(topic_ids))
        if not ids:
            return {}
        rows = await self._db.execute(_MANY, {"ids": ids})
        return {row.id: _topic(row) for row in rows}

    async def at_nodes(
        self, node_ids: Iterable[int], *, statuses: tuple[TopicStatus, ...], limit: int = 30
    ) -> list[Topic]:
        rows = await self._db.execute(
            select(topics)
            .where(topics.c.node_id.in_(list(node_ids)), topics.c.status.in_(statuses))
            .order_by(topics.c.id.desc())
            .limit(limit)
        )
        return [_topic(row) for row in rows]

    async def open_for_member(self, user_id: int, limit: int = 50) -> list[Topic]:
        """Open topics posted in a chat the user was last seen a member of (the web's "my
        household" page), newest first."""
        chats = select(chat_members.c.chat_id).where(
            chat_members.c.user_id == user_id, chat_members.c.member.is_(True)
        )
        posted = select(topic_posts.c.topic_id).where(topic_posts.c.chat_id.in_(chats))
        rows = await self._db.execute(
            select(topics)
            .where(topics.c.id.in_(posted), topics.c.status == TopicStatus.OPEN)
            .order_by(topics.c.id.desc())
            .limit(limit)
        )
        return [_topic(row) for row in rows]

    async def open_household_posted_at(
        self, node_ids: Iterable[int], limit: int = 50
    ) -> list[Topic]:
        """Open household topics posted at these nodes (a registered household's, whether or
        not its person is in the chat: a web-only person of an invitation), newest first."""
        posted = select(topic_posts.c.topic_id).where(topic_posts.c.node_id.in_(list(node_ids)))
        rows = await self._db.execute(
            select(topics)
            .where(
                topics.c.id.in_(posted),
                topics.c.status == TopicStatus.OPEN,
                topics.c.household.is_(True),
            )
            .order_by(topics.c.id.desc())
            .limit(limit)
        )
        return [_topic(row) for row in rows]

    async def close(
        self, topic_id: int, *, status: TopicStatus, now: datetime, outcome: dict[str, Any] | None
    ) -> bool:
        """Open -> closed/cancelled, once: False if someone else already closed it."""
        if topic_id not in await self.close_many([topic_id], status=status, now=now):
            return False
        if outcome is not None:
            await self.set_outcomes({topic_id: outcome})
        return True

    async def close_many(
        self, topic_ids: Iterable[int], *, status: TopicStatus, now: datetime
    ) -> set[int]:
        """Open -> closed/cancelled, once: the ids this call closed (not those already closed).

        The outcomes follow with :meth:`set_outcomes`, computed after this update took the
        rows (on PostgreSQL a concurrent close waits for this transaction, then finds them
        closed)."""
        ids = sorted(set(topic_ids))
        if not ids:
            return set()
        result = await self._db.execute(
            update(topics)
            .where(topics.c.id.in_(ids), topics.c.status == TopicStatus.OPEN)
            .values(status=status, closed_at=now, ballot_salt=None)
            .returning(topics.c.id)
        )
        closed = {int(row[0]) for row in result}
        if closed:
            # Their messages still show them open: mark them for a render, so that one is done
            # after a restart even if the process stops before the edit (ids_needing_refresh).
            await self._db.execute(
                update(topic_posts)
                .where(topic_posts.c.topic_id.in_(sorted(closed)))
                .values(rendered_hash=None)
            )
        return closed

    async def set_outcomes(self, outcomes: dict[int, dict[str, Any]]) -> None:
        if outcomes:
            await self._db.execute(
                _SET_OUTCOME, [{"b_id": key, "b_outcome": value} for key, value in outcomes.items()]
            )

    async def forget_secret_voters(self, topic_ids: Iterable[int], closed_at: datetime) -> None:
        """Closed secret topics' ballots keep their option and channel only (and the time of
        the close): nothing that another row shares with the voter."""
        ids = sorted(set(topic_ids))
        if ids:
            await self._db.execute(
                update(ballots)
                .where(ballots.c.topic_id.in_(ids))
                .values(updated_at=closed_at, recorded_by=None, area=None, user_id=None)
            )

    async def set_deadline(self, topic_id: int, deadline: datetime) -> None:
        await self._db.execute(
            update(topics).where(topics.c.id == topic_id).values(deadline=deadline)
        )

    async def claim_nudge(self, topic_id: int, *, now: datetime, not_after: datetime) -> bool:
        """Record a nudge unless one was sent after ``not_after``."""
        result = await self._db.execute(
            update(topics)
            .where(
                topics.c.id == topic_id,
                (topics.c.last_nudge_at.is_(None)) | (topics.c.last_nudge_at <= not_after),
            )
            .values(last_nudge_at=now)
        )
        return bool(result.rowcount)

    # Posts --------------------------------------------------------------------------------

    async def add_post(
        self,
        *,
        topic_id: int,
        chat_id: int,
        node_id: int,
        voting: bool,
        members: int | None,
        thread_id: int | None = None,
    ) -> None:
        await self._db.execute(
            topic_posts.insert().values(
                topic_id=topic_id,
                chat_id=chat_id,
                node_id=node_id,
                voting=voting,
                members=members,
                message_thread_id=thread_id,
            )
        )

    async def posts(self, topic_id: int) -> list[TopicPost]:
        return (await self.posts_of([topic_id])).get(topic_id, [])

    async def posts_of(self, topic_ids: Iterable[int]) -> dict[int, list[TopicPost]]:
        found: dict[int, list[TopicPost]] = {}
        for row in await self._db.execute(_POSTS_OF, {"ids": sorted(set(topic_ids))}):
            found.setdefault(row.topic_id, []).append(_post(row))
        return found

    async def post_in(self, topic_id: int, chat_id: int) -> TopicPost | None:
        params = {"topic_id": topic_id, "chat_id": chat_id}
        row = (await self._db.execute(_POST_IN, params)).first()
        return _post(row) if row else None

    async def post_at_message(self, chat_id: int, message_id: int) -> TopicPost | None:
        row = (
            await self._db.execute(
                select(topic_posts).where(
                    topic_posts.c.chat_id == chat_id, topic_posts.c.message_id == message_id
                )
            )
        ).first()
        return _post(row) if row else None

    async def set_post_message(self, topic_id: int, chat_id: int, message_id: int) -> None:
        await self._db.execute(
            update(topic_posts)
            .where(topic_posts.c.topic_id == topic_id, topic_posts.c.chat_id == chat_id)
            .values(message_id=message_id)
        )

    async def set_rendered(self, topic_id: int, chat_id: int, rendered_hash: str) -> None:
        params = {"b_topic_id": topic_id, "b_chat_id": chat_id, "b_hash": rendered_hash}
        # What the chat's message shows: no page or cache of ours depends on it.
        await self._db.execute(_SET_RENDERED, params, execution_options={UNTRACKED: True})

    # Ballots ------------------------------------------------------------------------------

    async def ballot(self, topic_id: int, voter_key: str) -> Ballot | None:
        params = {"topic_id": topic_id, "voter_key": voter_key}
        row = (await self._db.execute(_BALLOT, params)).first()
        return _ballot(row) if row else None

    async def put_ballot(self, **values: Any) -> None:
        """Insert or overwrite the voter's ballot: the last choice counts."""
        await self.put_ballots([values])

    async def put_ballots(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """:meth:`put_ballot` of several, in order (one executemany)."""
        await upsert_many(
            self._db,
            ballots,
            rows,
            conflict=["topic_id", "voter_key"],
            update=[
                "option",
                "user_id",
                "household_id",
                "area",
                "node_id",
                "channel",
                "recorded_by",
                "updated_at",
            ],
        )

    async def tallies_of(
        self, topic_ids: Iterable[int]
    ) -> tuple[dict[int, dict[int, int]], dict[int, tuple[int, int]]]:
        """:meth:`counts_of` and :meth:`opinion_counts_of` in one statement (a batch of
        presses reads both after its ballots: a statement costs far more than its rows)."""
        counts: dict[int, dict[int, int]] = {}
        opinion_counts: dict[int, dict[bool, int]] = {}
        for topic_id, kind, key, count in await self._db.execute(
            _TALLIES_OF, values_parameters(self._db.dialect, "ids", set(topic_ids))
        ):
            if kind == 0:
                counts.setdefault(int(topic_id), {})[int(key)] = int(count)
            else:
                opinion_counts.setdefault(int(topic_id), {})[bool(key)] = int(count)
        return counts, {
            topic_id: (found.get(True, 0), found.get(False, 0))
            for topic_id, found in opinion_counts.items()
        }

    async def counts(self, topic_id: int) -> dict[int, int]:
        return (await self.counts_of([topic_id])).get(topic_id, {})

    async def counts_of(self, topic_ids: Iterable[int]) -> dict[int, dict[int, int]]:
        """Ballots per option, per topic."""
        found: dict[int, dict[int, int]] = {}
        for topic_id, option, count in await self._db.execute(
            _COUNTS_OF, {"ids": sorted(set(topic_ids))}
        ):
            found.setdefault(int(topic_id), {})[int(option)] = int(count)
        return found

    async def ballots(self, topic_id: int) -> list[Ballot]:
        rows = await self._db.execute(
            select(ballots).where(ballots.c.topic_id == topic_id).order_by(ballots.c.updated_at)
        )
        return [_ballot(row) for row in rows]

    async def ballot_of_user(self, topic_id: int, user_id: int) -> Ballot | None:
        """The ballot ``user_id`` cast last on the topic (as :meth:`ballots` orders them)."""
        row = (
            await self._db.execute(_BALLOT_OF_USER, {"topic_id": topic_id, "user_id": user_id})
        ).first()
        return _ballot(row) if row else None

    async def choices_of(self, topic_id: int, user_ids: Sequence[int]) -> dict[int, int]:
        """:meth:`ballot_of_user`'s option for several people at once (those with none are
        left out)."""
        rows = await self._db.execute(_CHOICES_OF, {"topic_id": topic_id, "user_ids": user_ids})
        return {int(row.user_id): int(row.option) for row in rows}  # the latest last

    async def voter_keys(self, topic_id: int) -> set[str]:
        rows = await self._db.execute(
            select(ballots.c.voter_key).where(ballots.c.topic_id == topic_id)
        )
        return {row[0] for row in rows}

    # Opinions -----------------------------------------------------------------------------

    async def add_opinion(self, **values: Any) -> int:
        result = await self._db.execute(opinions.insert().values(**values).returning(opinions.c.id))
        return int(result.scalar_one())

    async def update_opinion_at(
        self, chat_id: int, message_id: int, text: str, now: datetime
    ) -> bool:
        result = await self._db.execute(
            update(opinions)
            .where(opinions.c.chat_id == chat_id, opinions.c.message_id == message_id)
            .values(text=text, updated_at=now)
        )
        return bool(result.rowcount)

    async def opinions(self, topic_id: int, *, public_only: bool = False) -> list[Opinion]:
        query = select(opinions).where(opinions.c.topic_id == topic_id)
        if public_only:
            query = query.where(opinions.c.public.is_(True))
        rows = await self._db.execute(query.order_by(opinions.c.id))
        return [_opinion(row) for row in rows]

    async def opinion_counts(self, topic_id: int) -> tuple[int, int]:
        """(public, private) opinion counts."""
        return (await self.opinion_counts_of([topic_id])).get(topic_id, (0, 0))

    async def opinion_counts_of(self, topic_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """(public, private) opinion counts per topic."""
        found: dict[int, dict[bool, int]] = {}
        for topic_id, public, count in await self._db.execute(
            _OPINION_COUNTS_OF, {"ids": sorted(set(topic_ids))}
        ):
            found.setdefault(int(topic_id), {})[bool(public)] = int(count)
        return {key: (value.get(True, 0), value.get(False, 0)) for key, value in found.items()}

    async def ids_needing_refresh(self) -> list[int]:
        """Open topics, and any topic with a post never sent or never rendered."""
        rows = await self._db.execute(
            select(topics.c.id)
            .outerjoin(topic_posts, topic_posts.c.topic_id == topics.c.id)
            .where(
                (topics.c.status == TopicStatus.OPEN)
                | topic_posts.c.message_id.is_(None)
                | topic_posts.c.rendered_hash.is_(None)
            )
            .distinct()
        )
        return sorted(int(row[0]) for row in rows)

    async def closed_between(
        self, node_ids: list[int], start: datetime, end: datetime
    ) -> list[Topic]:
        rows = await self._db.execute(
            select(topics).where(
                topics.c.node_id.in_(node_ids),
                topics.c.status == TopicStatus.CLOSED,
                topics.c.closed_at > start,
                topics.c.closed_at <= end,
            )
        )
        return [_topic(row) for row in rows]

    async def category_counts(
        self, node_ids: list[int], start: datetime, end: datetime
    ) -> list[tuple[str, int]]:
        """How many topics of each category were created in (start, end] at these nodes,
        most first (ties: the category seen first)."""
        rows = await self._db.execute(
            select(topics.c.category, func.count(), func.min(topics.c.id))
            .where(
                topics.c.node_id.in_(node_ids),
                topics.c.created_at > start,
                topics.c.created_at <= end,
                topics.c.category.is_not(None),
                topics.c.category != "",
            )
            .group_by(topics.c.category)
        )
        ranked = sorted(rows, key=lambda row: (-int(row[1]), int(row[2])))
        return [(str(category), int(count)) for category, count, _ in ranked]
