"""``/stats`` for officers and ``/audit`` for community admins: read-only views of the record.

``/stats`` covers a node and all its descendants over the last 30 days:

* topics published in the window, and open now;
* topics closed (or cancelled) in the window, by outcome (unresolved ones by reason);
* turnout: ballots cast over eligible voters, summed over the voting topics closed in the
  window (``cast`` and ``eligible`` from each topic's outcome record; opinion polls excluded);
* escalations sent up from these nodes in the window, by reason, and those waiting here now;
* the median time to resolution of matters raised here and resolved in the window, from the
  creation of the matter's first hop to its resolution.

``/audit`` lists the latest audit rows of a community (or, in a private chat, of every
community the caller administers), optionally only under one node and only by (or about) one
user. Nothing it shows can reveal a secret ballot: audit rows never hold a secret topic's
choices, and any choice-like detail of a row about a secret topic is dropped here as well,
together with the household an offline ballot was recorded for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from bot.catalogue import lookup_form
from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.organisation.permissions import Rank, is_officer, rank_at
from storage.database import Database
from storage.records import Level, Node, RoleName
from storage.repositories import Repositories
from storage.repositories.stats import TurnoutSum

WINDOW = timedelta(days=30)
AUDIT_LIMIT = 50
MAX_AUDIT_LIMIT = 200
# Details that could say who chose what; never shown for a secret topic (and never stored).
BALLOT_DETAILS = frozenset({"option", "options", "choice", "choices", "voter_key"})
# For a secret topic, not even which household a ballot (an offline one) was recorded for:
# with the time of the row and the live tally that could still link a household to a choice.
SECRET_DETAILS = BALLOT_DETAILS | {"unit", "household_id", "area", "user_id"}
AUDIT_ROLE = RoleName.COMMUNITY_ADMIN


# ``/audit`` filter keys, each with an English and a Chinese name.
# 节点 is kept for whoever learnt it; the replies say 范围 (a building, grid or community).
AUDIT_KEYS = {"node": "node", "范围": "node", "节点": "node", "user": "user", "用户": "user"}
_FILTER = re.compile(r'([^\s=＝]+)[=＝](?:"([^"]*)"|“([^”]*)”|(\S*))')


@dataclass(frozen=True, slots=True)
class AuditFilters:
    node: str | None = None
    user: int | None = None


def parse_audit_filters(text: str) -> AuditFilters:
    """``node=<name or id> user=<id>`` (both optional; a name with spaces in quotes)."""
    found: dict[str, str] = {}
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        match = _FILTER.match(text, position)
        if match is None:
            raise Refusal("stats.audit_bad_filter", given=text[position:].split()[0][:40])
        key = match.group(1)
        canonical = AUDIT_KEYS.get(key.lower())
        if canonical is None:
            raise Refusal("stats.audit_unknown_key", name=key[:20])
        if canonical in found:
            raise Refusal("stats.audit_repeated_key", name=key[:20])
        value = next(group for group in match.groups()[1:] if group is not None).strip()
        if not value:
            raise Refusal("stats.audit_empty_value", name=key[:20])
        found[canonical] = value
        position = match.end()
    user = found.get("user")
    if user is not None and not re.fullmatch(r"\d{1,15}", user):
        raise Refusal("stats.audit_bad_user", given=user[:40])
    return AuditFilters(node=found.get("node"), user=int(user) if user is not None else None)


def median(values: list[timedelta]) -> timedelta | None:
    """The exact median (the mean of the middle two for an even count); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True, slots=True)
class NodeStats:
    node: Node
    since: datetime
    until: datetime
    nodes: int  # the node and its descendants
    # The descendants by level (building, grid, ...), for "2 grids, 6 buildings below".
    below: dict[str, int]
    published: int
    open_now: int
    # Topics closed in the window by verdict (passed, rejected, unresolved, opinion) and
    # ``cancelled``; unresolved ones also by reason (no_quorum, tie, no_votes).
    outcomes: dict[str, int]
    unresolved: dict[str, int]
    voting_topics: int
    cast: int
    eligible: int
    escalations: dict[str, int]
    waiting: int
    resolved: int
    median_resolution: timedelta | None
    # Topics published in the window by category ("": none), and the residents' ratings of
    # resolutions given in the window (the staff page shows them; /stats does not yet).
    categories: dict[str, int] = field(default_factory=dict)
    ratings: dict[str, int] = field(default_factory=dict)
    # The turnout of each node's own voting topics (those with one closed in the window);
    # ``cast``, ``eligible`` and ``voting_topics`` are their sums.
    turnout_by_node: dict[int, TurnoutSum] = field(default_factory=dict)

    @property
    def closed(self) -> int:
        return sum(self.outcomes.values())

    @property
    def turnout(self) -> Fraction | None:
        return Fraction(self.cast, self.eligible) if self.eligible else None


