"""The staff's meetings: a calendar of the meetings of the nodes a person is an officer of,
their RSVP lists, and each community's and grid's calendar feed (.ics).

Who sees what follows the chat's rule: an officer of a node (a role there or above, through
``rank_at``/``is_officer``, as ``/meeting`` and the 👥 button check) sees its meetings and those
of the nodes below it, and the meetings announced to everyone (``scope=all``) of the nodes
above. The RSVP list of an occurrence is the 👥 button's answer
(``MeetingService.who_answered``), so the same people get it.

A series keeps one scheduled occurrence at a time (the next is made when one starts or is
cancelled); the calendar shows the later ones as the rule will plan them, with the same
holiday shift. An occurrence is known by (meeting, planned start), which the table keeps
unique: a feed's UID stays the same whether the occurrence is planned yet or not.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.services.actors import Actor
from bot.services.errors import Refusal
from bot.services.meetings.plan import recurrence_of
from bot.services.meetings.recurrence import local_starts, start_of
from bot.services.meetings.service import MeetingService
from bot.services.meetings.views import Detail
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.unit_of_work import UnitOfWork
from storage.records import (
    Level,
    Meeting,
    MeetingStatus,
    Node,
    OccurrenceStatus,
    Scope,
)
from storage.repositories import Repositories

FEED_LEVELS = (Level.COMMUNITY, Level.GRID)
MAX_PROJECTED = 500  # occurrences of one series projected for one range (a weekly series: 9 years)


class NotStaff(Exception):
    """The person is an officer of no node: the meetings page is not for them."""


class UnknownFeed(Exception):
    """A feed token that is not (or no longer) any node's: 404."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One occurrence as the calendar shows it."""

    meeting: Meeting
    node: Node
    planned_at: datetime  # UTC; with ``meeting.id`` the occurrence's stable key
    starts_at: datetime  # UTC, after a holiday shift
    occurrence_id: int | None  # None: not planned yet (a later one of a series)
    cancelled: bool
    held: bool
    counts: dict[str, int]
    rsvp_visible: bool  # the viewer may open its RSVP list (an officer of the meeting's node)

    @property
    def uid(self) -> str:
        return f"meeting-{self.meeting.id}-{self.planned_at.strftime('%Y%m%dT%H%M%SZ')}@yishi"


@dataclass(frozen=True, slots=True)
class FeedNode:
    """A node whose feed the viewer may renew, and when its current link was made."""

    node: Node
    made_at: datetime | None
    made_by: str | None


