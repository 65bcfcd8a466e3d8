"""What a ballot message says, as a value: the facts, the tally (or that it is hidden), the
turnout, the verdict once closed, and the actions a viewer may take there. Each channel turns
it into its own message (Telegram: HTML and inline buttons, channels/telegram/topics/render.py); no
callback data or markup here. Built from a snapshot already read: no query of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bot.services.topics.service import TopicSnapshot
from storage.records import Topic


class BallotState(Enum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a topic ended: ``key`` is a verdict (passed, failed, opinion, ...), "winner" (a
    named option won: ``option``), "unresolved" (``reason``) or "cancelled"."""

    key: str
    option: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class VoteAction:
    """Vote for option ``option`` (its index), labelled ``label``."""

    topic_id: int
    option: int
    label: str


@dataclass(frozen=True, slots=True)
class OpinionAction:
    """Give a public opinion here (Telegram: a reply to the ballot message)."""

    topic_id: int


@dataclass(frozen=True, slots=True)
class PrivateOpinionAction:
    """Give an opinion only the officers read (Telegram: the bot's private chat)."""

    topic_id: int


BallotAction = VoteAction | OpinionAction | PrivateOpinionAction


@dataclass(frozen=True, slots=True)
class BallotView:
    topic_id: int
    title: str
    description: str | None
    category: str | None  # a catalogue key
    rule: str
    quorum_percent: int | None
    household: bool
    secret: bool
    hides_results: bool  # the topic's setting (a fact shown even once closed)
    scope_level: str | None  # posted to every chat below a node of this level
    deadline: datetime
    tally: tuple[tuple[str, int], ...] | None  # None: an opinion topic (nothing to count)
    tally_hidden: bool  # the counts are hidden until the close
    cast: int
    eligible: int
    roll_known: bool  # False: who may vote is not known (a WeCom group's size), only ``cast``
    opinions: int
    state: BallotState
    verdict: Verdict | None  # once closed
    actions: tuple[BallotAction, ...]


def turnout_key(view: BallotView) -> str:
    """The message of a ballot's turnout: cast of eligible, or cast alone when who may vote
    is not known."""
    return "topics.turnout" if view.roll_known else "topics.turnout_unknown"


def verdict_of(topic: Topic) -> Verdict:
    """The verdict of a closed or cancelled topic."""
    if topic.status == "cancelled":
        return Verdict("cancelled")
    outcome = topic.outcome or {}
    verdict = str(outcome.get("verdict", "opinion"))
    winner = outcome.get("winner")
    default = topic.options[:1] and topic.options[0] in ("同意", "Agree")
    if verdict == "passed" and winner is not None and not default:
        return Verdict("winner", option=topic.options[int(winner)])
    if verdict == "unresolved":
        return Verdict("unresolved", reason=str(outcome.get("reason") or "no_votes"))
    return Verdict(verdict)


def ballot_view(snap: TopicSnapshot, *, voting: bool, level: str | None) -> BallotView:
    """The ballot message of one chat (``voting``: its people vote there; ``level``: the
    node's level, for a topic posted to every chat below it)."""
    topic = snap.topic
    if topic.status == "cancelled":
        state = BallotState.CANCELLED
    else:
        state = BallotState.OPEN if topic.is_open else BallotState.CLOSED
    actions: list[BallotAction] = []
    if state is BallotState.OPEN:
        if voting and not topic.is_opinion:
            actions.extend(
                VoteAction(topic.id, index, option) for index, option in enumerate(topic.options)
            )
        if voting:
            actions.append(OpinionAction(topic.id))
        actions.append(PrivateOpinionAction(topic.id))
    return BallotView(
        topic_id=topic.id,
        title=topic.title,
        description=topic.description or None,
        category=topic.category or None,
        rule=topic.rule,
        quorum_percent=topic.quorum_percent or None,
        household=topic.household,
        secret=topic.secret,
        hides_results=topic.hide_results,
        scope_level=level if topic.scope == "all" else None,
        deadline=topic.deadline,
        tally=None if topic.is_opinion else tuple(zip(topic.options, snap.counts, strict=True)),
        tally_hidden=topic.hide_results and topic.is_open,
        cast=snap.cast,
        eligible=snap.eligible,
        roll_known=snap.roll_known,
        opinions=snap.opinions,
        state=state,
        verdict=None if state is BallotState.OPEN else verdict_of(topic),
        actions=tuple(actions),
    )
