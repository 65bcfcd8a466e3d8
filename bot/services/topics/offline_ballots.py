"""Offline ballots (扫楼, paper, video): an officer records a household's ballot."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.events import TopicChanged
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.registration.service import parse_unit
from bot.services.topics.eligibility import ballot_key
from bot.services.unit_of_work import UnitOfWork
from storage.records import BallotChannel, RegistrationStatus, Topic

CHANNELS = {
    "纸质": BallotChannel.PAPER,
    "paper": BallotChannel.PAPER,
    "上门": BallotChannel.VISIT,
    "visit": BallotChannel.VISIT,
    "door": BallotChannel.VISIT,
    "视频": BallotChannel.VIDEO,
    "video": BallotChannel.VIDEO,
}


def parse_channel(text: str | None) -> BallotChannel:
    if text is None:
        return BallotChannel.PAPER
    channel = CHANNELS.get(text.strip().lower())
    if channel is None:
        raise Refusal("topics.bad_channel", given=text[:20])
    return channel


def parse_option(topic: Topic, text: str) -> int:
    """An option by its text (any case) or its 1-based number."""
    wanted = text.strip().casefold()
    for index, option in enumerate(topic.options):
        if option.casefold() == wanted:
            return index
    if wanted.isdigit() and 1 <= int(wanted) <= len(topic.options):
        return int(wanted) - 1
    raise Refusal("topics.unknown_option", given=text[:40], options="、".join(topic.options))


@dataclass(frozen=True, slots=True)
class OfflineBallot:
    topic: Topic
    unit: str
    option: str
    channel: str


class OfflineBallots:
    """``/ballot <id> <单元-房号> <选项> [方式=...]``; the household's own ballot overrides it."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(
        self,
        actor: Actor,
        place: Place,
        topic_id: int,
        unit: str,
        option_text: str,
        channel_text: str | None,
    ) -> OfflineBallot:
        channel = parse_channel(channel_text)
        unit = parse_unit(unit)
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            topic = await repos.topics.get_locked(topic_id, shared=True)  # see cast_ballots
            post = await repos.topics.post_in(topic_id, place.chat_id) if topic else None
            if topic is None or post is None:
                raise Refusal("topics.unknown", id=topic_id)
            node = await repos.orgs.node(topic.node_id)
            assert node is not None
            if not is_officer(await rank_at(repos, actor, node), node):
                raise Refusal("topics.needs_officer", id=topic.id)
            if not topic.is_open or topic.deadline <= now:
                raise Refusal("topics.closed", id=topic.id)
            if not topic.household:
                raise Refusal("topics.offline_needs_household", id=topic.id)
            if not post.voting:
                raise Refusal("topics.offline_in_building", id=topic.id)
            option = parse_option(topic, option_text)
            household = await repos.households.household(post.node_id, unit)
            registered = household is not None and any(
                registration.household_id == household.id
                and registration.status == RegistrationStatus.APPROVED
                for registration in await repos.households.registrations_of(post.node_id)
            )
            if household is None or not registered:
                raise Refusal("topics.offline_unregistered", unit=unit)
            plain = f"h:{household.id}"
            key = ballot_key(topic, plain)
            await repos.topics.put_ballot(
                topic_id=topic.id,
                voter_key=key,
                option=option,
                user_id=None,
                household_id=None if topic.secret else household.id,
                area=household.area,
                node_id=post.node_id,
                channel=channel,
                recorded_by=actor.user_id,
                updated_at=now,
            )
            await repos.audit.record(
                action="ballot.offline",
                actor_id=actor.user_id,
                now=now,
                node_id=post.node_id,
                chat_id=place.chat_id,
                topic_id=topic.id,
                unit=unit,
                channel=channel,
                option=None if topic.secret else topic.options[option],
            )
            repos.record(TopicChanged(topic.id))
        return OfflineBallot(topic=topic, unit=unit, option=topic.options[option], channel=channel)
