"""What a signed-in person sees and does on a topic's web page and on "my household".

Who may see a topic is who could see it in a chat: a member of a chat it is posted in, an
officer of its node or above, a super-admin; for anyone else it does not exist (the page says
404, whatever the id). Votes and opinions go through the same services as a button press and
``/opinion``: the same ballot, the same checks, the same events (the group's ballot message
is refreshed as after a press).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
from bot.services.unit_of_work import UnitOfWork, Work
from storage.records import Escalation, Resolution, Topic, on_telegram


class NotVisible(Exception):
    """The topic does not exist for this person (shown as 404, as for an unknown id)."""


R = TypeVar("R")
_Reader = Callable[[Work, Actor, TopicSnapshot, int | None], Awaitable[R]]


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


class TopicPages:
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

    async def page(self, actor: Actor, topic_id: int) -> TopicPage:
        return await self._read(actor, topic_id, self._page)

    async def _page(
        self, repos: Work, actor: Actor, snap: TopicSnapshot, voting_chat: int | None
    ) -> TopicPage:
        topic = snap.topic
        node = await repos.orgs.node(topic.node_id)
        assert node is not None
        view = ballot_view(snap, voting=voting_chat is not None, level=node.level)
        my_option = None
        if not topic.secret and voting_chat is not None and topic.household:
            # A household's ballot is theirs whoever of its members cast it last.
            households = {
                r.household_id for r in await repos.households.registrations_of_user(actor.user_id)
            }
            for ballot in await repos.topics.ballots(topic.id):
                if ballot.household_id is not None:
                    mine = ballot.household_id in households
                else:
                    mine = ballot.user_id == actor.user_id
                if mine:
                    my_option = ballot.option
        elif not topic.secret and voting_chat is not None:
            own = await repos.topics.ballot_of_user(topic.id, actor.user_id)
            my_option = own.option if own is not None else None
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
        return TopicPage(
            view=view,
            node_name=node.name,
            node_level=node.level,
            voting_chat=voting_chat,
            my_option=my_option,
            opinions=opinions,
            escalation=escalation,
            escalated_to=escalated_to,
            resolution=resolution,
            ratings=ratings,
        )

    async def live(self, actor: Actor, topic_id: int) -> BallotView:
        """What the page's tally shows now (polled by its script): the ballot view alone,
        without the opinions and the record the whole page reads."""

        async def tally(
            repos: Work, _actor: Actor, snap: TopicSnapshot, voting_chat: int | None
        ) -> BallotView:
            node = await repos.orgs.node(snap.topic.node_id)
            level = node.level if node else None
            return ballot_view(snap, voting=voting_chat is not None, level=level)

        return await self._read(actor, topic_id, tally)

    async def _read(self, actor: Actor, topic_id: int, read: _Reader[R]) -> R:
        """Who may see the topic (NotVisible if not), then ``read`` with the chat whose ballot
        they cast (None: they only read): one unit of the group commit (``batched``), so the
        pages and tallies read meanwhile share a transaction with each other and with the
        ballots, and each is answered once that transaction committed (it never shows a
        ballot that is not durable). A membership not on record is asked of Telegram outside
        it, and the unit runs again."""
        asked: dict[int, bool] = {}
        while True:

            async def unit(repos: Work) -> R | _AskFirst | NotVisible:
                snap = await snapshot(repos, topic_id)
                if snap is None:
                    return NotVisible()
                try:  # returned, not raised: a unit that raises undoes its batch
                    voting_chat = await self._visible(repos, actor, snap, asked)
                except (NotVisible, _AskFirst) as stop:
                    return stop
                return await read(repos, actor, snap, voting_chat)

            result = await self._work.batched(unit)
            if isinstance(result, NotVisible):
                raise result
            if isinstance(result, _AskFirst):
                asked[result.chat_id] = await self.membership.is_member(
                    result.chat_id, actor.user_id
                )
                continue
            return result

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

        async def chat(
            _repos: Work, _actor: Actor, _snap: TopicSnapshot, voting_chat: int | None
        ) -> int | None:
            return voting_chat

        return await self._read(actor, topic_id, chat)

    async def _visible(
        self, repos: Work, actor: Actor, snap: TopicSnapshot, asked: dict[int, bool]
    ) -> int | None:
        """The chat whose ballot this person casts (None: they only read); NotVisible if they
        may not even read the topic. Membership as the chats recorded it, or as ``asked``
        says; _AskFirst when a chat must be asked first (never inside the transaction: the
        caller asks and comes back)."""
        topic, posts = snap.topic, snap.posts
        registered: set[int] = set()
        if topic.household:
            registered = await self._registered_at(repos, actor, [p.node_id for p in posts])
        seen = False
        for post in posts:
            member = asked.get(post.chat_id)
            if member is None:
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
    async def _registered_at(repos: Work, actor: Actor, node_ids: list[int]) -> set[int]:
        found = set()
        for node_id in set(node_ids):
            if await repos.households.registration_of(actor.user_id, node_id) is not None:
                found.add(node_id)
        return found

    @staticmethod
    async def _is_officer(repos: Work, actor: Actor, topic: Topic) -> bool:
        node = await repos.orgs.node(topic.node_id)
        return node is not None and is_officer(await rank_at(repos, actor, node), node)
