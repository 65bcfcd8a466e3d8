"""The community staff digest (汇总): what came up, what is open, what was resolved.

Daily at ``YISHI_DIGEST_TIME`` (local) to every subscribed community chat, and on demand with
``/digest``. Each (chat, period) is claimed in ``digests_sent`` in the transaction that queues
it, so the same period is never sent twice, even across a restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.announcements import DigestDue
from bot.services.errors import Refusal
from bot.services.events import OutboxQueued
from bot.services.organisation.permissions import Rank, rank_at
from bot.services.reports.push_webhook import push_webhook_url
from bot.services.unit_of_work import Work
from bot.timers import late_since
from storage.database import Database
from storage.records import DueTimer, Escalation, EscalationState, Level, Node, Topic
from storage.repositories import Repositories

DIGEST_TIMER = "digest.daily"
PARTICIPATION_WINDOW = timedelta(days=30)
CHART_WEEKS = 8


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One matter in the digest."""

    topic_id: int
    title: str
    from_name: str
    to_name: str
    reason: str
    state: str
    created_at: datetime
    sla_due_at: datetime | None
    overdue: bool
    category: str | None
    decision: str | None = None
    ratings: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GridParticipation:
    name: str
    cast: int
    eligible: int
    topics: int
    unknown: int = 0  # votes closed in chats whose size was not known (WeCom): no turnout

    @property
    def turnout(self) -> Fraction | None:
        return Fraction(self.cast, self.eligible) if self.eligible else None


@dataclass(frozen=True, slots=True)
class WeeklySeries:
    """Per grid, per week (oldest first): escalations opened and resolved, turnout."""

    weeks: list[datetime]
    grids: list[str]
    opened: dict[str, list[int]]
    resolved: dict[str, list[int]]
    turnout: dict[str, list[float | None]]


@dataclass(frozen=True, slots=True)
class Digest:
    community: Node
    since: datetime
    until: datetime
    new: list[DigestItem]
    open: list[DigestItem]
    resolved: list[DigestItem]
    participation: list[GridParticipation]
    categories: list[tuple[str, int]]
    weekly: WeeklySeries | None = None
    late_since: datetime | None = None  # when it was due, if the bot was down then

    @property
    def empty(self) -> bool:
        return not (self.new or self.open or self.resolved)

    @property
    def item_count(self) -> int:
        return len(self.new) + len(self.open) + len(self.resolved)


