"""Bulk control actions for load drivers (``benchmarks/``): many presses per HTTP call.

A driver that pressed and waited one control call per button would spend more of the
machine on the control API than the bot spends answering, so these actions batch: press a
list of buttons, wait for any of a list of queries to be answered, count calls per message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulators.telegram.control import Action
    from emulators.telegram.server import BotApiEmulator


async def press_buttons(emu: BotApiEmulator, kw: dict[str, Any]) -> list[str]:
    """``presses``: ``[[chat_id, message_id, user_id, button_text], ...]`` -> query ids."""
    return [
        emu.press_button(int(chat), int(message), int(user), str(text))
        for chat, message, user, text in kw["presses"]
    ]


async def wait_for_answers(emu: BotApiEmulator, kw: dict[str, Any]) -> list[dict[str, Any]]:
    """Waits (up to ``timeout`` s) until one of ``ids`` is answered; returns the answered ones.

    Each: ``{"id", "created", "answered", "text"}``, times on the emulator's clock.
    """
    ids = [str(query_id) for query_id in kw["ids"]]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + float(kw.get("timeout", 5.0))
    while True:
        found = []
        for query_id in ids:
            record = emu.world.callbacks.get(query_id)
            if record is not None and record.answer is not None:
                found.append(
                    {
                        "id": query_id,
                        "created": record.created,
                        "answered": record.answered,
                        "text": record.answer.get("text"),
                    }
                )
        remaining = deadline - loop.time()
        if found or remaining <= 0:
            return found
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(emu.world.change_event().wait(), remaining)


async def call_counts(emu: BotApiEmulator, kw: dict[str, Any]) -> dict[str, Any]:
    """Calls of ``method`` since ``since`` (emulator clock): in all, and per ``chat:message``."""
    method = str(kw["method"]).lower()
    since = float(kw.get("since", 0.0))
    per_message: Counter[str] = Counter()
    total = 0
    for call in emu.world.calls:
        if call.method.lower() != method or call.time < since:
            continue
        total += 1
        chat, message = call.params.get("chat_id"), call.params.get("message_id")
        if chat is not None and message is not None:
            per_message[f"{chat}:{message}"] += 1
    return {"total": total, "per_message": dict(per_message)}


LOAD_ACTIONS: dict[str, Action] = {
    "press_buttons": press_buttons,
    "wait_for_answers": wait_for_answers,
    "call_counts": call_counts,
}
