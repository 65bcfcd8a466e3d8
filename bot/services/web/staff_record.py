"""What the staff pages of participation, the record (居务公开) and the audit log read.

Who sees what is who could ask in a chat: the nodes where a person is an officer (the
same ``rank_at`` and ``is_officer`` as /stats and /export: a grid worker their grid, community
staff their community, a super-admin every community) and everything below them. The figures
are /stats's own (``StatsService.figures``), a topic's files /export's record
(``ExportService.record``, asked as from a private chat), the audit log /audit's rows
(``StatsService.audit``: community admins and super-admins). Anything outside the scope does
not exist here (``NotVisible``: a 404, as for an id that does not exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.services import Services
from bot.services.actors import Actor, ChatKind, Place
from bot.services.errors import Refusal
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.reports.export import TopicRecord
from bot.services.reports.stats import WINDOW, AuditLine, NodeStats
from bot.services.web.topic_pages import NotVisible
from storage.records import Level, Node, TopicStatus
from storage.repositories.record import MeetingFound, RecordQuery, TopicFound
from storage.repositories.stats import TurnoutSum

PAGE_SIZE = 50
MAX_EXPORTED = 5000  # rows of a search's own export
PRESETS = ("30d", "this_month", "last_month", "this_year")
STATES = tuple(TopicStatus)


@dataclass(frozen=True, slots=True)
class Period:
    """A window of time: ``since`` to ``until`` (both included), UTC; ``first``/``last`` the
    local dates it covers (None for the /stats window, which ends now)."""

    since: datetime
    until: datetime
    preset: str | None
    first: date
    last: date


def preset_period(preset: str, now: datetime, zone: tzinfo) -> Period:
    """``30d`` is exactly /stats's window (the last 30 days up to now); the others are
    calendar months and years in the deployment's zone."""
    today = now.astimezone(zone).date()
    if preset == "30d":
        since = now - WINDOW
        return Period(since, now, preset, since.astimezone(zone).date(), today)
    if preset == "this_month":
        first = today.replace(day=1)
        return dated(first, today, zone, preset=preset)
    if preset == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return dated(last.replace(day=1), last, zone, preset=preset)
    if preset == "this_year":
        return dated(today.replace(month=1, day=1), today, zone, preset=preset)
    raise Refusal("staff_record.bad_preset", given=preset[:20])


def dated(first: date, last: date, zone: tzinfo, *, preset: str | None = None) -> Period:
    """From the start of ``first`` to the end of ``last``, local days."""
    if last < first:
        raise Refusal(
            "staff_record.period_reversed", first=first.isoformat(), last=last.isoformat()
        )
    since = datetime.combine(first, time(), zone)
    until = datetime.combine(last + timedelta(days=1), time(), zone) - timedelta(microseconds=1)
    return Period(since, until, preset, first, last)


def parse_day(text: str) -> date:
    try:
        if len(text) != 10 or not text.isascii():
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise Refusal("staff_record.bad_date", given=text[:20]) from None


@dataclass(frozen=True, slots=True)
class TurnoutRow:
    node: Node
    turnout: TurnoutSum


@dataclass(frozen=True, slots=True)
class Participation:
    figures: NodeStats
    grids: tuple[TurnoutRow, ...]
    buildings: tuple[TurnoutRow, ...]


@dataclass(frozen=True, slots=True)
class RecordFilters:
    text: str | None = None
    node_id: int | None = None
    category: str | None = None
    status: str | None = None
    first: date | None = None
    last: date | None = None
    oldest_first: bool = False


@dataclass(frozen=True, slots=True)
class RecordPage:
    topics: tuple[TopicFound, ...]
    topics_total: int
    meetings: tuple[MeetingFound, ...]
    meetings_total: int
    page: int
    pages: int


