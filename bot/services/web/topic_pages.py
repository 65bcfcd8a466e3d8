"""What a signed-in person sees and does on a topic's web page and on "my household".

Who may see a topic is who could see it in a chat: a member of a chat it is posted in, an
officer of its node or above, a super-admin; for anyone else it does not exist (the page says
404, whatever the id). Votes and opinions go through the same services as a button press and
``/opinion``: the same ballot, the same checks, the same events (the group's ballot message
is refreshed as after a press).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.services.actors import Actor, ChatKind, Place
from bot.services.errors import Refusal
from bot.services.events import TopicChanged
from bot.services.feedback.opinions import OpinionService
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.topics.ballots import VoteReceipt
from bot.services.topics.eligibility import MembershipProbe
from bot.services.topics.service import TopicService, snapshot
from bot.services.topics.views import BallotView, ballot_view
from bot.services.unit_of_work import UnitOfWork, Work
from storage.records import Escalation, Resolution, Topic, on_telegram


class NotVisible(Exception):
    """The topic does not exist for this person (shown as 404, as for an unknown id)."""


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


class TopicPages:
    def __init__(
        self,
        work: UnitOfWork,
        clock: Clock,
        topics: TopicService,
        opinions: OpinionService,
        membership: MembershipProbe,
    ) -> None:
        self._work, self._clock = work, clock
        self._topics, self._opinions = topics, opinions
        self.membership = membership

    async def page(self, actor: Actor, topic_id: int) -> TopicPage:
        voting_chat = await self._voting_chat(actor, topic_id)  # NotVisible first
        async with self._work.transaction() as repos:
            snap = await snapshot(repos, topic_id)
            if snap is None:
                raise NotVisible
            topic = snap.topic
            node = await repos.orgs.node(topic.node_id)
            assert node is not None
            view = ballot_view(snap, voting=voting_chat is not None, level=node.level)
            my_option = None
            if not topic.secret and voting_chat is not None:
                # A household's ballot is theirs whoever of its members cast it last.
                households = {
                    r.household_id
                    for r in await repos.households.registrations_of_user(actor.user_id)
                }
                for ballot in await repos.topics.ballots(topic.id):
                    if topic.household and ballot.household_id is not None:
                        mine = ballot.household_id in households
                    else:
                        mine = ballot.user_id == actor.user_id
                    if mine:
                        my_option = ballot.option
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
        voting_chat = await self._voting_chat(actor, topic_id)
        async with self._work.transaction() as repos:
            snap = await snapshot(repos, topic_id)
            if snap is None:
                raise NotVisible
            node = await repos.orgs.node(snap.topic.node_id)
        return ballot_view(snap, voting=voting_chat is not None, level=node.level if node else None)

    async def vote(self, actor: Actor, topic_id: int, option: int) -> VoteReceipt:
        """The same ballot as a press of the option's button in the person's chat."""
        chat_id = await self._voting_chat(actor, topic_id)
        if chat_id is None:
            raise Refusal("topics.not_member")
        receipt = await self._topics.vote(actor, chat_id, topic_id, option, self.membership)
        if not receipt.unchanged:
            # A press records no event: its adapter touches its own ballot message, coalesced.
            # A web vote has no message of its own, so every channel's messages are told.
            async with self._work.transaction() as repos:
                repos.record(TopicChanged(topic_id))
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
        async with self._work.transaction() as repos:
            topic = await repos.topics.get(topic_id)
            if topic is None:
                raise NotVisible
            posts = await repos.topics.posts(topic.id)
            registered = await self._registered_at(repos, actor, [p.node_id for p in posts])
            officer = await self._is_officer(repos, actor, topic)
        seen = False
        for post in posts:
            member = await self.membership.is_member(post.chat_id, actor.user_id)
            seen = seen or member
            if post.voting and (member or (topic.household and post.node_id in registered)):
                return post.chat_id
        if seen or officer:
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
