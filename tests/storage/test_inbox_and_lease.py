"""The inbox keeps each update until handled; the lease lets one process run, on both databases."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from telegram import Bot, Update

from bot.clock import ManualClock
from bot.lease import InstanceLease, InstanceRunning
from channels.telegram.inbox import Inbox, PollingBot
from storage.database import Database

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
TTL = timedelta(seconds=0.5)


def update(update_id: int, text: str = "/start") -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": 5, "type": "private", "first_name": "钱"},
                "from": {"id": 5, "is_bot": False, "first_name": "钱"},
                "text": text,
            },
        },
        Bot("123456:TEST-TOKEN"),
    )


async def test_the_inbox_keeps_an_update_until_it_is_handled(database: Database) -> None:
    async with database.transaction() as repos:
        assert await repos.inbox.receive(7, '{"update_id": 7}', NOW)
        assert not await repos.inbox.receive(7, '{"update_id": 7}', NOW)  # redelivered
        assert await repos.inbox.receive(5, '{"update_id": 5}', NOW)
        assert [u.update_id for u in await repos.inbox.unhandled()] == [5, 7]
        await repos.inbox.handled(5, NOW)
        assert [u.update_id for u in await repos.inbox.unhandled()] == [7]
        assert not await repos.inbox.receive(5, '{"update_id": 5}', NOW)  # still known
        assert await repos.inbox.prune(NOW + timedelta(days=3)) == 1
        assert await repos.inbox.receive(5, '{"update_id": 5}', NOW)  # long forgotten


async def test_the_queue_stores_before_queueing_and_replays_what_was_not_handled(
    database: Database,
) -> None:
    inbox = Inbox()
    inbox.open(database, ManualClock(NOW))
    await inbox.queue.put(update(1))
    await inbox.queue.put(update(1))  # Telegram delivered it again
    await inbox.queue.put(update(2, "/help"))
    assert inbox.queue.qsize() == 2
    await inbox.processor.do_process_update(update(1), asyncio.sleep(0))
    # The process dies with update 2 fetched, confirmed and not handled; a new one starts.
    restarted = Inbox()
    restarted.open(database, ManualClock(NOW))
    assert await restarted.replay(Bot("123456:TEST-TOKEN")) == 1
    replayed = await restarted.queue.get()
    assert isinstance(replayed, Update) and replayed.update_id == 2
    assert replayed.message is not None and replayed.message.text == "/help"
    async with database.transaction() as repos:
        stored = await repos.inbox.unhandled()
    assert [u.update_id for u in stored] == [2]
    await restarted.processor.do_process_update(replayed, asyncio.sleep(0))
    async with database.transaction() as repos:
        assert await repos.inbox.unhandled() == []


async def test_a_second_process_refuses_while_the_holder_beats(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    holder = InstanceLease(ttl=TTL, holder="first")
    await holder.acquire(database)
    holder.keep(on_lost=lambda: None)
    try:
        with pytest.raises(InstanceRunning, match="Another Yishi instance") as refused:
            await asyncio.wait_for(InstanceLease(ttl=TTL, holder="second").acquire(database), 5)
        assert refused.value.lease.holder == "first"
    finally:
        await holder.release()
    caplog.clear()
    second = InstanceLease(ttl=TTL, holder="second")
    await asyncio.wait_for(second.acquire(database), 5)
    assert "waiting to see whether it is alive" not in caplog.text  # released: no waiting
    await second.release()


async def test_a_dead_holders_lease_is_taken_over_once_it_expires(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    dead = InstanceLease(ttl=TTL, holder="killed")
    await dead.acquire(database)  # and never beats again
    successor = InstanceLease(ttl=TTL, holder="restarted")
    await asyncio.wait_for(successor.acquire(database), 5)
    assert "waiting to see whether it is alive or its lease expires" in caplog.text
    assert "took over the lease of killed" in caplog.text
    # The killed one, had it only been frozen, finds out at its next heartbeat and stops.
    lost = asyncio.Event()
    dead.keep(on_lost=lost.set)
    await asyncio.wait_for(lost.wait(), 5)
    assert dead.lost
    async with database.transaction() as repos:
        current = await repos.leases.current("bot")
    assert current is not None and current.holder == "restarted"
    await dead.release()  # gives up nothing: it does not hold the lease
    await successor.release()


async def test_a_polled_update_is_stored_as_it_came(database: Database) -> None:
    inbox = Inbox()
    inbox.open(database, ManualClock(NOW))
    bot = PollingBot(token="123456:TEST-TOKEN", fetched=inbox.fetched)
    came = {
        "update_id": 9,
        "message": {
            "message_id": 9,
            "date": 0,
            "chat": {"id": 5, "type": "private", "first_name": "钱"},
            "from": {"id": 5, "is_bot": False, "first_name": "钱"},
            "text": "/start",
            "a_field_of_a_newer_api": {"kept": True},
        },
    }
    polled = bot.read_update(came)
    assert polled is not None
    await inbox.queue.put(polled)
    await inbox.queue.put(update(10))  # from a webhook: serialised from the parsed update
    async with database.transaction() as repos:
        stored = {u.update_id: json.loads(u.payload) for u in await repos.inbox.unhandled()}
    assert stored[9] == came
    assert stored[10]["message"]["text"] == "/start"
    assert inbox.fetched == {}  # kept only until stored
