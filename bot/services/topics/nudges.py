"""Turnout nudges (催票): remind those who have not voted, at most once per 12 hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.announcements import GroupNudge, PrivateNudge
from bot.services.errors import Refusal
from bot.services.events import OutboxQueued
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.topics.closing import members_of
from bot.services.topics.eligibility import household_roll, secret_key
from bot.services.unit_of_work import UnitOfWork, Work
from storage.records import DueTimer, Topic
from storage.repositories import Repositories

NUDGE_SPACING = timedelta(hours=12)


async def _missing_households(repos: Repositories, topic: Topic, node_ids: list[int]) -> list[int]:
    roll = await household_roll(repos, node_ids)
    voted = await repos.topics.voter_keys(topic.id)
    missing = []
    for household_id in roll.areas:
        plain = f"h:{household_id}"
        key = secret_key(topic.ballot_salt, plain) if topic.secret and topic.ballot_salt else plain
        if key not in voted:
            missing.append(household_id)
    return missing


async def nudge_topic(repos: Work, topic: Topic, now: datetime, *, by: int | None) -> bool:
    """Queue the reminders; False if a nudge went out within the last 12 hours."""
    if not topic.is_open or topic.is_opinion:
        return True
    if not await repos.topics.claim_nudge(topic.id, now=now, not_after=now - NUDGE_SPACING):
        return False
    count: int | None
    posts = [post for post in await repos.topics.posts(topic.id) if post.voting]
    if topic.household:
        missing = await _missing_households(repos, topic, [post.node_id for post in posts])
        reminded = 0
        for post in posts:
            for registration in await repos.households.registrations_of(post.node_id):
                if registration.household_id not in missing:
                    continue
                user = await repos.users.get(registration.user_id)
                if user is not None and user.started:
                    await repos.outbox.add(
                        chat_id=user.user_id,
                        announcement=PrivateNudge(topic_id=topic.id),
                        now=now,
                    )
                    reminded += 1
        count = len(missing)
    else:
        members = members_of(posts)
        cast = sum((await repos.topics.counts(topic.id)).values())
        count = max(members - cast, 0) if members is not None else None
        reminded = 0
    for post in posts:
        await repos.outbox.add(
            chat_id=post.chat_id,
            announcement=GroupNudge(topic_id=topic.id, missing=count),
            reply_to=post.message_id,
            thread_id=post.thread_id,
            now=now,
        )
    await repos.audit.record(
        action="topic.nudged",
        actor_id=by,
        now=now,
        node_id=topic.node_id,
        topic_id=topic.id,
        missing=count,
        reminded=reminded,
    )
    repos.record(OutboxQueued())
    return True


async def on_nudge_due(repos: Work, timer: DueTimer, now: datetime) -> None:
    topic = await repos.topics.get(int(timer.ref))
    if topic is not None:
        await nudge_topic(repos, topic, now, by=None)


class NudgeService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def nudge(self, actor: Actor, place: Place, topic_id: int) -> None:
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            topic = await repos.topics.get(topic_id)
            if topic is None or await repos.topics.post_in(topic_id, place.chat_id) is None:
                raise Refusal("topics.unknown", id=topic_id)
            node = await repos.orgs.node(topic.node_id)
            assert node is not None
            if not is_officer(await rank_at(repos, actor, node), node):
                raise Refusal("topics.needs_officer", id=topic_id)
            if not topic.is_open:
                raise Refusal("topics.closed", id=topic_id)
            if topic.is_opinion:
                raise Refusal("topics.nudge_opinion", id=topic_id)
            if not await nudge_topic(repos, topic, now, by=actor.user_id):
                raise Refusal("topics.nudged_recently", id=topic_id)
