"""Concurrent updates keep their order within a chat and for a user, and only there."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update

from bot.ordering import UpdateOrder, order_keys


def press(update_id: int, chat_id: int, user_id: int) -> Update:
    data: dict[str, Any] = {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": {"id": user_id, "is_bot": False, "first_name": "u"},
            "chat_instance": "1",
            "data": "v:1:0",
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": chat_id, "type": "supergroup", "title": "楼"},
            },
        },
    }
    return Update.de_json(data, None)


async def test_same_chat_in_order_other_chats_meanwhile() -> None:
    order = UpdateOrder()
    log: list[str] = []
    release_first = asyncio.Event()

    async def handle(update: Update, name: str, *, wait: bool = False) -> None:
        async with order.turn(update):
            log.append(f"{name} starts")
            if wait:
                await release_first.wait()
            log.append(f"{name} ends")

    first = asyncio.create_task(handle(press(1, -100, 5), "a1", wait=True))
    second = asyncio.create_task(handle(press(2, -100, 6), "a2"))  # same chat
    third = asyncio.create_task(handle(press(3, -200, 7), "b1"))  # another chat, user
    await asyncio.sleep(0.01)
    assert log == ["a1 starts", "b1 starts", "b1 ends"]  # a2 waits for a1, b1 does not
    release_first.set()
    await asyncio.gather(first, second, third)
    assert log[-2:] == ["a2 starts", "a2 ends"]
    assert order.waiting == 0


async def test_one_users_presses_in_two_chats_are_in_order() -> None:
    assert order_keys(press(1, -100, 5)) & order_keys(press(2, -200, 5))
    order = UpdateOrder()
    log: list[int] = []

    async def handle(update: Update, delay: float) -> None:
        async with order.turn(update):
            await asyncio.sleep(delay)
            log.append(update.update_id)

    await asyncio.gather(handle(press(1, -100, 5), 0.02), handle(press(2, -200, 5), 0))
    assert log == [1, 2]


async def test_a_cancelled_update_lets_the_next_one_go() -> None:
    order = UpdateOrder()
    hold = asyncio.Event()
    done: list[int] = []

    async def handle(update: Update, wait: bool) -> None:
        async with order.turn(update):
            if wait:
                await hold.wait()
            done.append(update.update_id)

    first = asyncio.create_task(handle(press(1, -100, 5), True))
    second = asyncio.create_task(handle(press(2, -100, 5), False))
    third = asyncio.create_task(handle(press(3, -100, 5), False))
    await asyncio.sleep(0.01)
    second.cancel()  # waiting for the first: must not cancel it
    await asyncio.sleep(0.01)
    assert not first.done()
    hold.set()
    await asyncio.gather(first, third)
    assert done == [1, 3]
