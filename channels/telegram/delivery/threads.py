"""Posting into a forum group's topic (thread) that may have been deleted since.

A ballot, an outcome or a meeting reminder goes to the thread its topic or meeting was
created in (stored with each post). When that forum topic is gone, Telegram refuses the send
with "message thread not found"; the message then goes to the group's General topic instead
of being lost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, TelegramError

log = logging.getLogger(__name__)
T = TypeVar("T")


def thread_gone(error: TelegramError) -> bool:
    return isinstance(error, BadRequest) and "message thread not found" in str(error).lower()


async def in_thread(send: Callable[[int | None], Awaitable[T]], thread_id: int | None) -> T:
    """``send(thread_id)``; ``send(None)`` (General) if that forum topic no longer exists."""
    try:
        return await send(thread_id)
    except BadRequest as error:
        if thread_id is None or not thread_gone(error):
            raise
        log.info("forum topic %s is gone; posting in General", thread_id)
        return await send(None)
