"""What a signed-in person sees and does on a topic's web page and on "my household".

Who may see a topic is who could see it in a chat: a member of a chat it is posted in, an
officer of its node or above, a super-admin; for anyone else it does not exist (the page says
404, whatever the id). Votes and opinions go through the same services as a button press and
``/opinion``: the same ballot, the same checks, the same events (the group's ballot message
is refreshed as after a press).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from bot.clock import Clock
from bot.services.actors import Actor, ChatKind, Place
from bot.services.errors import Refusal
from bot.services.events import TopicChanged
from bot.services.feedback.opinions import OpinionService
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.topics.ballots import VoteReceipt
from bot.services.topics.eligibility import MembershipProbe
from bot.services.topics.service import TopicService, TopicSnapshot, snapshot
from bot.services.topics.views import BallotView, ballot_view
from bot.services.unit_of_work import UnitOfWork
from storage.batched_write import BatchedWrite
from storage.records import Escalation, Resolution, Topic, on_telegram
from storage.repositories import Repositories


class NotVisible(Exception):
    """The topic does not exist for this person (shown as 404, as for an unknown id)."""


_V = TypeVar("_V")
_Versions = tuple[int, int]  # of TOPIC_TABLES, of ballots


class _AskFirst(Exception):
    """A chat's membership of this person is not on record: ask, then read again."""

    def __init__(self, chat_id: int) -> None:
        super().__init__(chat_id)
        self.chat_id = chat_id


@dataclass(frozen=True, slots=True)
class PublicOpinion:
    author: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TopicPage:
    view: BallotView
    node_name: str
    node_level: str
    voting_chat: int | None  # where this person's vote counts (None: they do not vote here)
    my_option: int | None  # their choice so far, where the ballot is not secret
    opinions: tuple[PublicOpinion, ...]
    escalation: Escalation | None  # the matter's latest hop, if it went up
    escalated_to: str | None  # that hop's node's name
    resolution: Resolution | None
    ratings: dict[str, int]
    shared: object  # the same object while the topic's shared part, but its counts, is unchanged


class StoredMembership:
    """Membership as the chats recorded it, asking Telegram (``ask``) only about a Telegram
    group's member never recorded, and keeping its answer. Another platform's groups are
    known only as recorded (a WeCom member is recorded at their first vote there): a chat
    probe answers "yes" for them, since there only members reach the bot, which is not true
    of a browser."""

    def __init__(self, work: UnitOfWork, clock: Clock, ask: MembershipProbe | None) -> None:
        self._work, self._clock, self._ask = work, clock, ask

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        async with self._work.transaction() as repos:
            member = await repos.chats.membership(chat_id, user_id)
        if member is not None:
            return member
        if self._ask is None or not on_telegram(chat_id):
            return False
        member = await self._ask.is_member(chat_id, user_id)
        async with self._work.transaction() as repos:
            await repos.chats.set_membership(chat_id, user_id, member, self._clock.now())
        return member

    async def member_count(self, chat_id: int) -> int | None:
        return None if self._ask is None else await self._ask.member_count(chat_id)

    def would_ask(self, chat_id: int) -> bool:
        """Whether a membership not on record is asked of the platform (else: not a member)."""
        return self._ask is not None and on_telegram(chat_id)


# What a topic's page shows to everyone who may see it, and what decides who may: the tables
# each cache below depends on (storage/changes.py raises their version after each commit that
# wrote one of them).
TOPIC_TABLES = (  # beside the ballots, which alone change only the counts
    "topics",
    "topic_posts",
    "opinions",
    "escalations",
    "resolutions",
    "ratings",
    "nodes",
    "registrations",
    "households",
)
ACCESS_TABLES = (
    "chat_members",
    "topic_posts",
    "registrations",
    "households",
    "role_grants",
    "nodes",
)
CACHED_VIEWERS = 200_000  # (person, topic) pairs kept; all forgotten at once beyond it


@dataclass(frozen=True, slots=True)
class _Public:
    """A topic's page as everyone who may see it sees it, read in one unit."""

    snap: TopicSnapshot
    node_name: str
    node_level: str
    opinions: tuple[PublicOpinion, ...]
    escalation: Escalation | None
    escalated_to: str | None
    resolution: Resolution | None
    ratings: dict[str, int]
    # The same object while all but the counts is unchanged (a recount keeps it): a page kept
    # for it needs only its numbers filled in.
    layout: object = field(default_factory=object)


