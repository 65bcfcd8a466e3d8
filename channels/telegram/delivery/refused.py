"""What the bot does when Telegram refuses a send or an edit.

``gone_status`` tells a chat that will take nothing more (403: the bot was removed from the
group, or blocked by the user); ``chat_refused`` notes it: a bound group is paused (audited)
and its parent node told, exactly as when ``my_chat_member`` says the bot was removed. The
outbox, the living messages and the replies to commands all come here.

A living message (a ballot, an escalation card, a meeting reminder) uses ``RefusedShows``:

- **A passing failure** (a 429 beyond the rate limiter's retries, a network error, a timeout
  or a 5xx that outlasted the transport's retries): a warning, and the item is synced again
  later, after 2 s, 4 s, 8 s... up to 5 minutes (at least the ``retry_after`` Telegram asked
  for). Every sync reads the current state, so the retry shows the latest.
- **The chat is gone**: a warning, and ``chat_refused``. Not retried.
- **The group became a supergroup** (``ChatMigrated``): ``chat_moved`` moves everything that
  addresses it to the new id, and the moved living messages are posted again there at once.
- Anything else (a 400 other than those each living message handles) is a bug: it is raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.services import Services
from channels.telegram.delivery.coalesce import seconds

log = logging.getLogger(__name__)

FIRST_DELAY = 2.0
LONGEST_DELAY = 300.0


def gone_status(error: TelegramError) -> str | None:
    """The bot's status in a chat that will take nothing more from it, read from Telegram's
    refusal: "kicked" (removed from the group, blocked by the user, the chat deleted) or
    "left" (no longer a member); None when the error is not such a refusal."""
    text = str(error).lower()
    if isinstance(error, Forbidden):
        return "left" if "not a member" in text or "can't initiate" in text else "kicked"
    if isinstance(error, BadRequest) and "chat not found" in text:
        return "left"
    return None


async def chat_refused(services: Services, chat_id: int, error: TelegramError) -> None:
    """A send or edit to the chat was refused for good: a bound group is paused (audited)
    and its parent node told, as when ``my_chat_member`` says the bot was removed."""
    status = gone_status(error)
    if status is None:
        return
    await services.orgs.chat_gone(chat_id, status)


async def chat_moved(services: Services, chat_id: int, error: ChatMigrated) -> None:
    """Telegram says the group is now a supergroup: move its rows to the new id, as the
    migration's service message does, and have the moved messages posted there."""
    log.info("chat %s is now the supergroup %s", chat_id, error.new_chat_id)
    await services.orgs.chat_migrated(chat_id, error.new_chat_id)


def passing(error: TelegramError) -> bool:
    """A failure that may go away by itself: flood control, the network, a 5xx."""
    return isinstance(error, RetryAfter) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    )


class RefusedShows:
    """Absorbs Telegram's refusals for one kind of living message; ``retry(key)`` syncs an
    item again (its ``touch``)."""

    def __init__(self, services: Services, what: str, retry: Callable[[int], None]) -> None:
        self._services = services
        self._what = what
        self._retry = retry
        self._failures: dict[int, int] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}

    async def absorb(self, key: int, chat_id: int, error: TelegramError) -> bool:
        """Deal with a refusal to show item ``key`` in ``chat_id``; False if it is a bug."""
        if isinstance(error, ChatMigrated):
            await chat_moved(self._services, chat_id, error)
            return True
        if gone_status(error) is not None:
            log.warning("cannot show %s %s in chat %s: %s", self._what, key, chat_id, error)
            await chat_refused(self._services, chat_id, error)
            return True
        if not passing(error):
            return False
        delay = self._later(key, error)
        log.warning(
            "showing %s %s in chat %s failed (%s); trying again in %.0f s",
            self._what,
            key,
            chat_id,
            error,
            delay,
        )
        return True

    def succeeded(self, key: int) -> None:
        """Item ``key`` is shown as it should be: its next failure starts the backoff anew."""
        self._failures.pop(key, None)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _later(self, key: int, error: TelegramError) -> float:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        delay: float = min(FIRST_DELAY * 2.0**failures, LONGEST_DELAY)
        if isinstance(error, RetryAfter):
            delay = max(delay, seconds(error.retry_after))
        timer = self._timers.get(key)
        if timer is None:
            self._timers[key] = asyncio.get_running_loop().call_later(delay, self._fire, key)
        return delay

    def _fire(self, key: int) -> None:
        self._timers.pop(key, None)
        self._retry(key)