@dataclass(frozen=True, slots=True)
class AuditLine:
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str | None
    action: str
    node_id: int | None
    node_name: str | None
    # Safe to show: nothing about a secret ballot's choices.
    details: dict[str, Any]
    # Names for ids in ``details``: ``user_id`` -> the user's name, ``from_node`` -> a node's.
    names: dict[str, str] = field(default_factory=dict)


class StatsService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    async def stats(self, actor: Actor, place: Place) -> NodeStats:
        """The figures of the chat's node and its descendants; officers of the node only."""
        until = self._clock.now()
        since = until - WINDOW
        async with self._db.transaction() as repos:
            node = await repos.orgs.node_of_chat(place.chat_id) if place.is_group else None
            if node is None:
                raise Refusal("stats.needs_bound_group")
            return await self._officers_figures(repos, actor, node, since, until)

    async def figures(
        self, actor: Actor, node_id: int, since: datetime, until: datetime
    ) -> NodeStats:
        """/stats's figures of a node (and its descendants) over any window, for the same
        people (its officers): the staff page's participation."""
        async with self._db.transaction() as repos:
            node = await repos.orgs.node(node_id)
            if node is None:
                raise Refusal("stats.needs_bound_group")
            return await self._officers_figures(repos, actor, node, since, until)

    async def _officers_figures(
        self, repos: Repositories, actor: Actor, node: Node, since: datetime, until: datetime
    ) -> NodeStats:
        if not is_officer(await rank_at(repos, actor, node), node):
            raise Refusal("stats.needs_officer", level=node.level, name=node.name)
        descendants = await repos.orgs.descendants(node.id)
        ids = [node.id] + [child.id for child in descendants]
        below: dict[str, int] = {}
        for child in descendants:
            below[child.level] = below.get(child.level, 0) + 1
        stats = repos.stats
        outcomes = await stats.outcomes(ids, since, until)
        # The total is the sum of each node's: the staff page's breakdown by grid and building.
        by_node = await stats.turnout_by_node(ids, since, until)
        times = await stats.resolution_times(ids, since, until)
        # Published in the window = the sum by category: one read of the scope's topics.
        categories = await stats.categories(ids, since, until)
        by_verdict: dict[str, int] = {}
        unresolved: dict[str, int] = {}
        for (verdict, reason), number in outcomes.items():
            by_verdict[verdict] = by_verdict.get(verdict, 0) + number
            if verdict == "unresolved" and reason:
                unresolved[reason] = unresolved.get(reason, 0) + number
        return NodeStats(
            node=node,
            since=since,
            until=until,
            nodes=len(ids),
            below=below,
            published=sum(categories.values()),
            open_now=await stats.topics_open(ids),
            outcomes=by_verdict,
            unresolved=unresolved,
            voting_topics=sum(part.topics for part in by_node.values()),
            cast=sum(part.cast for part in by_node.values()),
            eligible=sum(part.eligible for part in by_node.values()),
            escalations=await stats.escalations_by_reason(ids, since, until),
            waiting=await stats.escalations_waiting(ids),
            resolved=len(times),
            median_resolution=median(times),
            categories=categories,
            turnout_by_node=by_node,
            ratings=await stats.ratings(ids, since, until),
        )

    async def audit(
        self,
        actor: Actor,
        place: Place,
        *,
        node_filter: str | None = None,
        user_filter: int | None = None,
        limit: int = AUDIT_LIMIT,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
    ) -> list[AuditLine]:
        """The latest audit rows this community admin (or super-admin) may see, newest first."""
        limit = max(1, min(limit, MAX_AUDIT_LIMIT))
        async with self._db.transaction() as repos:
            roots = await self._audit_roots(repos, actor, place)
            scope: dict[int, Node] = {}
            for root in roots:
                scope[root.id] = root
                for child in await repos.orgs.descendants(root.id):
                    scope[child.id] = child
            if node_filter is not None:
                chosen = self._find_node(scope, node_filter)
                node_ids = [chosen.id] + [
                    child.id
                    for child in await repos.orgs.descendants(chosen.id)
                    if child.id in scope
                ]
            else:
                node_ids = list(scope)
            chats = await repos.stats.bound_chats(node_ids)
            rows = await repos.stats.audit(
                node_ids=node_ids,
                chat_ids=sorted(chats),
                user_id=user_filter,
                limit=limit,
                action=action,
                since=since,
                until=until,
                before_id=before_id,
            )
            topic_ids = {
                int(value)
                for row in rows
                if isinstance(value := row.details.get("topic_id"), int)
                and not isinstance(value, bool)
            }
            secret = await repos.stats.secret_topics(sorted(topic_ids))
            user_ids = {row.actor_id for row in rows if row.actor_id is not None}
            user_ids |= {
                value
                for row in rows
                if isinstance(value := row.details.get("user_id"), int)
                and not isinstance(value, bool)
            }
            people = await repos.users.many(sorted(user_ids))
            lines: list[AuditLine] = []
            for row in rows:
                node_id = row.node_id
                if node_id is None and row.chat_id is not None:
                    node_id = chats.get(row.chat_id)
                node = scope.get(node_id) if node_id is not None else None
                hidden = SECRET_DETAILS if row.details.get("topic_id") in secret else {"voter_key"}
                details = {key: value for key, value in row.details.items() if key not in hidden}
                names: dict[str, str] = {}
                subject = details.get("user_id")
                if isinstance(subject, int) and subject in people:
                    names["user_id"] = people[subject].display_name
                origin = details.get("from_node")
                if isinstance(origin, int) and origin in scope:
                    names["from_node"] = scope[origin].name
                actor_name = (
                    people[row.actor_id].display_name
                    if row.actor_id is not None and row.actor_id in people
                    else None
                )
                lines.append(
                    AuditLine(
                        id=row.id,
                        at=row.at,
                        actor_id=row.actor_id,
                        actor_name=actor_name,
                        action=row.action,
                        node_id=node_id,
                        node_name=node.name if node else None,
                        details=details,
                        names=names,
                    )
                )
            return lines

    @staticmethod
    async def _audit_roots(repos: Repositories, actor: Actor, place: Place) -> list[Node]:
        """The communities whose record this actor may read from here."""
        if place.is_group:
            node = await repos.orgs.node_of_chat(place.chat_id)
            if node is None or node.level != Level.COMMUNITY:
                raise Refusal("stats.audit_where")
            if await rank_at(repos, actor, node) < Rank.COMMUNITY_ADMIN:
                raise Refusal("stats.audit_needs_admin")
            return [node]
        if actor.is_superadmin:
            ids = await repos.stats.nodes_at_level(Level.COMMUNITY)
        else:
            ids = await repos.stats.nodes_with_role(actor.user_id, AUDIT_ROLE)
        roots = [node for node_id in ids if (node := await repos.orgs.node(node_id)) is not None]
        if not roots:
            raise Refusal("stats.audit_needs_admin")
        return roots

    @staticmethod
    def _find_node(scope: dict[int, Node], given: str) -> Node:
        """``12``, ``#12`` or a name, among the nodes this audit may show."""
        text = given.strip()
        number = re.fullmatch(r"[#＃]?(\d{1,9})", text)
        if number and int(number.group(1)) in scope:
            return scope[int(number.group(1))]
        wanted = lookup_form(text)
        matches = [node for node in scope.values() if lookup_form(node.name) == wanted]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            ids = ", ".join(f"#{node.id}" for node in sorted(matches, key=lambda n: n.id))
            raise Refusal("stats.audit_ambiguous_node", given=text[:40], ids=ids)
        raise Refusal("stats.audit_unknown_node", given=text[:40])
