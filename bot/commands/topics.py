"""/close, /cancel, /extend, /nudge, /ballot: an officer's moves on a topic by its number."""

from __future__ import annotations

import re

from bot.commands.base import Asked, Reply, UsageError, said
from bot.services.announcement_texts import Said
from bot.services.topics.eligibility import parse_topic_id


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


COMMANDS = {
    "close": close,
    "cancel": cancel,
    "extend": extend,
    "nudge": nudge,
    "ballot": ballot,
}
