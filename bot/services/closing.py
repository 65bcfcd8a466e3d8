"""Closing a topic: the tally under its rule, the record kept forever, the announcements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from bot.services.eligibility import household_roll
from bot.services.escalation import escalate
from bot.services.events import OutboxQueued, TopicChanged
from bot.services.outcome import HouseholdBallot, Outcome, TallyInput, decide
from storage.records import DueTimer, Topic
from storage.repositories import Repositories

if TYPE_CHECKING:
    from bot.timers import TimerHandler

DEFAULT_OPTION_SETS = (("同意", "反对", "弃权"), ("Agree", "Against", "Abstain"))
CLOSE_TIMER = "topic.close"
NUDGE_TIMER = "topic.nudge"


def _fraction(value: Fraction | None) -> list[int] | None:
    return [value.numerator, value.denominator] if value is not None else None


def fraction_of(value: Any) -> Fraction | None:
    """The inverse of how outcomes store fractions: ``[numerator, denominator]``."""
    if not value:
        return None
    return Fraction(int(value[0]), int(value[1]))


async def tally(repos: Repositories, topic: Topic) -> tuple[TallyInput, dict[str, Any]]:
    """The topic's tally as the outcome rules read it, plus figures the record keeps."""
    posts = [post for post in await repos.topics.posts(topic.id) if post.voting]
    counted = await repos.topics.counts(topic.id)
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
        eligible = sum(post.members or 0 for post in posts)
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
    repos: Repositories,
    topic: Topic,
    now: datetime,
    *,
    by: int | None,
    cancelled: bool = False,
    sla_default: timedelta | None = None,
) -> Sequence[object]:
    """Close (or cancel) an open topic once; announce it in every chat it was posted in."""
    record: dict[str, Any] | None = None
    if not cancelled:
        tally_input, extra = await tally(repos, topic)
        record = outcome_record(decide(tally_input), tally_input, extra)
        opinions_public, opinions_private = await repos.topics.opinion_counts(topic.id)
        record["opinions"] = [opinions_public, opinions_private]
    status = "cancelled" if cancelled else "closed"
    if not await repos.topics.close(topic.id, status=status, now=now, outcome=record):
        return []
    if topic.secret:
        # The close erased the salt; the ballots must lose what else could name their voter:
        # the moment each was cast (a user's last_seen or a membership check shares it), who
        # recorded an offline one, and the household's floor area (the outcome keeps the sums).
        await repos.topics.forget_secret_voters(topic.id, now)
    await repos.timers.cancel(CLOSE_TIMER, str(topic.id), now)
    await repos.timers.cancel(NUDGE_TIMER, str(topic.id), now)
    await repos.audit.record(
        action=f"topic.{status}",
        actor_id=by,
        now=now,
        node_id=topic.node_id,
        topic_id=topic.id,
        verdict=record["verdict"] if record else None,
        reason=record["reason"] if record else None,
    )
    for post in await repos.topics.posts(topic.id):
        await repos.outbox.add(
            chat_id=post.chat_id,
            kind=f"topic.{status}",
            payload={"topic_id": topic.id},
            reply_to=post.message_id,
            now=now,
        )
    events: list[object] = [TopicChanged(topic.id), OutboxQueued()]
    if record is not None and record["verdict"] == "unresolved" and sla_default is not None:
        # 小事不出网格: what a building cannot settle goes up to its grid, at once.
        events.extend(
            await escalate(
                repos,
                topic,
                reason=str(record["reason"]),
                note=None,
                by=None,
                now=now,
                sla_default=sla_default,
            )
        )
    return events


def close_when_due(sla_default: timedelta) -> TimerHandler:
    """The deadline timer: close the topic if it is still open (exactly once)."""

    async def on_close_due(repos: Repositories, timer: DueTimer, now: datetime) -> Sequence[object]:
        topic = await repos.topics.get(int(timer.ref))
        if topic is None or not topic.is_open:
            return []
        return await close_topic(repos, topic, now, by=None, sla_default=sla_default)

    return on_close_due