class TopicPages:
    """The topic's page and its live tally, read through caches: the part everyone sees (one
    read per topic per change, shared by every request that waits for it), and per person
    whether they may see it and where they vote (until memberships, registrations or roles
    change) and their choice (until a ballot changes). A busy page's polls and loads are
    answered from memory; a vote's own checks are the ballot service's, in its transaction."""

    def __init__(
        self,
        work: UnitOfWork,
        clock: Clock,
        topics: TopicService,
        opinions: OpinionService,
        membership: StoredMembership,
    ) -> None:
        self._work, self._clock = work, clock
        self._topics, self._opinions = topics, opinions
        self.membership = membership
        changes = work.database.changes
        self._topics_changed = changes.watch(*TOPIC_TABLES)
        self._ballots_changed = changes.watch("ballots")
        self._access_changed = changes.watch(*ACCESS_TABLES)
        self._public: dict[int, tuple[_Versions, _Public | None]] = {}
        self._reading: dict[int, tuple[_Versions, asyncio.Future[_Public | None]]] = {}
        self._views: dict[tuple[int, bool], tuple[_Public, BallotView]] = {}
        self._seats: dict[tuple[int, int], tuple[int, int | NotVisible | None]] = {}
        self._choices: dict[tuple[int, int], tuple[_Versions, int | None]] = {}
        # Who may see a topic, for the people whose pages load meanwhile (after a change of
        # memberships, registrations or roles, every one of them asks again at once).
        self._seat_reads: BatchedWrite[
            tuple[Actor, TopicSnapshot, dict[int, bool]], int | NotVisible | _AskFirst | None
        ] = BatchedWrite(work.database, self._read_seats, reads=True)
        # The choices of the people whose pages load meanwhile: one statement per topic.
        self._choice_reads: BatchedWrite[tuple[int, Topic], int | None] = BatchedWrite(
            work.database, _read_choices, reads=True
        )

    async def page(self, actor: Actor, topic_id: int) -> TopicPage:
        public = await self._public_part(topic_id)
        voting_chat = await self._seat(actor, public)
        my_option = await self._my_option(actor, public.snap.topic, voting_chat)
        return TopicPage(
            view=self._view(public, voting_chat is not None),
            node_name=public.node_name,
            node_level=public.node_level,
            voting_chat=voting_chat,
            my_option=my_option,
            opinions=public.opinions,
            escalation=public.escalation,
            escalated_to=public.escalated_to,
            resolution=public.resolution,
            ratings=public.ratings,
            shared=public.layout,
        )

    async def live(self, actor: Actor, topic_id: int) -> BallotView:
        """What the page's tally shows now (polled by its script): the ballot view alone. The
        same object for everyone who votes (or only reads) while nothing changed, so the
        caller may keep what it made of it."""
        public = await self._public_part(topic_id)
        voting_chat = await self._seat(actor, public)
        return self._view(public, voting_chat is not None)

    def _view(self, public: _Public, voting: bool) -> BallotView:
        key = (public.snap.topic.id, voting)
        kept = self._views.get(key)
        if kept is not None and kept[0] is public:
            return kept[1]
        view = ballot_view(public.snap, voting=voting, level=public.node_level)
        self._views[key] = (public, view)
        return view

    def _versions(self) -> _Versions:
        return self._topics_changed.version, self._ballots_changed.version

    async def _public_part(self, topic_id: int, *, fresh: bool = True) -> _Public:
        """The topic's shared part as committed now: kept while no table it reads changed,
        and read once for all who ask meanwhile (only the counts when only ballots changed);
        NotVisible if there is no such topic. ``fresh=False``: as last read, if it was, for a
        caller that needs only where the topic is posted (a vote: the ballot service checks
        the rest in its own transaction)."""
        versions = self._versions()
        kept = self._public.get(topic_id)
        if kept is not None and (kept[0] == versions or (not fresh and kept[1] is not None)):
            public = kept[1]
        else:
            reading = self._reading.get(topic_id)
            if reading is not None and reading[0] == versions:
                public = await asyncio.shield(reading[1])
            else:
                before = None
                if kept is not None and kept[0][0] == versions[0]:
                    before = kept[1]  # only ballots changed since
                public = await self._read_public(topic_id, versions, before)
        if public is None:
            raise NotVisible
        return public

    async def _read_public(
        self, topic_id: int, versions: _Versions, before: _Public | None
    ) -> _Public | None:
        future: asyncio.Future[_Public | None] = asyncio.get_running_loop().create_future()
        self._reading[topic_id] = (versions, future)
        try:
            if before is not None:
                public: _Public | None = await self._work.database.read(
                    lambda repos: _recount(repos, before)
                )
            else:
                public = await self._work.database.read(lambda repos: _read_public(repos, topic_id))
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: a reader that waited on it has its own
            raise
        finally:
            if self._reading.get(topic_id, (None, None))[1] is future:
                del self._reading[topic_id]
        future.set_result(public)
        if len(self._public) > CACHED_VIEWERS:
            self._public.clear()
        self._public[topic_id] = (versions, public)
        return public

    async def _seat(self, actor: Actor, public: _Public) -> int | None:
        """The chat whose ballot this person casts (None: they only read); NotVisible if they
        may not even read the topic."""
        key = (actor.user_id, public.snap.topic.id)
        version = self._access_changed.version
        kept = self._seats.get(key)
        if kept is not None and kept[0] == version and not actor.is_superadmin:
            seat = kept[1]
        else:
            seat = await self._read_seat(actor, public.snap)
            if not actor.is_superadmin:  # an officer's rank also depends on the settings
                self._keep(self._seats, key, (version, seat))
        if isinstance(seat, NotVisible):
            raise NotVisible
        return seat

    async def _my_option(self, actor: Actor, topic: Topic, voting_chat: int | None) -> int | None:
        """Their choice so far, where the ballot is not secret and they vote here."""
        if topic.secret or voting_chat is None:
            return None
        key = (actor.user_id, topic.id)
        versions = self._versions()  # the ballots, and a household's registrations
        kept = self._choices.get(key)
        if kept is not None and kept[0] == versions:
            return kept[1]
        option = await self._choice_reads.submit((actor.user_id, topic))
        self._keep(self._choices, key, (versions, option))
        return option

    @staticmethod
    def _keep(cache: dict[tuple[int, int], _V], key: tuple[int, int], value: _V) -> None:
        if len(cache) >= CACHED_VIEWERS:
            cache.clear()
        cache[key] = value

    async def _read_seat(self, actor: Actor, snap: TopicSnapshot) -> int | NotVisible | None:
        """:meth:`_visible`, read with the other seats wanted meanwhile (one statement for
        all their memberships). A membership not on record is asked of Telegram outside the
        transaction, and the seat is read again."""
        asked: dict[int, bool] = {}
        while True:
            result = await self._seat_reads.submit((actor, snap, dict(asked)))
            if isinstance(result, _AskFirst):
                asked[result.chat_id] = await self.membership.is_member(
                    result.chat_id, actor.user_id
                )
                continue
            return result

    async def _read_seats(
        self, repos: Repositories, wanted: Sequence[tuple[Actor, TopicSnapshot, dict[int, bool]]]
    ) -> list[int | NotVisible | _AskFirst | None]:
        keys = {(post.chat_id, actor.user_id) for actor, snap, _ in wanted for post in snap.posts}
        recorded = await repos.chats.memberships(sorted(keys))
        seats: list[int | NotVisible | _AskFirst | None] = []
        for actor, snap, asked in wanted:
            known: dict[int, bool | None] = {
                post.chat_id: recorded.get((post.chat_id, actor.user_id)) for post in snap.posts
            }
            known.update(asked)
            try:  # returned, not raised: a unit that raises undoes its batch
                seats.append(await self._visible(repos, actor, snap, known))
            except (NotVisible, _AskFirst) as stop:
                seats.append(stop)
        return seats

    async def vote(self, actor: Actor, topic_id: int, option: int) -> VoteReceipt:
        """The same ballot as a press of the option's button in the person's chat."""
        chat_id = await self._voting_chat(actor, topic_id)
        if chat_id is None:
            raise Refusal("topics.not_member")
        receipt = await self._topics.vote(actor, chat_id, topic_id, option, self.membership)
        if not receipt.unchanged:
            # A press records no event: its adapter touches its own ballot message, coalesced.
            # A web vote has no message of its own, so every channel's messages are told.
            await self._work.publish([TopicChanged(topic_id)])
        return receipt

    async def opinion(self, actor: Actor, topic_id: int, text: str, *, public: bool) -> None:
        """A public opinion (as a reply in the person's chat) or a private one (as sent to the
        bot privately: officers read it)."""
        chat_id = await self._voting_chat(actor, topic_id)
        if public:
            if chat_id is None:
                raise Refusal("opinions.not_member", id=topic_id)
            place = Place(chat_id, ChatKind.GROUP)
        else:
            place = Place(actor.user_id, ChatKind.PRIVATE)
        await self._opinions.record(actor, place, topic_id, text, self.membership)

    async def _voting_chat(self, actor: Actor, topic_id: int) -> int | None:
        """The chat whose ballot this person casts, or None if they only read; NotVisible if
        they may not even read it."""
        return await self._seat(actor, await self._public_part(topic_id, fresh=False))

    async def _visible(
        self,
        repos: Repositories,
        actor: Actor,
        snap: TopicSnapshot,
        known: dict[int, bool | None],
    ) -> int | None:
        """The chat whose ballot this person casts (None: they only read); NotVisible if they
        may not even read the topic. Membership as ``known`` says (None: not on record), else
        as the chats recorded it; _AskFirst when a chat must be asked first (never inside the
        transaction: the caller asks and comes back)."""
        topic, posts = snap.topic, snap.posts
        registered: set[int] = set()
        if topic.household:
            registered = await self._registered_at(repos, actor, [p.node_id for p in posts])
        seen = False
        for post in posts:
            if post.chat_id in known:
                member = known[post.chat_id]
            else:
                member = await repos.chats.membership(post.chat_id, actor.user_id)
            if member is None:
                if self.membership.would_ask(post.chat_id):
                    raise _AskFirst(post.chat_id)
                member = False
            seen = seen or member
            if post.voting and (member or (topic.household and post.node_id in registered)):
                return post.chat_id
        if seen or await self._is_officer(repos, actor, topic):
            return None
        raise NotVisible

    @staticmethod
    async def _registered_at(repos: Repositories, actor: Actor, node_ids: list[int]) -> set[int]:
        found = set()
        for node_id in set(node_ids):
            if await repos.households.registration_of(actor.user_id, node_id) is not None:
                found.add(node_id)
        return found

    @staticmethod
    async def _is_officer(repos: Repositories, actor: Actor, topic: Topic) -> bool:
        node = await repos.orgs.node(topic.node_id)
        return node is not None and is_officer(await rank_at(repos, actor, node), node)