@dataclass(frozen=True, slots=True)
class Reach:
    """The nodes a person is an officer of, and the meetings they see."""

    nodes: tuple[Node, ...]
    meetings: tuple[tuple[Meeting, Node, bool], ...]  # (meeting, its node, officer of it)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffCalendar:
    def __init__(
        self, work: UnitOfWork, clock: Clock, meetings: MeetingService, *, zone: ZoneInfo
    ) -> None:
        self._work, self._clock, self._meetings, self._zone = work, clock, meetings, zone

    # Who sees what ---------------------------------------------------------------------------

    async def reach(self, actor: Actor) -> Reach:
        async with self._work.transaction() as repos:
            nodes = await officer_nodes(repos, actor)
            if not nodes:
                raise NotStaff
            return Reach(tuple(nodes), tuple(await meetings_seen(repos, nodes)))

    # The calendar ----------------------------------------------------------------------------

    async def entries(
        self, actor: Actor, start: datetime, end: datetime, *, node_id: int | None = None
    ) -> tuple[Reach, list[Entry]]:
        """The occurrences starting in [start, end) of the meetings this person sees (of one
        of their nodes and those below it, if ``node_id``)."""
        reach = await self.reach(actor)
        async with self._work.transaction() as repos:
            chosen = reach.meetings
            if node_id is not None:
                below = {node_id} | {n.id for n in await repos.orgs.descendants(node_id)}
                chosen = tuple(m for m in chosen if m[1].id in below)
            found = await self._occurrences(repos, chosen, start, end)
        return reach, found

    async def rsvps(self, actor: Actor, occurrence_id: int) -> Detail:
        """Who answered what: the 👥 button's answer, for the same people."""
        return await self._meetings.who_answered(actor, occurrence_id)

    # Feeds -----------------------------------------------------------------------------------

    async def feed_nodes(self, actor: Actor) -> list[FeedNode]:
        """The communities and grids whose feed link this person may make."""
        reach = await self.reach(actor)
        nodes = [node for node in reach.nodes if node.level in FEED_LEVELS]
        async with self._work.transaction() as repos:
            made = await repos.calendar_feeds.made([node.id for node in nodes])
            people = await repos.users.many(sorted({by for by, _ in made.values()}))
        found = []
        for node in nodes:
            by, at = made.get(node.id, (None, None))
            name = people[by].display_name if by is not None and by in people else None
            found.append(FeedNode(node, at, name))
        return found

    async def renew_feed(self, actor: Actor, node_id: int) -> str:
        """A new secret for the node's feed (the old link stops working); only its hash is
        kept, so the page shows it this once."""
        now = self._clock.now()
        async with self._work.transaction() as repos:
            node = await repos.orgs.node(node_id)
            if node is None or node.level not in FEED_LEVELS:
                raise Refusal("staff_cal.no_feed_here")
            if not is_officer(await rank_at(repos, actor, node), node):
                raise Refusal("staff_cal.feed_needs_officer", level=node.level, name=node.name)
            token = secrets.token_urlsafe(24)
            await repos.calendar_feeds.replace(
                node_id=node.id, token_hash=token_hash(token), by=actor.user_id, now=now
            )
            await repos.audit.record(
                action="calendar.feed_renewed", actor_id=actor.user_id, now=now, node_id=node.id
            )
        return token

    async def feed(self, token: str) -> tuple[Node, list[Entry]]:
        """The node a feed token opens and its occurrences from 90 days back to a year ahead."""
        now = self._clock.now()
        async with self._work.transaction() as repos:
            node_id = await repos.calendar_feeds.node_of(token_hash(token))
            node = await repos.orgs.node(node_id) if node_id is not None else None
            if node is None:
                raise UnknownFeed
            seen = await meetings_seen(repos, [node], officer=False)
            found = await self._occurrences(
                repos, seen, now - timedelta(days=90), now + timedelta(days=366), counts=False
            )
        return node, found

    # -----------------------------------------------------------------------------------------

    async def _occurrences(
        self,
        repos: Repositories,
        meetings: tuple[tuple[Meeting, Node, bool], ...] | list[tuple[Meeting, Node, bool]],
        start: datetime,
        end: datetime,
        *,
        counts: bool = True,
    ) -> list[Entry]:
        found: list[Entry] = []
        for meeting, node, officer in meetings:
            stored = await repos.meetings.occurrences(meeting.id)
            for occurrence in stored:
                if start <= occurrence.starts_at < end:
                    cancelled = occurrence.status == OccurrenceStatus.CANCELLED
                    found.append(
                        Entry(
                            meeting=meeting,
                            node=node,
                            planned_at=occurrence.planned_at,
                            starts_at=occurrence.starts_at,
                            occurrence_id=occurrence.id,
                            cancelled=cancelled,
                            held=occurrence.status == OccurrenceStatus.HELD,
                            counts=(
                                await repos.meetings.answer_counts(occurrence.id) if counts else {}
                            ),
                            rsvp_visible=officer,
                        )
                    )
            if meeting.status != MeetingStatus.ACTIVE or not meeting.recurring:
                continue
            after = max((o.planned_at for o in stored), default=meeting.created_at)
            for planned in self._projected(meeting, after, end):
                begins = start_of(planned, self._zone, holiday_shift=meeting.holiday_shift)
                if start <= begins.starts < end:
                    found.append(
                        Entry(
                            meeting,
                            node,
                            begins.planned,
                            begins.starts,
                            None,
                            False,
                            False,
                            {},
                            False,
                        )
                    )
        return sorted(found, key=lambda entry: (entry.starts_at, entry.meeting.id))

    def _projected(self, meeting: Meeting, after: datetime, end: datetime) -> list[datetime]:
        """The series' planned local starts after ``after`` up to ``end`` (+ a week: a start
        shifted off a holiday may land inside the range)."""
        rule = recurrence_of(meeting)
        limit = end + timedelta(days=7)
        found: list[datetime] = []
        moment = after
        while len(found) < MAX_PROJECTED:
            batch = local_starts(rule, moment, self._zone, 32)
            for planned in batch:
                if planned.replace(tzinfo=self._zone) >= limit:
                    return found
                found.append(planned)
            if not batch:
                return found
            moment = batch[-1].replace(tzinfo=self._zone).astimezone(UTC)
        return found


async def officer_nodes(repos: Repositories, actor: Actor) -> list[Node]:
    """The nodes this person is an officer of (by the chat's own check), from where their
    roles are (a super-admin: every community) down. An officer of a node is one of every node
    below it too (a role covers the nodes below, and a lower level asks a lower rank), so a
    subtree is checked at its top only."""
    if actor.is_superadmin:
        tops = await repos.reach.communities()
    else:
        tops = []
        for node_id in await repos.reach.granted_nodes(actor.user_id):
            node = await repos.orgs.node(node_id)
            if node is not None:
                tops.append(node)
    seen: dict[int, Node] = {}
    frontier = tops
    while frontier:
        below: list[Node] = []
        for node in frontier:
            if node.id in seen:
                continue
            if is_officer(await rank_at(repos, actor, node), node):
                seen[node.id] = node
                for lower in await repos.orgs.descendants(node.id):
                    seen[lower.id] = lower
            else:
                below.extend(await repos.orgs.children(node.id))
        frontier = below
    order = {Level.COMMUNITY: 0, Level.GRID: 1, Level.BUILDING: 2}
    return sorted(seen.values(), key=lambda node: (order.get(node.level, 3), node.id))


async def meetings_seen(
    repos: Repositories, nodes: list[Node] | tuple[Node, ...], *, officer: bool = True
) -> list[tuple[Meeting, Node, bool]]:
    """The meetings of ``nodes`` and those below them (the viewer an officer of each when
    ``officer``), and those announced to everyone from the nodes above."""
    own: dict[int, Node] = {}
    for node in nodes:
        if node.id not in own:  # else its subtree is in already
            own[node.id] = node
            for below in await repos.orgs.descendants(node.id):
                own[below.id] = below
    above: dict[int, Node] = {}
    for node in own.values():
        if node.parent_id is not None and node.parent_id not in own:  # a top one
            for ancestor in await repos.orgs.ancestry(node.parent_id):
                above[ancestor.id] = ancestor
    statuses = tuple(MeetingStatus)
    found = [
        (meeting, own[meeting.node_id], officer)
        for meeting in await repos.meetings.at_nodes(list(own), statuses=statuses)
    ]
    found += [
        (meeting, above[meeting.node_id], False)
        for meeting in await repos.meetings.at_nodes(list(above), statuses=statuses)
        if meeting.scope == Scope.ALL
    ]
    return found
