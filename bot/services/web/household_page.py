""" "My household" (/me): who the person is, their household's registration, the open topics
they take part in (and whether their ballot, or their household's, is in), and the meetings
ahead they may answer (with their answer).

A person takes part where a chat they are in is posted, or, on household topics and meetings,
where their household is registered: a web-only person (a redeemed invitation) is in no chat,
so their building's household topics and meetings reach them through their registration.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.services.actors import Actor
from bot.services.topics.eligibility import ballot_key, plain_person_key
from bot.services.unit_of_work import UnitOfWork, Work
from storage.records import (
    Answer,
    Meeting,
    MeetingOccurrence,
    MeetingStatus,
    Platform,
    Registration,
    RegistrationStatus,
    Scope,
    Topic,
)

MAX_TOPICS = 50


@dataclass(frozen=True, slots=True)
class MyTopic:
    topic: Topic
    voted: bool  # the person's ballot (a per-person topic) or the household's is in


@dataclass(frozen=True, slots=True)
class MyMeeting:
    meeting: Meeting
    occurrence: MeetingOccurrence
    answer: Answer | None


@dataclass(frozen=True, slots=True)
class HouseholdPage:
    name: str
    web_only: bool  # a household invitation's person (no chat; their household is all)
    registrations: tuple[tuple[Registration, str], ...]  # with the node's name
    open_topics: tuple[MyTopic, ...]
    meetings: tuple[MyMeeting, ...]  # ahead, soonest first


class HouseholdPages:
    def __init__(self, work: UnitOfWork, clock: Clock) -> None:
        self._work, self._clock = work, clock

    async def page(self, actor: Actor) -> HouseholdPage:
        async with self._work.transaction() as repos:
            user = await repos.users.get(actor.user_id)
            registrations = await repos.households.registrations_of_user(actor.user_id)
            named = []
            for registration in registrations:
                node = await repos.orgs.node(registration.node_id)
                named.append((registration, node.name if node else "?"))
            counted = [r for r in registrations if r.status != RegistrationStatus.REJECTED]
            chats = await repos.chats.chats_of_member(actor.user_id)
            topics = await self._open_topics(repos, actor, counted)
            meetings = await self._meetings(repos, actor, chats, counted)
        return HouseholdPage(
            name=user.display_name if user else str(actor.user_id),
            web_only=user is not None and user.platform == Platform.WEB,
            registrations=tuple(named),
            open_topics=topics,
            meetings=meetings,
        )

    async def _open_topics(
        self, repos: Work, actor: Actor, registrations: list[Registration]
    ) -> tuple[MyTopic, ...]:
        found = {t.id: t for t in await repos.topics.open_for_member(actor.user_id, MAX_TOPICS)}
        households = {r.node_id: r.household_id for r in registrations}
        if households:
            for topic in await repos.topics.open_household_posted_at(households, MAX_TOPICS):
                found.setdefault(topic.id, topic)
        mine = []
        for topic in sorted(found.values(), key=lambda t: t.id, reverse=True)[:MAX_TOPICS]:
            keys = [plain_person_key(actor.user_id)]
            if topic.household:
                posted = {post.node_id for post in await repos.topics.posts(topic.id)}
                keys = [f"h:{households[node]}" for node in sorted(posted) if node in households]
            voted = False
            if topic.ballot_salt is not None or not topic.secret:
                for key in keys:
                    if await repos.topics.ballot(topic.id, ballot_key(topic, key)) is not None:
                        voted = True
            mine.append(MyTopic(topic, voted))
        return tuple(mine)

    async def _meetings(
        self,
        repos: Work,
        actor: Actor,
        chats: list[int],
        registrations: list[Registration],
    ) -> tuple[MyMeeting, ...]:
        """The meetings ahead announced where the person is: their chats' nodes' and those
        above announced to everyone below (scope=all), as /meetings lists them."""
        nodes = {r.node_id for r in registrations}
        for chat_id in chats:
            node = await repos.orgs.node_of_chat(chat_id)
            if node is not None:
                nodes.add(node.id)
        meetings: dict[int, Meeting] = {}
        for node_id in sorted(nodes):
            for meeting in await repos.meetings.at_nodes(
                [node_id], statuses=(MeetingStatus.ACTIVE,)
            ):
                meetings[meeting.id] = meeting
            above = [n.id for n in (await repos.orgs.ancestry(node_id))[1:]]
            if above:
                for meeting in await repos.meetings.at_nodes(
                    above, statuses=(MeetingStatus.ACTIVE,)
                ):
                    if meeting.scope == Scope.ALL:
                        meetings[meeting.id] = meeting
        now = self._clock.now()
        ahead = []
        for meeting in meetings.values():
            occurrence = await repos.meetings.scheduled(meeting.id)
            if occurrence is None or occurrence.starts_at <= now:
                continue
            given = await repos.meetings.answer_of(occurrence.id, actor.user_id)
            ahead.append(MyMeeting(meeting, occurrence, Answer(given) if given else None))
        return tuple(sorted(ahead, key=lambda m: m.occurrence.starts_at))