class StaffRecord:
    def __init__(self, services: Services) -> None:
        self._services = services

    # Scope --------------------------------------------------------------------------------

    async def roots(self, actor: Actor) -> list[Node]:
        """The highest nodes where this person is an officer (none: not staff here)."""
        async with self._services.database.transaction() as repos:
            if actor.is_superadmin:
                ids = await repos.stats.nodes_at_level(Level.COMMUNITY)
            else:
                ids = await repos.public_record.nodes_with_roles(actor.user_id)
            found = await repos.orgs.nodes_with_ancestors(ids)
            officer: list[Node] = []
            for node_id in ids:
                node = found.get(node_id)
                if node is not None and is_officer(await rank_at(repos, actor, node), node):
                    officer.append(node)
        chosen = {node.id for node in officer}

        def covered(node: Node) -> bool:
            parent = node.parent_id
            while parent is not None:
                if parent in chosen:
                    return True
                above = found.get(parent)
                parent = above.parent_id if above else None
            return False

        return [node for node in officer if not covered(node)]

    async def nodes(self, actor: Actor, roots: list[Node] | None = None) -> list[Node]:
        """Every node in this person's scope, each root followed by its descendants."""
        roots = await self.roots(actor) if roots is None else roots
        out: list[Node] = []
        async with self._services.database.transaction() as repos:
            for root in roots:
                out.append(root)
                out.extend(await repos.orgs.descendants(root.id))
        return out

    # Participation ------------------------------------------------------------------------

    async def participation(self, actor: Actor, node: Node, period: Period) -> Participation:
        """/stats's figures of ``node`` over ``period``, and its turnout by grid and by
        building: each node's own topics' turnout with its descendants' added in."""
        figures = await self._services.stats.figures(actor, node.id, period.since, period.until)
        async with self._services.database.transaction() as repos:
            below = await repos.orgs.descendants(node.id)
        parents = {child.id: child.parent_id for child in below}
        rolled: dict[int, TurnoutSum] = {}
        for start, part in figures.turnout_by_node.items():
            current: int | None = start
            while current is not None:
                seen = rolled.get(current, TurnoutSum(0, 0, 0))
                rolled[current] = TurnoutSum(
                    seen.topics + part.topics, seen.cast + part.cast, seen.eligible + part.eligible
                )
                current = parents.get(current) if current != node.id else None
        empty = TurnoutSum(0, 0, 0)
        in_tree = [node, *below]
        grids = tuple(
            TurnoutRow(n, rolled.get(n.id, empty)) for n in in_tree if n.level == Level.GRID
        )
        buildings = tuple(
            TurnoutRow(n, rolled.get(n.id, empty)) for n in in_tree if n.level == Level.BUILDING
        )
        return Participation(figures, grids, buildings)

    # The record ---------------------------------------------------------------------------

    async def search(
        self,
        actor: Actor,
        filters: RecordFilters,
        *,
        page: int = 1,
        size: int = PAGE_SIZE,
        scope: list[Node] | None = None,
    ) -> RecordPage:
        """One page of what the search finds; ``scope``: ``nodes(actor)``, if read already."""
        query = await self._query(actor, filters, scope)
        page = max(1, page)
        async with self._services.database.transaction() as repos:
            offset = (page - 1) * size
            found, total = await repos.public_record.topics(query, limit=size, offset=offset)
            if filters.category is None and filters.status is None:
                meetings, meetings_total = await repos.public_record.meetings(
                    query, limit=size, offset=(page - 1) * size
                )
            else:  # a meeting has neither: a search by either finds none
                meetings, meetings_total = [], 0
        pages = max(1, -(-max(total, meetings_total) // size))
        return RecordPage(tuple(found), total, tuple(meetings), meetings_total, page, pages)

    async def exported(
        self, actor: Actor, filters: RecordFilters, scope: list[Node] | None = None
    ) -> list[TopicFound]:
        """The topics a search finds (at most MAX_EXPORTED, newest first), for its files."""
        query = await self._query(actor, filters, scope)
        async with self._services.database.transaction() as repos:
            found, _ = await repos.public_record.topics(query, limit=MAX_EXPORTED)
        return found

    async def _query(
        self, actor: Actor, filters: RecordFilters, scope: list[Node] | None
    ) -> RecordQuery:
        scope = await self.nodes(actor) if scope is None else scope
        ids = [node.id for node in scope]
        if filters.node_id is not None:
            if filters.node_id not in ids:
                raise Refusal("staff_record.node_outside", id=filters.node_id)
            async with self._services.database.transaction() as repos:
                below = await repos.orgs.descendants(filters.node_id)
            ids = [filters.node_id, *(node.id for node in below)]
        zone = self._services.settings.zone
        since = dated(filters.first, filters.first, zone).since if filters.first else None
        until = dated(filters.last, filters.last, zone).until if filters.last else None
        if since is not None and until is not None and until < since:
            assert filters.first is not None and filters.last is not None
            raise Refusal(
                "staff_record.period_reversed",
                first=filters.first.isoformat(),
                last=filters.last.isoformat(),
            )
        return RecordQuery(
            node_ids=tuple(ids),
            text=filters.text or None,
            category=filters.category,
            status=filters.status,
            since=since,
            until=until,
            oldest_first=filters.oldest_first,
        )

    async def topic_record(self, actor: Actor, topic_id: int) -> TopicRecord:
        """/export's record of a topic in this person's scope, as a private chat gets it."""
        place = Place(actor.user_id, ChatKind.PRIVATE)
        try:
            return await self._services.export.record(actor, place, topic_id)
        except Refusal:  # unknown, or not an officer of its node: not there for them
            raise NotVisible from None

    # The audit log ------------------------------------------------------------------------

    async def audit(
        self,
        actor: Actor,
        *,
        node: str | None,
        user: int | None,
        action: str | None,
        first: date | None,
        last: date | None,
        before_id: int | None,
        limit: int,
    ) -> list[AuditLine]:
        """/audit's rows (community admins; super-admins), filtered and a page at a time."""
        zone = self._services.settings.zone
        return await self._services.stats.audit(
            actor,
            Place(actor.user_id, ChatKind.PRIVATE),
            node_filter=node,
            user_filter=user,
            limit=limit,
            action=action,
            since=dated(first, first, zone).since if first else None,
            until=dated(last, last, zone).until if last else None,
            before_id=before_id,
        )
