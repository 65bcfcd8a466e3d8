"""Concurrent updates keep their order for a user and, for messages, within a chat."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update

from channels.telegram.ordering import UpdateOrder, order_keys


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


def message(update_id: int, chat_id: int, user_id: int) -> Update:
    data: dict[str, Any] = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat_id, "type": "supergroup", "title": "楼"},
            "from": {"id": user_id, "is_bot": False, "first_name": "u"},
            "text": "/help",
        },
    }
    return Update.de_json(data, None)


async def run_three(order: UpdateOrder, a1: Update, a2: Update, b1: Update) -> list[str]:
    """a1 is held until the others had their chance; returns the order things happened in."""
    log: list[str] = []
    release_first = asyncio.Event()

    async def handle(update: Update, name: str, *, wait: bool = False) -> None:
        async with order.turn(update):
            log.append(f"{name} starts")
            if wait:
                await release_first.wait()
            log.append(f"{name} ends")

    tasks = [
        asyncio.create_task(handle(a1, "a1", wait=True)),
        asyncio.create_task(handle(a2, "a2")),
        asyncio.create_task(handle(b1, "b1")),
    ]
    await asyncio.sleep(0.01)
    release_first.set()
    await asyncio.gather(*tasks)
    assert order.waiting == 0
    return log


async def test_a_chats_messages_in_order_other_chats_meanwhile() -> None:
    log = await run_three(
        UpdateOrder(),
        message(1, -100, 5),
        message(2, -100, 6),  # same chat, another member: waits for the first
        message(3, -200, 7),  # another chat and member: does not
    )
    assert log == ["a1 starts", "b1 starts", "b1 ends", "a1 ends", "a2 starts", "a2 ends"]


async def test_presses_of_different_people_in_one_chat_run_together() -> None:
    # A reply waiting for the group's sending budget must not hold back the presses after it.
    log = await run_three(
        UpdateOrder(),
        message(1, -100, 5),  # a command whose reply waits
        press(2, -100, 6),  # a neighbour's press in the same chat: goes on meanwhile
        press(3, -100, 5),  # the command's sender's own press: waits for them
    )
    assert log == ["a1 starts", "a2 starts", "a2 ends", "a1 ends", "b1 starts", "b1 ends"]


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
