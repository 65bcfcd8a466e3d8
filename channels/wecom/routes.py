"""What the WeCom adapter routes to each feature: WeCom's own commands (those that answer
with a card or need WeCom's ways; the rest are bot/commands, shared by every channel) and the
presses on cards, by the type of what the card's key decodes to (channels/wecom/cards.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from channels.wecom import escalation, reports, topics
from channels.wecom.cards import EscalationPress, RatingPress, VotePress

if TYPE_CHECKING:
    from channels.wecom.adapter import Message, Pressed, WeComAdapter

OwnCommand = Callable[["WeComAdapter", "Message"], Awaitable[None]]
PressRoute = Callable[["WeComAdapter", "Pressed", Any], Awaitable[None]]

OWN_COMMANDS: dict[str, OwnCommand] = {
    "topic": topics.topic,
    "digest": reports.digest,
    "pushwebhook": reports.pushwebhook,
}

PRESSES: dict[type[object], PressRoute] = {
    VotePress: topics.vote,
    EscalationPress: escalation.press,
    RatingPress: escalation.rate,
}
