"""What staff read and do on their pages: who they are and where (the staff home), the
escalation board, and a matter's page with the card's actions.

Who sees what follows the chat's own checks: a person sees the matters waiting at a node
they are an officer of (``rank_at`` / ``is_officer``, as the card's buttons ask), and a
matter's page if they are an officer of any node it reached; for anyone else the matter does
not exist (404). The actions go through ``EscalationService`` and ``open_vote`` exactly as
the card's buttons do, from the card's own chat, so the decision goes down the same chats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from bot.clock import Clock
from bot.services.actors import Actor, ChatKind, Place
from bot.services.errors import Refusal
from bot.services.escalation.views import CardMove, card_actions, card_view
from bot.services.organisation.permissions import Rank, is_officer, rank_at
from bot.services.topics.service import snapshot
from bot.services.topics.views import BallotView, ballot_view
from bot.services.unit_of_work import UnitOfWork
from bot.services.web.topic_pages import NotVisible, PublicOpinion
from storage.records import (
    WAITING_STATES,
    AuditEntry,
    Escalation,
    Level,
    Node,
    ProgressUpdate,
    Resolution,
    RoleName,
    Topic,
    TopicStatus,
)
from storage.repositories import Repositories
from storage.tables import audit_log, escalations, topics

PAGE_SIZE = 100  # rows of the board a page shows
AGES = (1, 3, 7, 30)  # the age filter's choices, in days


class NotStaff(Exception):
    """The person holds no role anywhere (the staff pages refuse them, saying why)."""


class BoardState(StrEnum):
    """The board's groups, in the product's words (locale keys staff_board.state_*)."""

    WAITING = "waiting"  # 待受理
    ACCEPTED = "accepted"  # 已受理
    VOTING = "voting"  # 网格表决中
    AT_COMMUNITY = "at_community"  # 已上报社区


@dataclass(frozen=True, slots=True)
class Grant:
    role: RoleName
    node: Node


@dataclass(frozen=True, slots=True)
class StaffHome:
    name: str
    grants: tuple[Grant, ...]
    superadmin: bool
    rank: Rank  # the highest rank held anywhere (which staff pages are theirs)


@dataclass(frozen=True, slots=True)
class BoardFilters:
    state: BoardState | None = None
    grid: int | None = None
    building: int | None = None
    category: str | None = None
    age_days: int | None = None  # waiting at least this many days
    page: int = 0


@dataclass(frozen=True, slots=True)
class BoardRow:
    topic_id: int
    escalation_id: int
    title: str
    category: str | None
    state: BoardState
    holder: str
    origin: str  # the building (or grid) the matter came from
    grid: str | None
    age: timedelta
    overdue: timedelta | None  # how long past the SLA


@dataclass(frozen=True, slots=True)
class Board:
    rows: tuple[BoardRow, ...]
    total: int
    counts: dict[BoardState, int]
    grids: tuple[Node, ...]
    buildings: tuple[Node, ...]
    categories: tuple[str, ...]
    filters: BoardFilters


@dataclass(frozen=True, slots=True)
class HopLine:
    escalation: Escalation
    from_node: Node
    to_node: Node
    escalated_by: str | None
    accepted_by: str | None
    vote_topic: Topic | None
    card_chat: str | None  # the group its card was posted in (the card's history)


@dataclass(frozen=True, slots=True)
class AuditLine:
    entry: AuditEntry
    actor: str | None


@dataclass(frozen=True, slots=True)
class MatterPage:
    topic: Topic
    origin: Node
    view: BallotView
    opinions: tuple[PublicOpinion, ...]
    hops: tuple[HopLine, ...]
    resolution: Resolution | None
    resolved_by: str | None
    progress: tuple[ProgressUpdate, ...]
    ratings: dict[str, int]
    audit: tuple[AuditLine, ...]
    moves: tuple[CardMove, ...]  # what this person may do now (the card's actions)
    above_level: str | None  # where 上报 sends it


class StaffBoard:
    def __init__(self, work: UnitOfWork, clock: Clock) -> None:
        self._work, self._clock = work, clock

    # Who asks -----------------------------------------------------------------------------

    async def home(self, actor: Actor) -> StaffHome:
        async with self._work.transaction() as repos:
            grants = await repos.roles.everywhere_of(actor.user_id)
            if not grants and not actor.is_superadmin:
                raise NotStaff
            found = await repos.orgs.nodes_with_ancestors([g.node_id for g in grants])
            user = await repos.users.get(actor.user_id)
        rank = max((Rank.of_role(g.role) for g in grants), default=Rank.RESIDENT)
        return StaffHome(
            name=user.display_name if user is not None else str(actor.user_id),
            grants=tuple(Grant(g.role, found[g.node_id]) for g in grants if g.node_id in found),
            superadmin=actor.is_superadmin,
            rank=Rank.SUPERADMIN if actor.is_superadmin else rank,
        )

    @staticmethod
    async def _scope(repos: Repositories, actor: Actor) -> tuple[dict[int, Node], dict[int, Node]]:
        """Every node this person sees the tree under (the nodes of their roles, every
        community for a super-admin, and everything below them), and of those the grids
        and communities they are an officer of: where the matters they act on wait.

        A rank covers the node's subtree, so the rank at each node below a role's node is
        the highest ``rank_at`` (the chat's check) of the roles' nodes above it: one
        ``rank_at`` per role, not one per node of a city's tree."""
        if actor.is_superadmin:
            roots = await repos.orgs.roots()
        else:
            grants = await repos.roles.everywhere_of(actor.user_id)
            found = await repos.orgs.nodes_with_ancestors([g.node_id for g in grants])
            roots = [found[g.node_id] for g in grants if g.node_id in found]
        scope: dict[int, Node] = {}
        ranks: dict[int, Rank] = {}
        for root in roots:
            rank = await rank_at(repos, actor, root)
            for node in [root, *await repos.orgs.descendants(root.id)]:
                scope[node.id] = node
                ranks[node.id] = max(ranks.get(node.id, Rank.RESIDENT), rank)
        held = {
            node.id: node
            for node in scope.values()
            if node.level != Level.BUILDING and is_officer(ranks[node.id], node)
        }
        return scope, held

    # The board ----------------------------------------------------------------------------

    async def board(self, actor: Actor, filters: BoardFilters) -> Board:
        now = self._clock.now()
        async with self._work.transaction() as repos:
            scope, held = await self._scope(repos, actor)
            if not held:
                raise NotStaff
            grids = sorted((n for n in scope.values() if n.level == Level.GRID), key=_by_name)
            buildings = sorted(
                (n for n in scope.values() if n.level == Level.BUILDING), key=_by_name
            )
            # The grid's vote, looked up by its id where there is one (an outer join made
            # PostgreSQL hash every topic of the city for 3,000 hops that mostly have none).
            vote = aliased(topics)
            vote_open = (
                select(vote.c.id)
                .where(vote.c.id == escalations.c.vote_topic_id, vote.c.status == TopicStatus.OPEN)
                .exists()
            )
            voting = and_(escalations.c.vote_topic_id.is_not(None), vote_open)
            community_ids = [n.id for n in held.values() if n.level == Level.COMMUNITY]
            state = case(
                (escalations.c.to_node_id.in_(community_ids), BoardState.AT_COMMUNITY.value),
                (voting, BoardState.VOTING.value),
                (escalations.c.state == "accepted", BoardState.ACCEPTED.value),
                else_=BoardState.WAITING.value,
            ).label("board_state")
            base = (
                select(
                    escalations,
                    topics.c.title,
                    topics.c.category,
                    topics.c.node_id.label("origin_id"),
                    state,
                )
                .join(topics, topics.c.id == escalations.c.topic_id)
                .where(
                    escalations.c.state.in_(WAITING_STATES),
                    escalations.c.to_node_id.in_(sorted(held)),
                )
            )
            if filters.grid is not None and filters.grid in scope:
                under = [filters.grid] + [n.id for n in buildings if n.parent_id == filters.grid]
                base = base.where(topics.c.node_id.in_(under))
            if filters.building is not None:
                base = base.where(topics.c.node_id == filters.building)
            if filters.category:
                base = base.where(topics.c.category == filters.category)
            if filters.age_days is not None:
                since = now - timedelta(days=filters.age_days)
                base = base.where(escalations.c.created_at <= since)
            listed = base.subquery()
            # One pass for the chips and the category filter's choices: (state, category).
            counted = await repos.connection.execute(
                select(listed.c.board_state, listed.c.category, func.count()).group_by(
                    listed.c.board_state, listed.c.category
                )
            )
            counts: dict[BoardState, int] = {}
            found_categories: set[str] = set()
            for board_state, category, number in counted:
                chosen_state = BoardState(board_state)
                counts[chosen_state] = counts.get(chosen_state, 0) + int(number)
                if category is not None:
                    found_categories.add(str(category))
            chosen = select(listed)
            if filters.state is not None:
                chosen = chosen.where(listed.c.board_state == filters.state.value)
            # The earliest SLA first: the most overdue at the top, then what falls due next.
            rows = list(
                await repos.connection.execute(
                    chosen.order_by(
                        listed.c.sla_due_at.asc().nulls_last(), listed.c.created_at, listed.c.id
                    )
                    .limit(PAGE_SIZE)
                    .offset(filters.page * PAGE_SIZE)
                )
            )
            categories = sorted(found_categories)
            known = await repos.orgs.nodes_with_ancestors(
                {row.origin_id for row in rows} | {row.to_node_id for row in rows}
            )
        total = counts.get(filters.state, 0) if filters.state is not None else sum(counts.values())
        return Board(
            rows=tuple(_board_row(row, known, now) for row in rows),
            total=total,
            counts=counts,
            grids=tuple(grids),
            buildings=tuple(buildings),
            categories=tuple(categories),
            filters=filters,
        )

    # A matter -----------------------------------------------------------------------------

    async def matter(self, actor: Actor, topic_id: int) -> MatterPage:
        async with self._work.transaction() as repos:
            hops = await repos.escalations.of_topic(topic_id)
            if not hops:
                raise NotVisible
            reached = await repos.orgs.nodes_with_ancestors({h.to_node_id for h in hops})
            reached.update(await repos.orgs.nodes_with_ancestors({h.from_node_id for h in hops}))
            holder = reached[hops[-1].to_node_id]
            officer_anywhere = False
            for node_id in {h.to_node_id for h in hops}:
                node = reached[node_id]
                if is_officer(await rank_at(repos, actor, node), node):
                    officer_anywhere = True
                    break
            if not officer_anywhere:
                raise NotVisible
            snap = await snapshot(repos, topic_id)
            assert snap is not None
            topic = snap.topic
            origin = await repos.orgs.node(topic.node_id)
            assert origin is not None
            public = await repos.topics.opinions(topic.id, public_only=True)
            resolution = await repos.escalations.resolution(topic_id)
            progress = await repos.escalations.progress(topic_id)
            ratings = await repos.escalations.rating_counts([topic_id])
            votes: dict[int, Topic] = {}
            vote_ids = await repos.connection.execute(
                select(escalations.c.id, escalations.c.vote_topic_id).where(
                    escalations.c.topic_id == topic_id, escalations.c.vote_topic_id.is_not(None)
                )
            )
            for hop_id, vote_id in vote_ids:
                found = await repos.topics.get(int(vote_id))
                if found is not None:
                    votes[int(hop_id)] = found
            audit_rows = await repos.connection.execute(
                select(audit_log)
                .where(
                    audit_log.c.node_id.in_(sorted(reached)),
                    audit_log.c.details["topic_id"].as_integer() == topic_id,
                )
                .order_by(audit_log.c.id)
                .limit(200)
            )
            audit = [
                AuditEntry(
                    id=row.id,
                    at=row.at,
                    actor_id=row.actor_id,
                    action=row.action,
                    node_id=row.node_id,
                    chat_id=row.chat_id,
                    details=dict(row.details),
                )
                for row in audit_rows
            ]
            people_ids = {o.user_id for o in public} | {a.actor_id for a in audit if a.actor_id}
            for hop in hops:
                people_ids |= {hop.escalated_by or 0, hop.accepted_by or 0}
            if resolution is not None:
                people_ids.add(resolution.resolved_by)
            people = await repos.users.many(sorted(people_ids - {0}))
            card_chats: dict[int, str] = {}
            for hop in hops:
                if hop.card_chat_id is not None and hop.card_chat_id not in card_chats:
                    chat = await repos.chats.get(hop.card_chat_id)
                    title = chat.title if chat is not None and chat.title else None
                    card_chats[hop.card_chat_id] = title or str(hop.card_chat_id)
            current = hops[-1]
            moves: tuple[CardMove, ...] = ()
            above: str | None = None
            if is_officer(await rank_at(repos, actor, holder), holder):
                card = await card_view(repos, current.id)
                assert card is not None
                moves = tuple(action.move for action in card_actions(card))
                above = card.parent.level if card.parent is not None else None

        def name(user_id: int | None) -> str | None:
            if user_id is None:
                return None
            return people[user_id].display_name if user_id in people else str(user_id)

        return MatterPage(
            topic=topic,
            origin=origin,
            view=ballot_view(snap, voting=False, level=origin.level),
            opinions=tuple(
                PublicOpinion(name(o.user_id) or "?", o.text, o.created_at) for o in public
            ),
            hops=tuple(
                HopLine(
                    escalation=hop,
                    from_node=reached[hop.from_node_id],
                    to_node=reached[hop.to_node_id],
                    escalated_by=name(hop.escalated_by),
                    accepted_by=name(hop.accepted_by),
                    vote_topic=votes.get(hop.id),
                    card_chat=card_chats.get(hop.card_chat_id)
                    if hop.card_chat_id is not None
                    else None,
                )
                for hop in hops
            ),
            resolution=resolution,
            resolved_by=name(resolution.resolved_by) if resolution else None,
            progress=tuple(progress),
            ratings=ratings,
            audit=tuple(AuditLine(entry, name(entry.actor_id)) for entry in audit),
            moves=moves,
            above_level=above,
        )

    async def card_place(self, actor: Actor, topic_id: int) -> tuple[Escalation, Place]:
        """The matter's waiting hop and its card's chat: where the card's buttons act from.
        NotVisible as for the page; a refusal when nothing waits or no card was posted."""
        await self.matter(actor, topic_id)  # NotVisible first, for anyone who may not see it
        async with self._work.transaction() as repos:
            current = await repos.escalations.current(topic_id)
        if current is None or not current.is_active:
            raise Refusal("staff_board.not_waiting", id=topic_id)
        if current.card_chat_id is None:
            raise Refusal("staff_board.no_card", id=topic_id)
        return current, Place(current.card_chat_id, ChatKind.GROUP)


def _by_name(node: Node) -> str:
    return node.name


def _board_row(row: Any, known: dict[int, Node], now: datetime) -> BoardRow:
    origin = known.get(row.origin_id)
    grid: Node | None = None
    if origin is not None and origin.level == Level.GRID:
        grid = origin
    elif origin is not None and origin.parent_id is not None:
        grid = known.get(origin.parent_id)
    holder = known.get(row.to_node_id)
    sla = row.sla_due_at
    return BoardRow(
        topic_id=row.topic_id,
        escalation_id=row.id,
        title=row.title,
        category=row.category,
        state=BoardState(row.board_state),
        holder=holder.name if holder else "?",
        origin=origin.name if origin else "?",
        grid=grid.name if grid else None,
        age=now - row.created_at,
        overdue=(now - sla) if sla is not None and sla < now else None,
    )


__all__ = [
    "AGES",
    "Board",
    "BoardFilters",
    "BoardRow",
    "BoardState",
    "MatterPage",
    "NotStaff",
    "StaffBoard",
    "StaffHome",
]
