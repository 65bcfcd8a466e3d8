"""Read models of a matter's journey: the escalation card and the full history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING

from storage.records import Escalation, Node, ProgressUpdate, Resolution, Topic
from storage.repositories import Repositories

if TYPE_CHECKING:  # topics import escalation (a close sends a tie up): names only
    from bot.services.topics.service import TopicSnapshot


@dataclass(frozen=True, slots=True)
class Hop:
    escalation: Escalation
    from_node: Node
    to_node: Node


@dataclass(frozen=True, slots=True)
class CardView:
    """What an escalation card shows."""

    hop: Hop
    topic: Topic
    parent: Node | None
    recent_opinions: list[tuple[str, str]]
    opinions: int


RATINGS = ("satisfied", "basically", "unsatisfied")  # 满意 / 基本满意 / 不满意


@dataclass(frozen=True, slots=True)
class RateAction:
    """A resident of the origin rates the decision on their matter."""

    topic_id: int
    rating: str  # one of RATINGS


def rating_actions(topic_id: int) -> tuple[RateAction, ...]:
    """What a rating request offers: each rating, best first."""
    return tuple(RateAction(topic_id, rating) for rating in RATINGS)


class CardMove(Enum):
    """What an officer may do from an escalation card (``VOTE_HERE``, ``VOTE_ALL`` and
    ``BACK`` once they chose to put the matter to a vote)."""

    ACCEPT = "accept"
    VOTE = "vote"
    RESOLVE = "resolve"
    SEND_UP = "send_up"
    VOTE_HERE = "vote_here"
    VOTE_ALL = "vote_all"
    BACK = "back"


@dataclass(frozen=True, slots=True)
class CardAction:
    """One action on a card; ``level`` is the level it names (the vote's, the one above)."""

    escalation_id: int
    move: CardMove
    level: str | None = None


def card_actions(view: CardView, *, choosing_scope: bool = False) -> tuple[CardAction, ...]:
    """The actions a card offers: none once its hop is over; where to vote while choosing."""
    escalation = view.hop.escalation
    if not escalation.is_active:
        return ()
    if choosing_scope:
        moves = (CardMove.VOTE_HERE, CardMove.VOTE_ALL, CardMove.BACK)
        return tuple(CardAction(escalation.id, move) for move in moves)
    actions = []
    if escalation.state == "open":
        actions.append(CardAction(escalation.id, CardMove.ACCEPT))
    actions.append(CardAction(escalation.id, CardMove.VOTE, view.hop.to_node.level))
    actions.append(CardAction(escalation.id, CardMove.RESOLVE))
    if view.parent is not None:
        actions.append(CardAction(escalation.id, CardMove.SEND_UP, view.parent.level))
    return tuple(actions)


@dataclass(frozen=True, slots=True)
class EscalationCardView:
    """What an escalation card says in the receiving node's chat, and what officers may do
    from it; each channel draws it (Telegram: channels/telegram/escalation/render.py)."""

    topic_id: int
    title: str
    from_level: str
    from_name: str
    reason: str  # a reasons.* key
    note: str | None
    tally: tuple[tuple[str, int], ...] | None  # None: an opinion topic, or no snapshot
    cast: int
    eligible: int
    roll_known: bool  # False: who may vote is not known (a WeCom group's size), only ``cast``
    opinions: int
    recent_opinions: tuple[tuple[str, str], ...]  # (author, text), the latest public ones
    age: timedelta  # since the matter arrived
    sla_due_at: datetime | None
    state: str  # open, accepted, escalated, resolved, ...
    officer: str | None  # who took it on
    above_level: str  # where it went when escalated
    actions: tuple[CardAction, ...]


def escalation_card_view(
    view: CardView,
    snap: TopicSnapshot | None,
    *,
    officer: str | None,
    now: datetime,
    choosing_scope: bool = False,
) -> EscalationCardView:
    """The card from what was read (``officer``: the display name of who took it on)."""
    escalation = view.hop.escalation
    counted = snap is not None and not snap.topic.is_opinion
    return EscalationCardView(
        topic_id=view.topic.id,
        title=view.topic.title,
        from_level=view.hop.from_node.level,
        from_name=view.hop.from_node.name,
        reason=escalation.reason,
        note=escalation.note or None,
        tally=tuple(zip(snap.topic.options, snap.counts, strict=True))
        if snap is not None and counted
        else None,
        cast=snap.cast if snap is not None else 0,
        eligible=snap.eligible if snap is not None else 0,
        roll_known=snap.roll_known if snap is not None else True,
        opinions=view.opinions,
        recent_opinions=tuple(view.recent_opinions),
        age=now - escalation.created_at,
        sla_due_at=escalation.sla_due_at,
        state=escalation.state,
        officer=officer,
        above_level=view.parent.level if view.parent else "community",
        actions=card_actions(view, choosing_scope=choosing_scope),
    )


@dataclass(frozen=True, slots=True)
class History:
    """The whole record of a matter, for ``/result``."""

    hops: list[Hop]
    resolution: Resolution | None
    progress: list[ProgressUpdate]
    ratings: dict[str, int]


async def _hop(repos: Repositories, escalation: Escalation) -> Hop:
    from_node = await repos.orgs.node(escalation.from_node_id)
    to_node = await repos.orgs.node(escalation.to_node_id)
    assert from_node is not None and to_node is not None
    return Hop(escalation=escalation, from_node=from_node, to_node=to_node)


async def card_view(repos: Repositories, escalation_id: int) -> CardView | None:
    escalation = await repos.escalations.get(escalation_id)
    if escalation is None:
        return None
    hop = await _hop(repos, escalation)
    topic = await repos.topics.get(escalation.topic_id)
    assert topic is not None
    parent = await repos.orgs.node(hop.to_node.parent_id) if hop.to_node.parent_id else None
    public = await repos.topics.opinions(topic.id, public_only=True)
    people = await repos.users.many(sorted({opinion.user_id for opinion in public[-3:]}))
    recent = [
        (people[o.user_id].display_name if o.user_id in people else str(o.user_id), o.text)
        for o in public[-3:]
    ]
    return CardView(
        hop=hop, topic=topic, parent=parent, recent_opinions=recent, opinions=len(public)
    )


async def history(repos: Repositories, topic_id: int) -> History:
    hops = [await _hop(repos, e) for e in await repos.escalations.of_topic(topic_id)]
    return History(
        hops=hops,
        resolution=await repos.escalations.resolution(topic_id),
        progress=await repos.escalations.progress(topic_id),
        ratings=await repos.escalations.rating_counts([topic_id]),
    )
