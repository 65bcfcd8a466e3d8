"""Closing a topic: the tally under its rule, the record kept forever, the announcements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from bot.services.announcements import TopicCancelled, TopicClosed
from bot.services.escalation.sending_up import SendUp, send_up
from bot.services.events import OutboxQueued, TopicChanged
from bot.services.topics.eligibility import household_roll
from bot.services.topics.outcome import HouseholdBallot, Outcome, TallyInput, decide
from bot.services.unit_of_work import Work
from storage.records import DueTimer, EscalationReason, Topic, TopicPost, TopicStatus
from storage.repositories import Repositories
from storage.repositories.audit import AuditRow
from storage.repositories.outbox import Queued

if TYPE_CHECKING:
    from bot.timers import BatchTimerHandler

DEFAULT_OPTION_SETS = (("同意", "反对", "弃权"), ("Agree", "Against", "Abstain"))
CLOSE_TIMER = "topic.close"
NUDGE_TIMER = "topic.nudge"


def members_of(posts: Sequence[TopicPost]) -> int | None:
    """Who may vote on a per-person topic: the members of its voting chats as counted when it
    was published; None if a chat's count is not known (WeCom tells a bot no group's size)."""
    counted = [post.members for post in posts if post.voting]
    known = [members for members in counted if members is not None]
    return sum(known) if len(known) == len(counted) else None


def _fraction(value: Fraction | None) -> list[int] | None:
    return [value.numerator, value.denominator] if value is not None else None


def fraction_of(value: Any) -> Fraction | None:
    """The inverse of how outcomes store fractions: ``[numerator, denominator]``."""
    if not value:
        return None
    return Fraction(int(value[0]), int(value[1]))


async def tally(repos: Repositories, topic: Topic) -> tuple[TallyInput, dict[str, Any]]:
    """The topic's tally as the outcome rules read it, plus figures the record keeps."""
    posts = await repos.topics.posts(topic.id)
    return await tally_of(repos, topic, posts, await repos.topics.counts(topic.id))


async def tally_of(
    repos: Repositories, topic: Topic, posts: Sequence[TopicPost], counted: dict[int, int]
) -> tuple[TallyInput, dict[str, Any]]:
    """:func:`tally` from the topic's posts and ballots per option, already read."""
    posts = [post for post in posts if post.voting]
    counts = tuple(counted.get(index, 0) for index in range(len(topic.options)))
    extra: dict[str, Any] = {}
    households: tuple[HouseholdBallot, ...] = ()
    total_area, total_households = Decimal(0), 0
    if topic.household:
        roll = await household_roll(repos, [post.node_id for post in posts])
        eligible = len(roll.areas)
        ballots = await repos.topics.ballots(topic.id)
        households = tuple(
            HouseholdBallot(household_id=index, area=ballot.area, option=ballot.option)
            for index, ballot in enumerate(ballots)
        )
        total_households = eligible
        total_area = roll.total_area
        extra["total_area"] = str(total_area)
        extra["unknown_area"] = sum(1 for value in roll.areas.values() if value is None)
    else:
        members = members_of(posts)
        if members is None:  # no turnout to tell: the record says so, not cast / cast
            extra["eligible"] = extra["turnout"] = None
        eligible = members or 0
    cast = sum(counts)
    eligible = max(eligible, cast)
    tally_input = TallyInput(
        rule=topic.rule,
        options=topic.options,
        counts=counts if not topic.is_opinion else tuple(0 for _ in topic.options),
        eligible=eligible,
        quorum_percent=topic.quorum_percent,
        default_options=topic.options in DEFAULT_OPTION_SETS,
        households=households if topic.rule in ("278", "278-major") else (),
        total_area=total_area,
        total_households=total_households,
    )
    return tally_input, extra


def outcome_record(
    result: Outcome, tally_input: TallyInput, extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "verdict": result.verdict.value,
        "reason": result.reason.value if result.reason else None,
        "winner": result.winner,
        "cast": result.cast,
        "eligible": tally_input.eligible,
        "counts": list(tally_input.counts),
        "turnout": _fraction(result.turnout),
        "area_participation": _fraction(result.area_participation),
        "household_participation": _fraction(result.household_participation),
        "area_agree": _fraction(result.area_agree),
        "household_agree": _fraction(result.household_agree),
        **extra,
    }


