"""The pending-update queue with Telegram's getUpdates semantics.

* updates stay queued until *confirmed* by a later getUpdates with a higher ``offset``;
* a negative offset keeps only the last ``-offset`` updates;
* ``allowed_updates`` is remembered between calls and applies to updates created afterwards;
  by default ``chat_member``, ``message_reaction`` and ``message_reaction_count`` are not sent;
* a new getUpdates request terminates a still-waiting older one with 409 Conflict.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from emulators.telegram.errors import GET_UPDATES_CONFLICT, ApiError

NOT_SENT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class UpdateQueue:
    def __init__(self, on_change: Callable[[bool], None]) -> None:
        self._on_change = on_change
        self.pending: list[dict[str, Any]] = []
        self.next_update_id = 1
        self.allowed_updates: list[str] | None = None
        self.confirmed_offset = 0
        self.fetched_upto = 0
        self.generation = 0
        self.closed = False
        self.dropped: list[dict[str, Any]] = []  # filtered out by allowed_updates
        self._event: asyncio.Event | None = None

    def _wake(self, activity: bool = True) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None
        self._on_change(activity)

    def _wait_event(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def allows(self, kind: str) -> bool:
        if not self.allowed_updates:
            return kind not in NOT_SENT_BY_DEFAULT
        return kind in self.allowed_updates

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queues ``{"update_id": n, kind: payload}`` unless allowed_updates filters it out."""
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        if not self.allows(kind):
            self.dropped.append(update)
            return None
        self.pending.append(update)
        self._wake()
        return update

    def inject(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queues a raw update; assigns an ``update_id`` if it has no integer one."""
        update = dict(update)
        update_id = update.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            update["update_id"] = update_id = self.next_update_id
        self.next_update_id = max(self.next_update_id, update_id + 1)
        self.pending.append(update)
        self._wake()
        return update

    def confirm(self, offset: int | None) -> None:
        if not offset:
            return
        before = len(self.pending)
        if offset > 0:
            self.pending = [u for u in self.pending if _uid(u) >= offset]
            self.confirmed_offset = max(self.confirmed_offset, offset)
        else:
            self.pending = self.pending[offset:]
            first = _uid(self.pending[0]) if self.pending else self.next_update_id
            self.confirmed_offset = max(self.confirmed_offset, first)
        if len(self.pending) != before:
            self._on_change(True)

    def drop_pending(self) -> None:
        self.pending.clear()
        self.confirmed_offset = self.next_update_id
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake(False)

    async def get(
        self,
        *,
        offset: int | None,
        limit: int,
        timeout: float,  # noqa: ASYNC109
        allowed_updates: list[str] | None,
    ) -> list[dict[str, Any]]:
        if allowed_updates is not None:
            self.allowed_updates = list(allowed_updates)
        self.confirm(offset)
        self.generation += 1
        generation = self.generation
        self._wake(False)  # terminates an older waiting request with 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            if self.closed:
                return []
            if generation != self.generation:
                raise ApiError(409, GET_UPDATES_CONFLICT)
            if self.pending:
                batch = [dict(u) for u in self.pending[:limit]]
                self.fetched_upto = max(self.fetched_upto, _uid(batch[-1]))
                self._on_change(True)
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wait_event().wait(), remaining)


def _uid(update: dict[str, Any]) -> int:
    value = update.get("update_id")
    return value if isinstance(value, int) else 0
