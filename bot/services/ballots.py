"""A button press becoming a ballot: the checks, the voter's key, the upsert.

Runs as a unit of a group-committed transaction (``TopicService.vote``), so it only touches
the database; a membership Telegram must be asked about stops it first (:class:`AskFirst`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.actors import Actor
from bot.services.eligibility import (
    MembershipProbe,
    household_voter,
    person_voter,
    plain_person_key,
)
from bot.services.errors import Refusal
from storage.group_commit import WroteNothing
from storage.records import Topic
from storage.repositories import Repositories
from storage.repositories.presses import read_press


@dataclass(frozen=True, slots=True)
class VoteReceipt:
    topic: Topic
    option: str
    changed: bool
    unchanged: bool


class AskFirst(Exception, WroteNothing):
    """A vote needs Telegram's word on a membership first (asked outside the transaction).

    Raised before anything is written, and returned by the unit: its caller goes on at once,
    not after the commit of the transaction it ran in."""

    def __init__(self, chat_id: int, user_id: int) -> None:
        super().__init__(chat_id, user_id)
        self.chat_id, self.user_id = chat_id, user_id


class KnownAnswers:
    """A MembershipProbe that knows only what Telegram already said during this vote."""

    def __init__(self) -> None:
        self.known: dict[tuple[int, int], bool] = {}

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        answer = self.known.get((chat_id, user_id))
        if answer is None:
            raise AskFirst(chat_id, user_id)
        return answer

    async def member_count(self, chat_id: int) -> int | None:
        raise NotImplementedError("votes never count members")


async def cast_ballot(
    repos: Repositories,
    actor: Actor,
    chat_id: int,
    topic_id: int,
    option: int,
    probe: MembershipProbe,
    now: datetime,
) -> VoteReceipt:
    """Check the press and upsert the voter's ballot, keyed by (topic, voter).

    One statement reads the topic (locked, shared, until the ballot commits: a close counts
    it or it finds the topic closed), its post in this chat, the presser's cached membership
    and their open per-person ballot; secret and household topics key the ballot otherwise
    and read it on its own.
    """
    plain = plain_person_key(actor.user_id)
    facts = await read_press(repos.connection, topic_id, chat_id, actor.user_id, plain)
    if facts is None or not facts.post.voting:
        raise Refusal("topics.not_here")
    topic, post = facts.topic, facts.post
    if not topic.is_open or topic.deadline <= now:
        raise Refusal("topics.closed", id=topic.id)
    if topic.is_opinion or not 0 <= option < len(topic.options):
        raise Refusal("topics.bad_option")
    if topic.household:
        voter = await household_voter(repos, topic, post, actor.user_id)
    else:
        voter = await person_voter(repos, topic, post, actor.user_id, facts.member, probe, now)
    if voter.key == plain:
        previous = facts.previous
    else:
        found = await repos.topics.ballot(topic.id, voter.key)
        previous = (found.option, found.channel) if found is not None else None
    if previous == (option, "button"):
        return VoteReceipt(topic, topic.options[option], changed=False, unchanged=True)
    area = None
    if voter.household_id is not None:
        household = await repos.households.household_by_id(voter.household_id)
        area = household.area if household else None
    await repos.topics.put_ballot(
        topic_id=topic.id,
        voter_key=voter.key,
        option=option,
        user_id=None if topic.secret else actor.user_id,
        household_id=None if topic.secret else voter.household_id,
        area=area,
        node_id=post.node_id,
        channel="button",
        recorded_by=None,
        updated_at=now,
    )
    return VoteReceipt(topic, topic.options[option], changed=previous is not None, unchanged=False)
