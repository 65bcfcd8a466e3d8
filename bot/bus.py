"""Events published after their transaction commits, to whoever subscribed (the adapter)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

log = logging.getLogger(__name__)

EventSink = Callable[[Sequence[object]], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._sinks: list[EventSink] = []

    def subscribe(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    async def publish(self, events: Sequence[object]) -> None:
        if not events:
            return
        for sink in self._sinks:
            try:
                await sink(events)
            except Exception:
                log.exception("an event sink failed on %d events", len(events))