async def _read_public(repos: Repositories, topic_id: int) -> _Public | None:
    snap = await snapshot(repos, topic_id)
    if snap is None:
        return None
    topic = snap.topic
    node = await repos.orgs.node(topic.node_id)
    assert node is not None
    public = await repos.topics.opinions(topic.id, public_only=True)
    authors = await repos.users.many(sorted({opinion.user_id for opinion in public}))
    opinions = tuple(
        PublicOpinion(
            authors[o.user_id].display_name if o.user_id in authors else "?",
            o.text,
            o.created_at,
        )
        for o in public
    )
    escalation = await repos.escalations.current(topic.id)
    escalated_to = None
    if escalation is not None:
        target = await repos.orgs.node(escalation.to_node_id)
        escalated_to = target.name if target else None
    resolution = await repos.escalations.resolution(topic.id)
    ratings = await repos.escalations.rating_counts([topic.id]) if resolution else {}
    return _Public(
        snap=snap,
        node_name=node.name,
        node_level=node.level,
        opinions=opinions,
        escalation=escalation,
        escalated_to=escalated_to,
        resolution=resolution,
        ratings=ratings,
    )


async def _recount(repos: Repositories, before: _Public) -> _Public:
    """``before`` with the counts as they are now (only ballots changed since it was read)."""
    topic_id = before.snap.topic.id
    counted = (await repos.topics.counts_of([topic_id])).get(topic_id, {})
    return replace(before, snap=before.snap.recounted(counted))


async def _read_choices(
    repos: Repositories, wanted: Sequence[tuple[int, Topic]]
) -> list[int | None]:
    """Each (person, topic)'s choice so far: one statement per topic for per-person ballots."""
    people: dict[int, list[int]] = {}
    for user_id, topic in wanted:
        if not topic.household:
            people.setdefault(topic.id, []).append(user_id)
    chosen = {
        topic_id: await repos.topics.choices_of(topic_id, sorted(set(user_ids)))
        for topic_id, user_ids in people.items()
    }
    return [
        await _household_choice(repos, user_id, topic)
        if topic.household
        else chosen[topic.id].get(user_id)
        for user_id, topic in wanted
    ]


async def _household_choice(repos: Repositories, user_id: int, topic: Topic) -> int | None:
    """A household's ballot is theirs whoever of its members cast it last."""
    households = {r.household_id for r in await repos.households.registrations_of_user(user_id)}
    my_option = None
    for ballot in await repos.topics.ballots(topic.id):
        if ballot.household_id is not None:
            mine = ballot.household_id in households
        else:
            mine = ballot.user_id == user_id
        if mine:
            my_option = ballot.option
    return my_option
