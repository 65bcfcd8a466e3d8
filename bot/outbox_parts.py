"""Outbox rows delivered as several Telegram messages, each of them a durable step.

A digest is its text (split between items), its CSV and its chart. Sent as one unit and
marked sent only after the last, a stop between two of them sent the first ones again after
the restart. Here the parts are rendered once, at the row's first delivery, and stored (files
whole, so a chart is never drawn twice); each is marked sent as soon as Telegram accepted it,
and a later delivery of the row sends only the parts not yet marked. A SIGKILL between a
part's send and its mark repeats that one part (docs/RELIABILITY.md). Once all are sent the
files are dropped; the rows stay as the record of what was sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from bot.clock import Clock
from bot.outbox import DeliveryInterrupted, OutboxSender
from storage.database import Database
from storage.records import OutboxMessage, OutboxPart

RenderParts = Callable[[], Awaitable[Sequence[OutboxPart]]]
SendPart = Callable[[OutboxPart], Awaitable[int]]


class PartsDelivery:
    def __init__(self, database: Database, clock: Clock, sender: OutboxSender) -> None:
        self._db = database
        self._clock = clock
        self._sender = sender

    async def deliver(self, message: OutboxMessage, render: RenderParts, send: SendPart) -> int:
        """Send the parts of ``message`` not sent yet (rendering them first, the first time);
        returns the Telegram id of its first message (0 when there is nothing to say)."""
        async with self._db.transaction() as repos:
            parts = await repos.outbox_parts.of(message.id)
        if not parts:
            parts = list(await render())
            if not parts:
                return 0
            async with self._db.transaction() as repos:
                await repos.outbox_parts.add(message.id, parts)
        first = next((part.message_id for part in parts if part.message_id), 0)
        for part in parts:
            if part.sent:
                continue
            if self._sender.stopping:
                raise DeliveryInterrupted
            telegram_id = await send(part)
            now = self._clock.now()
            async with self._db.transaction() as repos:
                await repos.outbox_parts.sent(
                    message.id, part.seq, telegram_id=telegram_id, now=now
                )
            first = first or telegram_id
        if any(part.data is not None for part in parts):
            async with self._db.transaction() as repos:
                await repos.outbox_parts.drop_files(message.id)
        return first
