"""Topics (议题): publishing, voting, extending, cancelling, closing and reading the record."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from bot.clock import Clock
from bot.durations import DurationError, parse_duration
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.events import TopicChanged
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.topics.ballots import (
    Cast,
    KnownAnswers,
    Newcomer,
    Press,
    VoteReceipt,
    cast_ballots,
)
from bot.services.topics.closing import CLOSE_TIMER, NUDGE_TIMER, close_topic, members_of
from bot.services.topics.eligibility import (
    MembershipProbe,
    household_roll,
)
from bot.services.topics.syntax import TopicDraft
from bot.services.unit_of_work import UnitOfWork
from storage.batched_write import BatchedWrite
from storage.records import Level, Node, Scope, Topic, TopicPost, TopicStatus, on_telegram
from storage.repositories import Repositories

MAX_EXTENSION = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class Published:
    topic: Topic
    posts: list[TopicPost]


@dataclass(frozen=True, slots=True)
class TopicView:
    """Everything ``/result`` shows."""

    topic: Topic
    counts: tuple[int, ...]
    cast: int
    opinions_public: int
    opinions_private: int
    channels: dict[str, int]
    private_opinions: list[str]
    node: Node


class TopicService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        *,
        nudge_before: timedelta,
        sla_default: timedelta,
        on_ballot: Callable[[VoteReceipt], None] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._nudge_before = nudge_before
        self._sla_default = sla_default
        self._on_ballot = on_ballot  # a metric's counter (bot/metrics.py): no I/O
        # The presses made meanwhile, counted together: one read and one write for them all.
        self._presses: BatchedWrite[Press, Cast] = BatchedWrite(uow.database, self._cast)
        # Tallies read in group-committed transactions, numbered in the order they committed:
        # those transactions run one at a time (storage/group_commit.py), and each reads what
        # the ones before it committed, so of two tallies the higher number is the newer.
        self._tally_order = itertools.count(1)
        self._levels: dict[int, str] = {}  # node -> level (level_of)

    # Publishing ---------------------------------------------------------------------------

    async def publish(
        self,
        actor: Actor,
        place: Place,
        draft: TopicDraft,
        probe: MembershipProbe,
        *,
        proposal_id: int | None = None,
        update_id: int | None = None,
    ) -> Published:
        """Store the topic and a post row per chat it goes to, in one transaction; the ballot
        messages are posted after it (the ballot messages' sync, also at every start).

        ``update_id``: the inbox's id of the request, marked handled with the topic, so that a
        crash among the posts does not replay the request and publish the topic twice: the
        restarted bot posts only the chats without a message (docs/RELIABILITY.md)."""
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            node = await self._node_of(repos, place)
            if not is_officer(await rank_at(repos, actor, node), node):
                raise Refusal("topics.publish_needs_officer")
            targets = await self._targets(repos, node, place.chat_id, draft.scope)
        members = {chat_id: await self._human_members(probe, chat_id) for chat_id, _, _ in targets}
        # a quorum is a share of the chats' members: it cannot be counted without them
        unknown = [chat_id for chat_id, _, voting in targets if voting and members[chat_id] is None]
        if draft.quorum_percent and not draft.household and unknown:
            # WeCom never tells a group's size; Telegram did not answer just now
            foreign = any(not on_telegram(chat_id) for chat_id in unknown)
            raise Refusal("topics.quorum_needs_roll" if foreign else "topics.quorum_count_failed")
        async with self._uow.transaction() as repos:
            topic = await repos.topics.create(
                node_id=node.id,
                title=draft.title,
                description=draft.description,
                options=list(draft.options),
                rule=draft.rule.value,
                category=draft.category,
                quorum_percent=draft.quorum_percent,
                secret=draft.secret,
                household=draft.household,
                hide_results=draft.hide_results,
                scope=draft.scope.value,
                status=TopicStatus.OPEN,
                deadline=draft.deadline,
                created_by=actor.user_id,
                created_at=now,
                ballot_salt=secrets.token_hex(16) if draft.secret else None,
            )
            for chat_id, node_id, voting in targets:
                await repos.topics.add_post(
                    topic_id=topic.id,
                    chat_id=chat_id,
                    node_id=node_id,
                    voting=voting,
                    members=members[chat_id],
                    # Posted where it was asked for; in the other chats (scope=all), in General.
                    thread_id=place.thread_id if chat_id == place.chat_id else None,
                )
            await repos.timers.schedule(CLOSE_TIMER, str(topic.id), draft.deadline)
            nudge_at = draft.deadline - self._nudge_before
            if nudge_at > now and not topic.is_opinion:
                await repos.timers.schedule(NUDGE_TIMER, str(topic.id), nudge_at)
            await repos.audit.record(
                action="topic.published",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                topic_id=topic.id,
                title=draft.title,
                rule=topic.rule,
                scope=topic.scope,
                proposal_id=proposal_id,
            )
            if update_id is not None:
                await repos.inbox.handled(update_id, now)
            posts = await repos.topics.posts(topic.id)
            # Each channel posts the ballots of its own chats (another platform's, too).
            repos.record(TopicChanged(topic.id))
        return Published(topic=topic, posts=posts)

    async def _targets(
        self, repos: Repositories, node: Node, chat_id: int, scope: Scope
    ) -> list[tuple[int, int, bool]]:
        """(chat, node, voting) for every chat the ballot goes to."""
        if scope is Scope.HERE:
            return [(chat_id, node.id, True)]
        if node.level == Level.BUILDING:
            raise Refusal("topics.scope_all_needs_parent")
        targets = [(chat_id, node.id, False)]
        for below in await repos.orgs.descendants(node.id):
            binding = await repos.orgs.binding_of_node(below.id)
            if below.level == Level.BUILDING and binding is not None and binding.active:
                targets.append((binding.chat_id, below.id, True))
        if len(targets) == 1:
            raise Refusal("topics.scope_all_no_buildings")
        return targets

    @staticmethod
    async def _human_members(probe: MembershipProbe, chat_id: int) -> int | None:
        count = await probe.member_count(chat_id)
        return max(count - 1, 0) if count is not None else None  # the bot is a member too

    # Voting -------------------------------------------------------------------------------

    async def vote(
        self,
        actor: Actor | Newcomer,
        chat_id: int,
        topic_id: int,
        option: int,
        probe: MembershipProbe,
        *,
        presser_is_member: bool = False,
        tally: bool = False,
    ) -> VoteReceipt:
        """Cast or change the actor's ballot; returns once it is durable.

        The presses made meanwhile are counted together (one read, one write: a
        ``BatchedWrite``), and the ballot commits with them. Telegram is never asked inside
        the transaction: a voter whose membership is not known yet stops before anything is
        written for them; they are asked about, and the press is submitted again.
        ``presser_is_member``: the platform delivers a press only from a member of the chat
        who sees the card (WeCom), so nobody is asked and the press goes once.
        ``actor`` may be a :class:`Newcomer`, recorded in the ballot's transaction (the
        receipt's ``user_id`` is their id).
        ``tally``: the receipt carries the topic as it is with this ballot (a ``Tally``: its
        snapshot read after the batch's ballots, in their transaction), for an answer that
        shows the tally (WeCom's card), with no transaction of its own to read it.
        """
        now = self._clock.now()
        answers = KnownAnswers()
        while True:
            press = Press(actor, chat_id, topic_id, option, answers, now, tally, presser_is_member)
            outcome = await self._presses.submit(press)
            if isinstance(outcome, Refusal):
                raise outcome
            if isinstance(outcome, VoteReceipt):
                if self._on_ballot is not None and not outcome.unchanged:
                    self._on_ballot(outcome)
                return outcome
            answers.known[(outcome.chat_id, outcome.user_id)] = await probe.is_member(
                outcome.chat_id, outcome.user_id
            )

    async def _cast(self, repos: Repositories, presses: Sequence[Press]) -> list[Cast]:
        """A batch of presses counted; the tallies asked for read after their ballots."""
        cast = await cast_ballots(repos, presses)
        outcomes = cast.outcomes
        wanted = {
            press.topic_id
            for press, outcome in zip(presses, outcomes, strict=True)
            if press.tally and isinstance(outcome, VoteReceipt)
        }
        if not wanted:
            return outcomes
        # The topics as the batch read them, locked (FOR SHARE) until it commits, and all their
        # posts (read_presses(all_posts=True), as a press asked for a tally): not read again.
        order, snaps = await self._read_tallies(
            repos, sorted(wanted), cast.read.topics, cast.read.posts
        )
        tallies = {topic_id: Tally(order, snap) for topic_id, snap in snaps.items() if snap}
        return [
            VoteReceipt(o.topic, o.option, o.changed, o.unchanged, o.user_id, tally)
            if press.tally
            and isinstance(o := outcome, VoteReceipt)
            and (tally := tallies.get(press.topic_id)) is not None
            else outcome
            for press, outcome in zip(presses, outcomes, strict=True)
        ]

    async def tallies(
        self, topic_ids: Sequence[int]
    ) -> tuple[int, dict[int, TopicSnapshot | None]]:
        """Topics' snapshots as they are now, read in a group-committed transaction: their
        number in the order of the tallies read (``Tally.order``) and each one."""

        async def unit(repos: Repositories) -> tuple[int, dict[int, TopicSnapshot | None]]:
            return await self._read_tallies(repos, topic_ids)

        return await self._uow.batched(unit)

    async def _read_tallies(
        self,
        repos: Repositories,
        topic_ids: Sequence[int],
        topics: Mapping[int, Topic] | None = None,
        posts: Mapping[int, list[TopicPost]] | None = None,
    ) -> tuple[int, dict[int, TopicSnapshot | None]]:
        order = next(self._tally_order)  # in the transaction: the order of the commits
        return order, await snapshots(repos, topic_ids, topics, posts)

    # Officers' commands -------------------------------------------------------------------

    async def close(self, actor: Actor, place: Place, topic_id: int) -> Topic:
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            topic = await self._officer_topic(repos, actor, place, topic_id)
            await close_topic(repos, topic, now, by=actor.user_id, sla_default=self._sla_default)
            closed = await repos.topics.get(topic_id)
        assert closed is not None
        return closed

    async def cancel(self, actor: Actor, place: Place, topic_id: int) -> Topic:
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            topic = await self._officer_topic(repos, actor, place, topic_id)
            await close_topic(repos, topic, now, by=actor.user_id, cancelled=True)
            cancelled = await repos.topics.get(topic_id)
        assert cancelled is not None
        return cancelled

    async def extend(self, actor: Actor, place: Place, topic_id: int, duration_text: str) -> Topic:
        try:
            extension = parse_duration(duration_text)
        except DurationError:
            raise Refusal("topics.bad_extension", given=duration_text[:20]) from None
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            # The deadline's timer before the topic, as run_due takes them: a deadline being
            # handled right now closes the topic first, and the extension finds it closed.
            await repos.timers.lock(CLOSE_TIMER, str(topic_id))
            topic = await self._officer_topic(repos, actor, place, topic_id)
            deadline = max(topic.deadline, now) + extension
            if deadline - now > MAX_EXTENSION:
                raise Refusal("topics.extension_too_long")
            await repos.topics.set_deadline(topic.id, deadline)
            await repos.timers.schedule(CLOSE_TIMER, str(topic.id), deadline)
            await repos.audit.record(
                action="topic.extended",
                actor_id=actor.user_id,
                now=now,
                node_id=topic.node_id,
                chat_id=place.chat_id,
                topic_id=topic.id,
                deadline=deadline.isoformat(),
            )
            extended = await repos.topics.get(topic.id)
            repos.record(TopicChanged(topic.id))
        assert extended is not None
        return extended

    async def _officer_topic(
        self, repos: Repositories, actor: Actor, place: Place, topic_id: int
    ) -> Topic:
        """An open topic this chat can see, for an officer of the topic's node (or above);
        locked until the transaction ends, so two officers' changes go one after the other."""
        topic = await self._visible_topic(repos, place, topic_id, lock=True)
        node = await repos.orgs.node(topic.node_id)
        assert node is not None
        if not is_officer(await rank_at(repos, actor, node), node):
            raise Refusal("topics.needs_officer", id=topic.id)
        if not topic.is_open:
            raise Refusal("topics.closed", id=topic.id)
        return topic

    # Reading ------------------------------------------------------------------------------

    async def view(self, actor: Actor, place: Place, topic_id: int) -> TopicView:
        """``/result``: in a group, for a topic posted there (or below); privately, officers only.

        Private opinion texts are only ever shown in a private chat, to officers.
        """
        async with self._uow.transaction() as repos:
            if place.is_group:
                topic = await self._visible_topic(repos, place, topic_id)
            else:
                found = await repos.topics.get(topic_id)
                if found is None:
                    raise Refusal("topics.unknown", id=topic_id)
                topic = found
            node = await repos.orgs.node(topic.node_id)
            assert node is not None
            officer = is_officer(await rank_at(repos, actor, node), node)
            if not place.is_group and not officer:
                raise Refusal("topics.needs_officer", id=topic_id)
            counted = await repos.topics.counts(topic.id)
            counts = tuple(counted.get(index, 0) for index in range(len(topic.options)))
            public, private = await repos.topics.opinion_counts(topic.id)
            channels: dict[str, int] = {}
            for ballot in await repos.topics.ballots(topic.id):
                channels[ballot.channel] = channels.get(ballot.channel, 0) + 1
            private_texts = []
            if officer and not place.is_group:
                private_texts = [
                    opinion.text
                    for opinion in await repos.topics.opinions(topic.id)
                    if not opinion.public
                ]
        return TopicView(
            topic=topic,
            counts=counts,
            cast=sum(counts),
            opinions_public=public,
            opinions_private=private,
            channels=channels,
            private_opinions=private_texts,
            node=node,
        )

    async def snapshot(self, topic_id: int) -> TopicSnapshot | None:
        async with self._uow.transaction() as repos:
            return await snapshot(repos, topic_id)

    async def snapshots(self, topic_ids: Sequence[int]) -> dict[int, TopicSnapshot | None]:
        """Several topics' snapshots in one transaction (the cards a burst of presses
        answers with, channels/wecom/latest_cards.py)."""
        async with self._uow.transaction() as repos:
            return await snapshots(repos, topic_ids)

    async def record_message(self, topic_id: int, chat_id: int, message_id: int) -> None:
        """The ballot message for this chat was posted as ``message_id``."""
        async with self._uow.transaction() as repos:
            await repos.topics.set_post_message(topic_id, chat_id, message_id)

    async def record_rendered(self, topic_id: int, chat_id: int, rendered_hash: str) -> None:
        # Group-committed with the ballots: a tally refresh costs no commit of its own.
        async def unit(repos: Repositories) -> None:
            await repos.topics.set_rendered(topic_id, chat_id, rendered_hash)

        await self._uow.batched(unit)

    async def level_of(self, node_id: int) -> str | None:
        """The node's level (楼栋, 网格, 社区), shown on a topic posted to every chat below it:
        read once per node, as a node never changes level (each card drawn for a grid-wide
        topic asked it in a transaction of its own)."""
        level = self._levels.get(node_id)
        if level is None:
            async with self._uow.transaction() as repos:
                node = await repos.orgs.node(node_id)
            if node is None:
                return None
            level = self._levels[node_id] = node.level
        return level

    async def open_topic_ids(self) -> list[int]:
        """Topics whose messages may need a refresh after a restart."""
        async with self._uow.transaction() as repos:
            return await repos.topics.ids_needing_refresh()

    async def listing(self, place: Place) -> tuple[list[Topic], list[Topic]]:
        """Open topics and the ten most recently closed, of this chat's node and above."""
        async with self._uow.transaction() as repos:
            node = await self._node_of(repos, place)
            ids = [member.id for member in await repos.orgs.ancestry(node.id)]
            open_topics = await repos.topics.at_nodes(ids, statuses=(TopicStatus.OPEN,), limit=50)
            closed = await repos.topics.at_nodes(
                ids, statuses=(TopicStatus.CLOSED, TopicStatus.CANCELLED), limit=10
            )
            visible_open = [t for t in open_topics if await self._posted_here(repos, t, place)]
            visible_closed = [t for t in closed if await self._posted_here(repos, t, place)]
        return visible_open, visible_closed

    async def _visible_topic(
        self, repos: Repositories, place: Place, topic_id: int, *, lock: bool = False
    ) -> Topic:
        topic = await (repos.topics.get_locked(topic_id) if lock else repos.topics.get(topic_id))
        if topic is None or not await self._posted_here(repos, topic, place):
            raise Refusal("topics.unknown", id=topic_id)
        return topic

    @staticmethod
    async def _posted_here(repos: Repositories, topic: Topic, place: Place) -> bool:
        """A chat sees a topic posted in it, or any topic of its node's descendants' nodes."""
        if await repos.topics.post_in(topic.id, place.chat_id) is not None:
            return True
        node = await repos.orgs.node_of_chat(place.chat_id)
        if node is None:
            return False
        chain = await repos.orgs.ancestry(topic.node_id)
        return any(member.id == node.id for member in chain)

    @staticmethod
    async def _node_of(repos: Repositories, place: Place) -> Node:
        if not place.is_group:
            raise Refusal("topics.needs_group")
        node = await repos.orgs.node_of_chat(place.chat_id)
        if node is None:
            raise Refusal("orgs.chat_not_bound")
        return node


@dataclass(frozen=True, slots=True)
class TopicSnapshot:
    """A topic as its messages show it: tally, turnout, opinion count, where it is posted."""

    topic: Topic
    posts: list[TopicPost]
    counts: tuple[int, ...]
    cast: int
    eligible: int
    opinions: int
    # Who may vote as the roll says (``eligible`` is at least ``cast``); None: not known (a
    # per-person topic in a chat whose size the platform does not tell, WeCom's).
    enrolled: int | None = 0

    @property
    def roll_known(self) -> bool:
        return self.enrolled is not None

    def recounted(self, counted: Mapping[int, int]) -> TopicSnapshot:
        """The same topic with these counts by option (its ballots changed, nothing else)."""
        counts = tuple(counted.get(index, 0) for index in range(len(self.topic.options)))
        cast = sum(counts)
        return replace(self, counts=counts, cast=cast, eligible=max(self.enrolled or 0, cast))


@dataclass(frozen=True, slots=True)
class Tally:
    """A topic's snapshot read in a group-committed transaction; ``order`` numbers those reads
    in the order their transactions committed (``TopicService.vote(tally=True)``)."""

    order: int
    snapshot: TopicSnapshot


async def snapshot(repos: Repositories, topic_id: int) -> TopicSnapshot | None:
    return (await snapshots(repos, [topic_id]))[topic_id]


async def snapshots(
    repos: Repositories,
    topic_ids: Sequence[int],
    topics: Mapping[int, Topic] | None = None,
    posts: Mapping[int, list[TopicPost]] | None = None,
) -> dict[int, TopicSnapshot | None]:
    """Topics' snapshots in three statements however many (a burst of presses across many
    buildings answers with all their cards at once, channels/wecom/latest_cards.py);
    ``topics`` and ``posts``: all of theirs this transaction read already (the topics locked:
    as they are), not read again."""
    if topics is not None and posts is not None and all(t in topics for t in topic_ids):
        found = {topic_id: topics[topic_id] for topic_id in topic_ids}
        posts_of: Mapping[int, list[TopicPost]] = posts
    else:
        found = await repos.topics.many(topic_ids)
        posts_of = await repos.topics.posts_of(sorted(found)) if found else {}
    ids = sorted(found)
    counts_of, opinions_of = await repos.topics.tallies_of(ids) if ids else ({}, {})
    taken: dict[int, TopicSnapshot | None] = {}
    for topic_id in topic_ids:
        topic = found.get(topic_id)
        if topic is None:
            taken[topic_id] = None
            continue
        posted = list(posts_of.get(topic_id, []))
        counted = counts_of.get(topic_id, {})
        counts = tuple(counted.get(index, 0) for index in range(len(topic.options)))
        public, private = opinions_of.get(topic_id, (0, 0))
        enrolled: int | None
        if topic.outcome is not None:
            recorded = topic.outcome.get("eligible", 0)
            enrolled = int(recorded) if recorded is not None else None
        elif topic.household:
            roll = await household_roll(repos, [post.node_id for post in posted if post.voting])
            enrolled = len(roll.areas)
        else:
            enrolled = members_of(posted)
        taken[topic_id] = TopicSnapshot(
            topic=topic,
            posts=posted,
            counts=counts,
            cast=sum(counts),
            eligible=max(enrolled or 0, sum(counts)),
            opinions=public + private,
            enrolled=enrolled,
        )
    return taken
