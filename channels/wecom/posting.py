"""A core item's card posted once in each WeCom chat where it belongs.

Telegram keeps its posted messages current by editing them (channels/telegram/delivery/
kept_current.py); WeCom cannot: a proactive send (``aibot_send_msg``) returns no message id,
and a card changes only in the answer to a press on it, for everyone who sees it. So on WeCom
an item's post is sent once, where the core has a post without a message id in a WeCom chat,
and recorded as posted (``POSTED_WITHOUT_ID``); from then on the presses keep it current.

Syncs come from the domain's events (and, at a start, from the items that may have missed
one); one sync per item at a time, so a post is recorded before the next sync reads it. A
chat WeCom will not send to yet (it never wrote to the bot) is left for the next sync; a post
of several messages (a ballot's message, then its card) that failed part way sends only the
rest then (what went out is remembered in the process, not across a restart).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from channels.wecom.connection import ConnectionLost, WeComRefused
from channels.wecom.replies import WeComReplies

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Unposted:
    """An item's messages (its card, and any message that goes before it) that a WeCom chat
    should have and has not been sent; recorded as posted once all of them went."""

    chat_id: int
    address: str  # the chatid
    bodies: tuple[dict[str, Any], ...]  # the messages to send, in order (markdown, a card)


class PostedOnce:
    """Posts an item's missing cards; a kind says what is missing (``_unposted``) and how a
    post is recorded (``_record``)."""

    what = "item"

    def __init__(self, connection: WeComReplies) -> None:
        self._connection = connection
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # (item, chat) -> how many of an unfinished post's messages went out already
        self._sent: dict[tuple[int, int], int] = {}

    async def _unposted(self, key: int) -> Sequence[Unposted]:
        raise NotImplementedError

    async def _record(self, key: int, chat_id: int) -> None:
        raise NotImplementedError

    def touch(self, key: int) -> None:
        """The item changed: post what is missing, in the background."""
        task = asyncio.create_task(self.sync(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def touch_all(self, keys: Iterable[int]) -> None:
        for key in keys:
            self.touch(key)

    async def sync(self, key: int) -> None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            try:
                for unposted in await self._unposted(key):
                    where = (key, unposted.chat_id)
                    try:
                        for index in range(self._sent.get(where, 0), len(unposted.bodies)):
                            await self._connection.send(unposted.address, unposted.bodies[index])
                            self._sent[where] = index + 1
                    except (WeComRefused, ConnectionLost) as error:
                        log.warning(
                            "%s %s: the card for WeCom chat %s was not sent: %s",
                            self.what,
                            key,
                            unposted.chat_id,
                            error,
                        )
                        continue
                    await self._record(key, unposted.chat_id)
                    self._sent.pop(where, None)
            except Exception:
                log.exception("posting the cards of %s %s failed", self.what, key)

    async def idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
