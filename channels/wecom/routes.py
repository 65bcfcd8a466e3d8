"""What the WeCom adapter routes to each feature: WeCom's own commands (those that answer
with a card or need WeCom's ways; the rest are bot/commands, shared by every channel), the
presses on cards, by the type of what the card's key decodes to (channels/wecom/cards.py),
and the words that are no command (a quoted message, an answer the bot asked for), offered
to each route in turn until one takes them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from channels.wecom import (
    escalation,
    export,
    meetings,
    proposals,
    registration,
    reports,
    topic_wizard,
    topics,
)
from channels.wecom.cards import (
    EscalationPress,
    MeetingPress,
    ProposalPress,
    RatingPress,
    RegistrationPress,
    TopicStepPress,
    VotePress,
)

if TYPE_CHECKING:
    from channels.wecom.adapter import Message, Pressed, WeComAdapter

OwnCommand = Callable[["WeComAdapter", "Message"], Awaitable[None]]
WordsRoute = Callable[["WeComAdapter", "Message"], Awaitable[bool]]
PressRoute = Callable[["WeComAdapter", "Pressed", Any], Awaitable[None]]

OWN_COMMANDS: dict[str, OwnCommand] = {
    "topic": topics.topic,
    "register": registration.register,
    "opinion": topics.opinion,
    "propose": proposals.propose,
    "meeting": meetings.meeting,
    "digest": reports.digest,
    "pushwebhook": reports.pushwebhook,
    "export": export.export,
}

PRESSES: dict[type[object], PressRoute] = {
    VotePress: topics.vote,
    RegistrationPress: registration.decide,
    ProposalPress: proposals.step,
    MeetingPress: meetings.press,
    EscalationPress: escalation.press,
    RatingPress: escalation.rate,
    TopicStepPress: topic_wizard.press,
}

WORDS: list[WordsRoute] = [
    topics.quoted_opinion,
    topics.asked_opinion,
    topic_wizard.typed,
]
