"""The ballot card as it is now, read once for all the presses answered meanwhile.

Every press on a vote card is answered with the card for everyone (WeCom updates a card only
in the answer to a press, within 5 s), so a burst of presses on one card would read the same
snapshot once per press. Instead the presses whose ballots committed meanwhile share one
read: a caller joins the read that starts next (never one already under way, which may have
begun before its ballot committed), so the card it gets counts its ballot.

The answers go out in the order their reads finished, and each caller answers with the
newest card read so far (at least as new as its own): WeCom shows the card of the last
answer it took, so the last answer never shows an older tally than an earlier one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Key = tuple[int, int]  # (topic, chat)
Card = dict[str, Any] | None
Read = Callable[[int, int], Awaitable[Card]]


class LatestCards:
    def __init__(self, read: Read) -> None:
        self._read = read
        self._next: dict[Key, asyncio.Future[Card]] = {}  # the read its callers wait for
        self._reading: dict[Key, asyncio.Task[None]] = {}
        self._newest: dict[Key, Card] = {}  # while reads of the key go on

    async def current(self, topic_id: int, chat_id: int) -> Card:
        """The card of ``chat_id`` for ``topic_id``, read after this call began."""
        key = (topic_id, chat_id)
        waiting = self._next.get(key)
        if waiting is None:
            waiting = self._next[key] = asyncio.get_running_loop().create_future()
            if key not in self._reading:
                self._reading[key] = asyncio.ensure_future(self._reads(key))
        card = await asyncio.shield(waiting)
        return self._newest.get(key, card)

    async def _reads(self, key: Key) -> None:
        try:
            while (waiting := self._next.pop(key, None)) is not None:
                try:
                    card = await self._read(*key)
                except Exception as error:
                    waiting.set_exception(error)
                    continue
                self._newest[key] = card
                waiting.set_result(card)
        finally:
            self._reading.pop(key, None)
            self._newest.pop(key, None)
