"""The confirmation first, then what it caused: the events a command's change published are
acted on (notices flushed, cards posted) only once the command has answered."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.common.answering import after_the_answer
from channels.telegram.common import answers_refusals


async def test_what_a_change_caused_waits_for_the_answer() -> None:
    seen: list[str] = []
    background: list[asyncio.Task[None]] = []

    async def later_on() -> None:  # e.g. a refresh the handler started, running on its own
        if not after_the_answer(lambda: seen.append("refreshed")):
            seen.append("refreshed at once")

    @answers_refusals
    async def cancel_meeting(update: Any, context: Any) -> None:
        # The service committed and its events were published: the runtime is told to wait.
        assert after_the_answer(lambda: seen.append("notices sent"))
        background.append(asyncio.create_task(later_on()))
        seen.append("confirmed")

    await cancel_meeting(None, None)
    await asyncio.gather(*background)
    assert seen == ["confirmed", "notices sent", "refreshed at once"]


async def test_outside_a_command_what_happened_is_acted_on_at_once() -> None:
    assert not after_the_answer(lambda: None)  # a timer, the outbox: nobody to answer first
