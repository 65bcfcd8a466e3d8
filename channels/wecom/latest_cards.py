"""The ballot cards as they are now, read once for all the presses answered meanwhile.

Every press on a vote card is answered with the card for everyone (WeCom updates a card only
in the answer to a press, within 5 s), so a burst of presses would read the same snapshots
once per press. Instead the presses whose ballots committed meanwhile share one read of every
card they need, in one transaction: a caller joins the read that starts next (never one
already under way, which may have begun before its ballot committed), so the card it gets
counts its ballot.

Each caller answers with the newest card read so far (at least as new as its own), and the
answers go out in the order their reads finished: WeCom shows the card of the last answer it
took, so that answer never shows an older tally than an earlier one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

Key = tuple[int, int]  # (topic, chat)
Card = dict[str, Any] | None
REMEMBERED = 4096  # cards kept as the newest read (a caller's own read is never older)
Read = Callable[[Sequence[Key]], Awaitable[dict[Key, Card]]]


class LatestCards:
    def __init__(self, read: Read) -> None:
        self._read = read
        self._next: dict[Key, asyncio.Future[Card]] = {}  # the next read, what its callers wait
        self._reader: asyncio.Task[None] | None = None
        self._newest: dict[Key, Card] = {}  # the last card read of each, the oldest first

    async def current(self, topic_id: int, chat_id: int) -> Card:
        """The card of ``chat_id`` for ``topic_id``, read after this call began."""
        key = (topic_id, chat_id)
        waiting = self._next.get(key)
        if waiting is None:
            waiting = self._next[key] = asyncio.get_running_loop().create_future()
        if self._reader is None:
            self._reader = asyncio.ensure_future(self._reads())
        card = await asyncio.shield(waiting)
        return self._newest.get(key, card)

    async def _reads(self) -> None:
        try:
            while self._next:
                batch, self._next = self._next, {}
                try:
                    cards = await self._read(list(batch))
                except Exception as error:
                    for waiting in batch.values():
                        waiting.set_exception(error)
                    continue
                for key, waiting in batch.items():
                    self._newest.pop(key, None)
                    self._newest[key] = cards.get(key)
                    waiting.set_result(cards.get(key))
                while len(self._newest) > REMEMBERED:
                    del self._newest[next(iter(self._newest))]
        finally:
            self._reader = None
