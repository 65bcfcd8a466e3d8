"""Events published after their transaction commits, to whoever subscribed (the adapter).

Only the unit of work publishes (bot/services/unit_of_work.py), once its transaction
committed; nothing else calls :meth:`EventBus.publish`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services.events import DomainEvent

log = logging.getLogger(__name__)

# Quoted: bot.services imports this module, so the events are only imported for the checker.
EventSink = Callable[[Sequence["DomainEvent"]], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._sinks: list[EventSink] = []

    def subscribe(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        if not events:
            return
        for sink in self._sinks:
            try:
                await sink(events)
            except Exception:
                log.exception("an event sink failed on %d events", len(events))