def next_digest_time(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The next local ``at`` strictly after ``now``, as an aware UTC datetime."""
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate.astimezone(now.tzinfo)


class DigestService:
    def __init__(self, database: Database, clock: Clock, *, at: time, zone: ZoneInfo) -> None:
        self._db = database
        self._clock = clock
        self._at = at
        self._zone = zone

    # Subscriptions ------------------------------------------------------------------------

    async def _staff_community(self, repos: Repositories, actor: Actor, place: Place) -> Node:
        node = await repos.orgs.node_of_chat(place.chat_id) if place.is_group else None
        if node is None or node.level != Level.COMMUNITY:
            raise Refusal("digest.community_only")
        if await rank_at(repos, actor, node) < Rank.COMMUNITY_STAFF:
            raise Refusal("digest.staff_only")
        return node

    async def subscribe(self, actor: Actor, place: Place) -> bool:
        now = self._clock.now()
        async with self._db.transaction() as repos:
            node = await self._staff_community(repos, actor, place)
            added = await repos.digests.subscribe(
                chat_id=place.chat_id, node_id=node.id, by=actor.user_id, now=now
            )
            if added:
                await repos.audit.record(
                    action="digest.subscribed",
                    actor_id=actor.user_id,
                    now=now,
                    node_id=node.id,
                    chat_id=place.chat_id,
                )
            await self._ensure_schedule(repos, now)
        return added

    async def unsubscribe(self, actor: Actor, place: Place) -> None:
        now = self._clock.now()
        async with self._db.transaction() as repos:
            node = await self._staff_community(repos, actor, place)
            if not await repos.digests.unsubscribe(place.chat_id):
                raise Refusal("digest.not_subscribed")
            await repos.audit.record(
                action="digest.unsubscribed",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
            )

    async def set_push_webhook(
        self, actor: Actor, place: Place, given: str | None, *, base: str
    ) -> str | None:
        """The staff group's push webhook (the weekly chart's way on WeCom): ``given`` checked
        as a webhook URL under ``base`` (push_webhook.py) and kept, or (None) forgotten;
        the URL kept. The audit log records that it changed, never the URL (its key is a
        credential)."""
        now = self._clock.now()
        async with self._db.transaction() as repos:
            node = await self._staff_community(repos, actor, place)
            url = None if given is None else push_webhook_url(given, base)
            changed = await repos.chats.set_push_webhook(place.chat_id, url, actor.user_id, now)
            if changed:
                await repos.audit.record(
                    action="digest.push_webhook_set" if url else "digest.push_webhook_removed",
                    actor_id=actor.user_id,
                    now=now,
                    node_id=node.id,
                    chat_id=place.chat_id,
                )
            elif url is None:
                raise Refusal("digest.no_push_webhook")
        return url

    async def push_webhook(self, chat_id: int) -> str | None:
        async with self._db.transaction() as repos:
            return await repos.chats.push_webhook(chat_id)

    async def chat_gone(self, chat_id: int) -> None:
        """The chat removed or blocked the bot: stop sending it digests (audited)."""
        now = self._clock.now()
        async with self._db.transaction() as repos:
            subscription = await repos.digests.subscription(chat_id)
            if subscription is not None and await repos.digests.unsubscribe(chat_id):
                await repos.audit.record(
                    action="digest.unsubscribed_gone",
                    actor_id=None,
                    now=now,
                    node_id=subscription.node_id,
                    chat_id=chat_id,
                )

    # Scheduling ---------------------------------------------------------------------------

    async def ensure_schedule(self) -> None:
        async with self._db.transaction() as repos:
            await self._ensure_schedule(repos, self._clock.now())

    async def _ensure_schedule(self, repos: Repositories, now: datetime) -> None:
        timer = await repos.timers.get(DIGEST_TIMER, "daily")
        if timer is None or await repos.timers.is_done(DIGEST_TIMER, "daily"):
            await repos.timers.schedule(
                DIGEST_TIMER, "daily", next_digest_time(now, self._at, self._zone)
            )

    async def on_digest_due(self, repos: Work, timer: DueTimer, now: datetime) -> None:
        """The daily digest: queue one per subscribed chat for this period, then the next."""
        local = timer.due_at.astimezone(self._zone)
        period = local.date().isoformat()
        late = late_since(timer, now)
        for subscription in await repos.digests.subscriptions():
            since = await repos.digests.last_until(subscription.chat_id) or now - timedelta(days=1)
            if await repos.digests.claim_period(
                chat_id=subscription.chat_id, period=period, since=since, until=now, now=now
            ):
                await repos.outbox.add(
                    chat_id=subscription.chat_id,
                    now=now,
                    announcement=DigestDue(
                        node_id=subscription.node_id,
                        since=since,
                        until=now,
                        weekly=local.weekday() == 0,
                        late_since=late,
                    ),
                )
                repos.record(OutboxQueued())
        await repos.timers.schedule(
            DIGEST_TIMER, "daily", next_digest_time(now, self._at, self._zone)
        )

    # Composing ----------------------------------------------------------------------------

    async def on_demand(self, actor: Actor, place: Place) -> Digest:
        """``/digest``: the digest since the last one this chat got (or the last day), now."""
        now = self._clock.now()
        async with self._db.transaction() as repos:
            node = await self._staff_community(repos, actor, place)
            since = await repos.digests.last_until(place.chat_id) or now - timedelta(days=1)
        return await self.compose(node.id, since, now, weekly=False)

    async def compose(
        self,
        node_id: int,
        since: datetime,
        until: datetime,
        *,
        weekly: bool,
        late_since: datetime | None = None,
    ) -> Digest:
        async with self._db.transaction() as repos:
            community = await repos.orgs.node(node_id)
            assert community is not None
            digest = await compose_digest(repos, community, since, until, weekly=weekly)
        return replace(digest, late_since=late_since)


async def compose_digest(
    repos: Repositories, community: Node, since: datetime, until: datetime, *, weekly: bool
) -> Digest:
    below = await repos.orgs.descendants(community.id)
    nodes = {node.id: node for node in [community, *below]}
    hops = await repos.escalations.at_nodes(list(nodes))
    topics = await repos.topics.many(hop.topic_id for hop in hops)
    new, open_items, resolved = [], [], []
    latest: dict[int, DigestItem] = {}
    for hop in hops:
        topic = topics[hop.topic_id]
        overdue = hop.is_active and hop.sla_due_at is not None and hop.sla_due_at < until
        item = DigestItem(
            topic_id=topic.id,
            title=topic.title,
            from_name=nodes[hop.from_node_id].name if hop.from_node_id in nodes else "",
            to_name=nodes[hop.to_node_id].name,
            reason=hop.reason,
            state=hop.state,
            created_at=hop.created_at,
            sla_due_at=hop.sla_due_at,
            overdue=overdue,
            category=topic.category,
        )
        if since < hop.created_at <= until:
            new.append(item)
        if hop.is_active:
            open_items.append(item)
        latest[topic.id] = item
    decided = await repos.escalations.resolutions(list(latest))
    for topic_id, item in latest.items():
        resolution = decided.get(topic_id)
        if resolution is not None and since < resolution.resolved_at <= until:
            ratings = await repos.escalations.rating_counts([topic_id])
            resolved.append(replace(item, decision=resolution.decision, ratings=ratings))
    open_items.sort(key=lambda item: (not item.overdue, item.created_at))
    grids = _grids(community, below)
    participation = await _participation(repos, grids, until)
    categories = await _categories(repos, nodes, until)
    weekly_series = await _weekly(repos, grids, hops, until) if weekly else None
    return Digest(
        community=community,
        since=since,
        until=until,
        new=new,
        open=open_items,
        resolved=resolved,
        participation=participation,
        categories=categories,
        weekly=weekly_series,
    )


def _grids(community: Node, below: list[Node]) -> dict[Node, set[int]]:
    """Each grid of the community with the ids of its subtree (itself included)."""
    children: dict[int, list[int]] = {}
    for node in below:
        if node.parent_id is not None:
            children.setdefault(node.parent_id, []).append(node.id)
    grids: dict[Node, set[int]] = {}
    for grid in (node for node in below if node.parent_id == community.id):
        members, frontier = {grid.id}, [grid.id]
        while frontier:
            frontier = [child for parent in frontier for child in children.get(parent, [])]
            members.update(frontier)
        grids[grid] = members
    return grids


async def _closed_by_grid(
    repos: Repositories, grids: dict[Node, set[int]], start: datetime, until: datetime
) -> dict[Node, list[Topic]]:
    """Topics closed in (start, until], per grid, in one query."""
    grid_of = {node_id: grid for grid, members in grids.items() for node_id in members}
    closed: dict[Node, list[Topic]] = {grid: [] for grid in grids}
    for topic in await repos.topics.closed_between(list(grid_of), start, until):
        closed[grid_of[topic.node_id]].append(topic)
    return closed


def _turnout_known(topic: Topic) -> bool:
    """A closed vote whose turnout the record tells (not an opinion poll, nor a vote in a chat
    whose size was not known, whose record has no ``eligible``)."""
    outcome = topic.outcome or {}
    return bool(outcome) and not topic.is_opinion and outcome.get("eligible", 0) is not None


async def _participation(
    repos: Repositories, grids: dict[Node, set[int]], until: datetime
) -> list[GridParticipation]:
    result = []
    closed = await _closed_by_grid(repos, grids, until - PARTICIPATION_WINDOW, until)
    for grid in grids:
        cast = eligible = count = unknown = 0
        for topic in closed[grid]:
            outcome = topic.outcome or {}
            if _turnout_known(topic):
                cast += int(outcome.get("cast", 0))
                eligible += int(outcome.get("eligible", 0))
                count += 1
            elif outcome and not topic.is_opinion:
                unknown += 1
        result.append(
            GridParticipation(
                name=grid.name, cast=cast, eligible=eligible, topics=count, unknown=unknown
            )
        )
    return result


async def _categories(
    repos: Repositories, nodes: dict[int, Node], until: datetime
) -> list[tuple[str, int]]:
    counts = await repos.topics.category_counts(list(nodes), until - PARTICIPATION_WINDOW, until)
    return counts[:5]


async def _weekly(
    repos: Repositories,
    grids_below: dict[Node, set[int]],
    all_hops: Sequence[Escalation],
    until: datetime,
) -> WeeklySeries:
    weeks = [until - timedelta(weeks=CHART_WEEKS - index) for index in range(CHART_WEEKS)]
    grids = list(grids_below)
    opened: dict[str, list[int]] = {}
    resolved: dict[str, list[int]] = {}
    turnout: dict[str, list[float | None]] = {}
    closed = await _closed_by_grid(repos, grids_below, weeks[0], until)
    for grid in grids:
        members = grids_below[grid]
        hops = [hop for hop in all_hops if hop.to_node_id in members]
        topics = closed[grid]
        opened[grid.name], resolved[grid.name], turnout[grid.name] = [], [], []
        for start in weeks:
            end = start + timedelta(weeks=1)
            opened[grid.name].append(sum(1 for h in hops if start <= h.created_at < end))
            done = [
                h
                for h in hops
                if h.closed_at
                and start <= h.closed_at < end
                and h.state == EscalationState.RESOLVED
            ]
            resolved[grid.name].append(len(done))
            week_topics = [
                t
                for t in topics
                if t.closed_at and start <= t.closed_at < end and _turnout_known(t)
            ]
            cast = sum(int(t.outcome.get("cast", 0)) for t in week_topics if t.outcome)
            eligible = sum(int(t.outcome.get("eligible", 0)) for t in week_topics if t.outcome)
            turnout[grid.name].append(cast / eligible if eligible else None)
    return WeeklySeries(
        weeks=weeks,
        grids=[grid.name for grid in grids],
        opened=opened,
        resolved=resolved,
        turnout=turnout,
    )
