"""How Yishi answers WeCom, whichever way the callbacks come in.

The adapter and the announcer see only :class:`WeComReplies`: answer a message callback, update
the card of a press, send to a chat. On the long connection (channels/wecom/connection.py)
each is a frame on the socket; in callback mode (channels/wecom/passive.py) the first answer to
a callback is the HTTP response to WeCom's POST and the others go through its ``response_url``.
Either raises ``WeComRefused`` when WeCom refused, ``ConnectionLost`` when it could not be
delivered now.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class EncodedCard:
    """A card's JSON, encoded once for the many answers that show it (the presses on a vote
    card answered with the same tally), and put into each frame as it is."""

    json: str

    @classmethod
    def of(cls, card: dict[str, Any]) -> EncodedCard:
        return cls(json.dumps(card, ensure_ascii=False))

    @property
    def card(self) -> dict[str, Any]:
        """The card itself, read back from its JSON, for a transport that encodes the whole
        reply its own way (callback mode encrypts it): only the JSON is kept, as a vote card
        is encoded from parts already encoded, never built as a dict to answer a press."""
        card: dict[str, Any] = json.loads(self.json)
        return card


class WeComReplies(Protocol):
    async def respond(self, req_id: str, body: dict[str, Any]) -> None:
        """Answers a message callback (markdown or a card)."""
        ...

    async def update_card(
        self, req_id: str, card: dict[str, Any] | EncodedCard, userids: list[str] | None = None
    ) -> None:
        """Answers a ``template_card_event`` with the card as it is now (for everyone, or only
        ``userids``), within WeCom's 5 s."""
        ...

    async def send(self, chatid: str, body: dict[str, Any]) -> None:
        """A message (markdown or a card) the bot sends on its own to a chat."""
        ...
