"""The ballot cards as they are now, drawn once for all the presses answered meanwhile.

Every press on a vote card is answered with the card for everyone (WeCom updates a card only
in the answer to a press, within 5 s), so a burst of presses would read and draw the same
card once per press. Instead each card is drawn once per tally: a tally is a topic's snapshot
read in a group-committed transaction, numbered in the order those committed
(``bot.services.topics.service.Tally``), so of two the higher number is the newer.

- A vote's own receipt carries the tally read after its ballot, in its transaction
  (:meth:`LatestCards.as_of`): the presses counted in one batch share one drawing of each
  card, and nothing more is read to answer them.
- Any other caller (a press WeCom delivers again) joins the read that starts next
  (:meth:`LatestCards.current`; never one under way, which may have begun before the state it
  must show), one read for all who joined.

Each caller answers with the newest card drawn so far (at least as new as its own), and the
answers go out in that order: WeCom shows the card of the last answer it took, so that answer
never shows an older tally than an earlier one. A card is whatever the reader and the drawings
give (None: there is none); the WeCom adapter's (channels/wecom/cards.py ``VoteCard``) encodes
itself once for all the answers that show it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Key = tuple[int, int]  # (topic, chat)
C = TypeVar("C")  # a card
REMEMBERED = 4096  # cards kept as the newest drawn (a caller's own is never older)
# The cards of these keys as they are now, and the number of the tally they were drawn from.
Read = Callable[[Sequence[Key]], Awaitable[tuple[int, dict[Key, C | None]]]]
Draw = Callable[[], Awaitable[C | None]]


class LatestCards(Generic[C]):
    def __init__(self, read: Read[C]) -> None:
        self._read = read
        # the next read, what its callers wait
        self._next: dict[Key, asyncio.Future[C | None]] = {}
        self._reader: asyncio.Task[None] | None = None
        # the newest card drawn of each, and its tally's number; the least recently drawn first
        self._newest: dict[Key, tuple[int, C | None]] = {}
        self._drawing: dict[Key, tuple[int, asyncio.Future[C | None]]] = {}

    async def as_of(self, topic_id: int, chat_id: int, order: int, draw: Draw[C]) -> C | None:
        """The card of ``chat_id`` for ``topic_id`` from the tally numbered ``order`` or a
        newer one; ``draw`` draws it from that tally, if no caller did or is doing it."""
        key = (topic_id, chat_id)
        newest = self._newest.get(key)
        if newest is not None and newest[0] >= order:
            return newest[1]
        drawing = self._drawing.get(key)
        if drawing is not None and drawing[0] >= order:
            card = await asyncio.shield(drawing[1])
        else:
            card = await self._draw(key, order, draw)
        newest = self._newest.get(key)
        return newest[1] if newest is not None and newest[0] >= order else card

    async def _draw(self, key: Key, order: int, draw: Draw[C]) -> C | None:
        done: asyncio.Future[C | None] = asyncio.get_running_loop().create_future()
        self._drawing[key] = (order, done)
        try:
            card = await draw()
        except BaseException as error:
            done.set_exception(error)
            done.exception()  # the callers waiting get it; nobody else need look
            raise
        finally:
            if self._drawing.get(key) == (order, done):
                del self._drawing[key]
        self._keep(key, order, card)
        done.set_result(card)
        return card

    def _keep(self, key: Key, order: int, card: C | None) -> None:
        newest = self._newest.get(key)
        if newest is not None and newest[0] >= order:
            return  # a newer tally's card was drawn meanwhile
        self._newest.pop(key, None)
        self._newest[key] = (order, card)
        while len(self._newest) > REMEMBERED:
            del self._newest[next(iter(self._newest))]

    async def current(self, topic_id: int, chat_id: int) -> C | None:
        """The card of ``chat_id`` for ``topic_id``, read after this call began."""
        key = (topic_id, chat_id)
        waiting = self._next.get(key)
        if waiting is None:
            waiting = self._next[key] = asyncio.get_running_loop().create_future()
        if self._reader is None:
            self._reader = asyncio.ensure_future(self._reads())
        card = await asyncio.shield(waiting)
        newest = self._newest.get(key)
        return newest[1] if newest is not None else card

    async def _reads(self) -> None:
        try:
            while self._next:
                batch, self._next = self._next, {}
                try:
                    order, cards = await self._read(list(batch))
                except Exception as error:
                    for waiting in batch.values():
                        waiting.set_exception(error)
                    continue
                for key, waiting in batch.items():
                    self._keep(key, order, cards.get(key))
                    waiting.set_result(cards.get(key))
        finally:
            self._reader = None
