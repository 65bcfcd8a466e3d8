"""The outbox hands each row to the channel of its chat's platform; a row for a platform no
channel of this process serves waits for one (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from bot.outbox import NO_CHANNEL_RETRY, OutboxSender
from bot.services.announcements import GroupNudge
from storage.database import Database
from storage.records import OutboxMessage, Platform

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


class Channel:
    """An announcer that keeps what it was given (the channel's transport, left out)."""

    def __init__(self) -> None:
        self.delivered: list[int] = []

    async def deliver(self, message: OutboxMessage) -> int:
        self.delivered.append(message.chat_id)
        return 0


async def queue(database: Database) -> tuple[int, int]:
    async with database.transaction() as repos:
        await repos.chats.seen(chat_id=-100, type="supergroup", title="3号楼", now=NOW)
        wecom, _ = await repos.chats.seen_on(
            Platform.WECOM, "wrGroup", type="group", title=None, now=NOW
        )
        for chat_id in (-100, wecom):
            await repos.outbox.add(chat_id=chat_id, announcement=GroupNudge(7, 3), now=NOW)
    return -100, wecom


async def test_each_row_goes_to_the_channel_of_its_chat(database: Database) -> None:
    telegram_chat, wecom_chat = await queue(database)
    outbox = OutboxSender(database, ManualClock(NOW))
    telegram, wecom = Channel(), Channel()
    outbox.attach(telegram)  # Telegram's, as its runtime attaches it
    outbox.attach(wecom, Platform.WECOM)
    assert await outbox.flush() == 2
    assert (telegram.delivered, wecom.delivered) == ([telegram_chat], [wecom_chat])
    await outbox.close()


async def test_a_row_for_a_channel_not_running_waits_for_it(database: Database) -> None:
    telegram_chat, wecom_chat = await queue(database)
    clock = ManualClock(NOW)
    outbox = OutboxSender(database, clock)
    telegram = Channel()
    outbox.attach(telegram)
    assert await outbox.flush() == 1
    assert telegram.delivered == [telegram_chat]
    async with database.transaction() as repos:
        assert [m.chat_id for m in await repos.outbox.pending(clock.now())] == []
        later = await repos.outbox.pending(clock.advance(timedelta(seconds=NO_CHANNEL_RETRY + 1)))
    assert [m.chat_id for m in later] == [wecom_chat]
    await outbox.close()
