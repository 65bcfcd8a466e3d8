"""The public record of a community (居务公开): its decided matters and their outcomes, for
anyone, once its staff turned it on (``/publish on``); nothing about any person.

What is shown is what a notice board would: a matter's title, category, when it was opened
and decided, the verdict, the decision and how residents rated it (counts only). Never who
voted, who gave an opinion, who decided, or a unit: none of those are even read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.organisation.permissions import Rank, rank_at
from bot.services.topics.views import Verdict, verdict_of
from bot.services.unit_of_work import UnitOfWork
from storage.records import Level, TopicStatus

MATTERS_SHOWN = 200


@dataclass(frozen=True, slots=True)
class PublicMatter:
    title: str
    category: str | None
    opened_at: datetime
    decided_at: datetime
    verdict: Verdict
    decision: str | None  # where it was escalated and resolved
    ratings: dict[str, int]


@dataclass(frozen=True, slots=True)
class PublicRecord:
    community: str
    matters: tuple[PublicMatter, ...]


class PublicRecords:
    def __init__(self, work: UnitOfWork, clock: Clock) -> None:
        self._work, self._clock = work, clock

    async def publish(self, actor: Actor, place: Place, *, on: bool) -> tuple[int, bool]:
        """``/publish on|off`` in a community's staff group: the community, and whether it
        changed (False: it was so already)."""
        now = self._clock.now()
        async with self._work.transaction() as repos:
            node = await repos.orgs.node_of_chat(place.chat_id) if place.is_group else None
            if node is None or node.level != Level.COMMUNITY:
                raise Refusal("publish.community_only")
            if await rank_at(repos, actor, node) < Rank.COMMUNITY_STAFF:
                raise Refusal("publish.staff_only")
            if on:
                changed = await repos.public_pages.publish(
                    node_id=node.id, by=actor.user_id, now=now
                )
            else:
                changed = await repos.public_pages.withdraw(node.id)
            if changed:
                await repos.audit.record(
                    action="publish.on" if on else "publish.off",
                    actor_id=actor.user_id,
                    now=now,
                    node_id=node.id,
                    chat_id=place.chat_id,
                )
        return node.id, changed

    async def record(self, community_id: int) -> PublicRecord | None:
        """None unless ``community_id`` is a community whose record is public."""
        async with self._work.transaction() as repos:
            node = await repos.orgs.node(community_id)
            if node is None or node.level != Level.COMMUNITY:
                return None
            if not await repos.public_pages.is_public(node.id):
                return None
            node_ids = [node.id, *(n.id for n in await repos.orgs.descendants(node.id))]
            closed = await repos.topics.at_nodes(
                node_ids, statuses=(TopicStatus.CLOSED,), limit=MATTERS_SHOWN
            )
            resolutions = await repos.escalations.resolutions([t.id for t in closed])
            matters = []
            for topic in closed:
                verdict = verdict_of(topic)
                resolution = resolutions.get(topic.id)
                if verdict.key == "unresolved" and resolution is None:
                    continue  # still with the grid or the community: not decided yet
                ratings = await repos.escalations.rating_counts([topic.id]) if resolution else {}
                decided = resolution.resolved_at if resolution else topic.closed_at
                matters.append(
                    PublicMatter(
                        title=topic.title,
                        category=topic.category,
                        opened_at=topic.created_at,
                        decided_at=decided or topic.created_at,
                        verdict=verdict,
                        decision=resolution.decision if resolution else None,
                        ratings=ratings,
                    )
                )
        matters.sort(key=lambda matter: matter.decided_at, reverse=True)
        return PublicRecord(node.name, tuple(matters))