async def close_topic(
    repos: Work,
    topic: Topic,
    now: datetime,
    *,
    by: int | None,
    cancelled: bool = False,
    sla_default: timedelta | None = None,
) -> None:
    """Close (or cancel) an open topic once; announce it in every chat it was posted in."""
    await close_topics(repos, [topic], now, by=by, cancelled=cancelled, sla_default=sla_default)


async def close_topics(
    repos: Work,
    candidates: Sequence[Topic],
    now: datetime,
    *,
    by: int | None,
    cancelled: bool = False,
    sla_default: timedelta | None = None,
) -> None:
    """Close (or cancel) each open topic once; announce each in every chat it was posted in.

    Set-based: a handful of statements for the whole batch (the due-work sweep closes
    hundreds at once), plus an escalation for each unresolved one."""
    status = TopicStatus.CANCELLED if cancelled else TopicStatus.CLOSED
    closed_ids = await repos.topics.close_many(
        [topic.id for topic in candidates], status=status, now=now
    )
    closing = [topic for topic in candidates if topic.id in closed_ids]
    if not closing:
        return
    ids = [topic.id for topic in closing]
    posts = await repos.topics.posts_of(ids)
    records: dict[int, dict[str, Any]] = {}
    if not cancelled:
        counts, opinions = await repos.topics.tallies_of(ids)
        for topic in closing:
            tally_input, extra = await tally_of(
                repos, topic, posts.get(topic.id, []), counts.get(topic.id, {})
            )
            record = outcome_record(decide(tally_input), tally_input, extra)
            record["opinions"] = list(opinions.get(topic.id, (0, 0)))
            records[topic.id] = record
        await repos.topics.set_outcomes(records)
    # The close erased the salts; secret ballots must lose what else could name their voter:
    # the moment each was cast (a user's last_seen or a membership check shares it), who
    # recorded an offline one, and the household's floor area (the outcome keeps the sums).
    await repos.topics.forget_secret_voters([t.id for t in closing if t.secret], now)
    await repos.timers.cancel_many((CLOSE_TIMER, NUDGE_TIMER), [str(i) for i in ids], now)
    await repos.audit.record_many(
        [
            AuditRow(
                action=f"topic.{status}",
                actor_id=by,
                node_id=topic.node_id,
                topic_id=topic.id,
                verdict=records[topic.id]["verdict"] if topic.id in records else None,
                reason=records[topic.id]["reason"] if topic.id in records else None,
            )
            for topic in closing
        ],
        now=now,
    )
    await repos.outbox.add_many(
        [
            Queued(
                chat_id=post.chat_id,
                announcement=(
                    TopicCancelled(topic_id=topic.id)
                    if cancelled
                    else TopicClosed(topic_id=topic.id)
                ),
                reply_to=post.message_id,
                thread_id=post.thread_id,
            )
            for topic in closing
            for post in posts.get(topic.id, [])
        ],
        now=now,
    )
    repos.record_all(TopicChanged(topic_id) for topic_id in ids)
    repos.record(OutboxQueued())
    if sla_default is not None:
        # 小事不出网格: what a building cannot settle goes up to its grid, at once.
        unresolved = [
            SendUp(topic, reason=EscalationReason(records[topic.id]["reason"]))
            for topic in closing
            if topic.id in records and records[topic.id]["verdict"] == "unresolved"
        ]
        await send_up(repos, unresolved, now=now, sla_default=sla_default, tell_origin=False)


def close_when_due(sla_default: timedelta) -> BatchTimerHandler:
    """The deadline timers: close each topic still open (exactly once), a batch at a time."""

    async def on_close_due(repos: Work, due: Sequence[DueTimer], now: datetime) -> None:
        found = await repos.topics.many(int(timer.ref) for timer in due)
        still_open = [topic for topic in found.values() if topic.is_open]
        await close_topics(repos, still_open, now, by=None, sla_default=sla_default)

    return on_close_due
