"""/close, /cancel, /extend, /nudge, /ballot: an officer's moves on a topic by its number;
/topics, /result and /opinion, and the lines they answer with (the same on every channel)."""

from __future__ import annotations

import re

from bot.commands.base import Asked, Reply, UsageError, said
from bot.services.announcement_texts import (
    Joined,
    Line,
    Said,
    Told,
    Value,
    tally,
    topic_record,
    verdict_said,
)
from bot.services.escalation.views import RATINGS, History
from bot.services.topics.eligibility import parse_topic_id
from bot.services.topics.service import TopicView
from bot.services.topics.views import verdict_of
from storage.records import Topic


async def close(asked: Asked) -> None:
    """The outcome is posted in the topic's chats; nothing more to say."""
    (raw_id,) = asked.args("topics.usage_close", at_least=1, at_most=1)
    await asked.services.topics.close(asked.actor, asked.place, parse_topic_id(raw_id))


async def cancel(asked: Asked) -> None:
    """The cancellation is posted in the topic's chats."""
    (raw_id,) = asked.args("topics.usage_cancel", at_least=1, at_most=1)
    await asked.services.topics.cancel(asked.actor, asked.place, parse_topic_id(raw_id))


async def extend(asked: Asked) -> Reply:
    raw_id, duration = asked.args("topics.usage_extend", at_least=2, at_most=2)
    topic = await asked.services.topics.extend(
        asked.actor, asked.place, parse_topic_id(raw_id), duration
    )
    return said("topics.extended", id=topic.id, deadline=topic.deadline)


async def nudge(asked: Asked) -> None:
    """The reminders go to the chat and privately; the group sees them."""
    (raw_id,) = asked.args("topics.usage_nudge", at_least=1, at_most=1)
    await asked.services.nudges.nudge(asked.actor, asked.place, parse_topic_id(raw_id))


_CHANNEL_KEY = re.compile(r"^(方式|channel)[=＝](.+)$", re.IGNORECASE)


async def ballot(asked: Asked) -> Reply:
    """A paper or spoken ballot recorded by an officer for a household."""
    args = asked.args("topics.usage_ballot", at_least=3, at_most=4)
    channel = None
    if len(args) == 4:
        match = _CHANNEL_KEY.match(args[3])
        if match is None:
            raise UsageError("topics.usage_ballot")
        channel = match.group(2)
    recorded = await asked.services.offline_ballots.record(
        asked.actor, asked.place, parse_topic_id(args[0]), args[1], args[2], channel
    )
    key = "topics.offline_recorded_secret" if recorded.topic.secret else "topics.offline_recorded"
    return said(
        key,
        unit=recorded.unit,
        channel=Said(f"channels.{recorded.channel}"),
        option=recorded.option,
    )


def listing_lines(open_topics: list[Topic], closed: list[Topic]) -> tuple[Line, ...]:
    """``/topics``: the open topics with their deadlines, the recently closed with verdicts."""
    lines: list[Line] = []
    if open_topics:
        lines.append(Said("topics.list_open"))
        lines.extend(
            Said("topics.list_open_item", {"id": t.id, "title": t.title, "deadline": t.deadline})
            for t in open_topics
        )
    if closed:
        lines.append(Said("topics.list_closed"))
        lines.extend(
            Said(
                "topics.list_closed_item",
                {"id": t.id, "title": t.title, "verdict": verdict_said(verdict_of(t))},
            )
            for t in closed
        )
    return tuple(lines) or (Said("topics.list_none"),)


def result_lines(view: TopicView) -> tuple[Line, ...]:
    """``/result``: the topic's state (open: the deadline, the tally unless hidden until the
    close, the opinions; closed: its record), the offline ballots, and for officers in private
    the private opinions."""
    topic = view.topic
    lines: list[Line] = [Said("topics.header", {"id": topic.id, "title": topic.title})]
    if topic.is_open:
        lines.append(Said("topics.open_line", {"deadline": topic.deadline}))
        if not topic.is_opinion and not topic.hide_results:
            lines.append(tally(topic, view.counts))
        opinions: dict[str, Value] = {
            "public": view.opinions_public,
            "private": view.opinions_private,
        }
        lines.append(Said("topics.opinions_line", opinions))
    else:
        lines.extend(topic_record(topic))
    offline = tuple(
        Said(f"topics.channel_{channel}", {"count": count})
        for channel, count in sorted(view.channels.items())
        if channel != "button"
    )
    if offline and not (topic.is_open and topic.hide_results):
        lines.append(Said("topics.offline_line", {"channels": Joined(offline, "、")}))
    if view.private_opinions:
        lines.append(Said("topics.private_opinions_title"))
        lines.extend(Said("topics.opinion_item", {"text": text}) for text in view.private_opinions)
    return tuple(lines)


def history_lines(record: History) -> tuple[Line, ...]:
    """Where a matter went up the chain, the decision taken, its progress and ratings."""
    if not record.hops:
        return ()
    lines: list[Line] = [Said("escalation.history_title")]
    for hop in record.hops:
        hop_values: dict[str, Value] = {
            "created": hop.escalation.created_at,
            "from_level": Said(f"levels.{hop.from_node.level}"),
            "from_name": hop.from_node.name,
            "to_level": Said(f"levels.{hop.to_node.level}"),
            "to_name": hop.to_node.name,
            "reason": Said(f"reasons.{hop.escalation.reason}"),
            "state": Said(f"states.{hop.escalation.state}"),
        }
        lines.append(Said("escalation.history_hop", hop_values))
    resolution = record.resolution
    if resolution is not None:
        resolver = next(
            (hop.to_node.name for hop in record.hops if hop.to_node.id == resolution.node_id), ""
        )
        decided: dict[str, Value] = {
            "resolved": resolution.resolved_at,
            "name": resolver,
            "decision": resolution.decision,
        }
        lines.append(Said("escalation.history_resolution", decided))
        lines.extend(
            Said("escalation.history_progress", {"posted": p.posted_at, "text": p.text})
            for p in record.progress
        )
        ratings: dict[str, Value] = {key: record.ratings.get(key, 0) for key in RATINGS}
        lines.append(Said("escalation.history_ratings", ratings))
    return tuple(lines)


async def topics(asked: Asked) -> Reply:
    open_topics, closed = await asked.services.topics.listing(asked.place)
    return Reply(Told(listing_lines(open_topics, closed)))


async def result(asked: Asked) -> Reply:
    (raw_id,) = asked.args("topics.usage_result", at_least=1, at_most=1)
    view = await asked.services.topics.view(asked.actor, asked.place, parse_topic_id(raw_id))
    record = await asked.services.escalation.history(view.topic.id)
    return Reply(Told((*result_lines(view), *history_lines(record))))


async def opinion(asked: Asked) -> Reply:
    """``/opinion 12 text``: public in a group, for the officers only when sent privately."""
    parts = asked.text.split(maxsplit=1)
    if len(parts) != 2:
        raise UsageError("topics.usage_opinion")
    recorded = await asked.services.opinions.record(
        asked.actor,
        asked.place,
        parse_topic_id(parts[0]),
        parts[1],
        asked.membership,
        message_id=asked.message_id,
    )
    key = "opinions.recorded_public" if recorded.public else "opinions.recorded_private"
    return said(key, id=recorded.topic.id)


COMMANDS = {
    "topics": topics,
    "result": result,
    "opinion": opinion,
    "close": close,
    "cancel": cancel,
    "extend": extend,
    "nudge": nudge,
    "ballot": ballot,
}
