"""Telegram's flood limits, kept with sliding windows over what they limit: messages.

Telegram answers 429 when a bot posts or changes more than 20 messages a minute in one group,
or more than about 30 a second in all, and asks for about one a second per private chat.
python-telegram-bot's ``AIORateLimiter`` keeps these with leaky buckets, which let bursts
through: a bucket of 20 a minute admits 20 at once and then one every 3 s, so 40 in one
rolling minute. Here every budget is a sliding window: a chat's window holds the times of its
last sends, and a send waits (it is never dropped) until fewer than the limit fall within the
last ``period``:

- a group: 20 sends and edits in any rolling 60 s;
- a private chat: 3 in any rolling 3 s (Telegram's "about one a second", with a short burst);
- the whole bot: 25 in any rolling second (Telegram's 30, with room for error).

A send is counted from the moment its answer came back, and while in flight it holds its
place, so Telegram, which sees it arrive earlier, never sees more than the limit in a window.

**Coalesced edits give way.** A ballot message under a flood of presses would be edited every
3 s (the tally interval), which alone is a group's whole budget. An edit made by a coalesced
refresh (channels/telegram/delivery/coalesce.py runs its tasks ``sending_as(Priority.REFRESH)``)
goes only when no other send to that chat waits, at least 5 s after the chat's previous such edit,
and while fewer than 16 of the chat's 20 places are taken (for the whole bot: 20 of 25). So a
ballot under a flood is refreshed every 5 s (12 a minute), at least 8 of a group's 20 a minute
stay for everything else, 4 places are free for a reply at any moment, and a reply that must
wait goes before every waiting edit. A late edit costs nothing: the refresh folds whatever
came meanwhile into it. Edits made by handlers (a wizard's step, a card's buttons) do not
give way, and the first post of a ballot goes as an announcement (below).

**Priorities.** Within a chat's budget, waiting sends go in three classes (:class:`Priority`):
first the answers to the command or button someone just used (``REPLY``, the default: a
handler's own sends), then announcements (``ANNOUNCEMENT``: the outbox's outcomes, notices
and digests; escalation cards; posts made by a refresh: a ballot, a reminder, a registration
card), then the edits that only
refresh (``REFRESH``: coalesced tallies and counts, which also give way as above). A class
waits while a higher one waits, so a reply never waits behind a notice or a refresh, whenever
they were queued. The class is a context variable: ``sending_as`` sets it for a block,
``yield_to_other_sends`` for the rest of a task.

Which methods count: every one that posts or changes a message in a chat (``SENDS``; a pin
posts a service message in a group, so it counts). Reads, answers to button presses,
deletions, chat actions and settings are not messages: they go through unthrottled. Every
request is retried after a 429 (``retry_after`` + 0.1 s, ``max_retries`` times); a 429 on a
send also holds back the other sends to that chat until then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from channels.telegram.transport import JSONDict

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

# (limit, period in seconds; for coalesced edits: how full they may make the window, and the
# least time between two of them)
GROUP = (20, 60.0, 16, 5.0)
PRIVATE = (3, 3.0, 3, 0.0)
OVERALL = (25, 1.0, 20, 0.0)

EDITS = frozenset(
    {
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "editMessageLiveLocation",
        "stopMessageLiveLocation",
        "stopPoll",
    }
)
SENDS = EDITS | frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendSticker",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendInvoice",
        "sendPaidMedia",
        "sendGame",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "pinChatMessage",
    }
)


class Priority(IntEnum):
    """Which of a chat's waiting sends go first (lower first)."""

    REPLY = 0  # the answer to what someone just did
    ANNOUNCEMENT = 1  # what the bot tells on its own: outcomes, escalations, reminders
    REFRESH = 2  # an edit that only brings a message up to date (tallies, counts)


_priority: ContextVar[Priority] = ContextVar("send_priority", default=Priority.REPLY)


def yield_to_other_sends() -> None:
    """The current task's edits are coalesced refreshes: they give way to other sends (its
    posts, e.g. a ballot posted again, go as announcements)."""
    _priority.set(Priority.REFRESH)


@contextlib.contextmanager
def sending_as(priority: Priority) -> Iterator[None]:
    """The sends made inside the block go with this priority."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


def priority_of(endpoint: str) -> Priority:
    """The class of a send made now: a refresh's posts are announcements, not refreshes."""
    priority = _priority.get()
    if priority is Priority.REFRESH and endpoint not in EDITS:
        return Priority.ANNOUNCEMENT
    return priority


class Window:
    """At most ``limit`` sends in any rolling ``period``, first come, first served within a
    :class:`Priority`, and a priority only while no higher one waits. A refresh goes only
    when no other send waits, fewer than ``yielding_limit`` are in the window, and
    ``yielding_gap`` has passed since the last refresh."""

    __slots__ = (
        "announcing",
        "busy",
        "limit",
        "paused_until",
        "period",
        "stamps",
        "timer",
        "waiting",
        "yielded_at",
        "yielding",
        "yielding_gap",
        "yielding_limit",
    )

    def __init__(self, limit: int, period: float, yielding_limit: int, yielding_gap: float) -> None:
        self.limit = limit
        self.period = period
        self.yielding_limit = yielding_limit
        self.yielding_gap = yielding_gap
        self.yielded_at = float("-inf")
        self.stamps: deque[float] = deque()  # when recent sends completed, oldest first
        self.busy = 0  # sends admitted and not yet completed
        self.waiting: deque[asyncio.Future[None]] = deque()  # replies
        self.announcing: deque[asyncio.Future[None]] = deque()
        self.yielding: deque[asyncio.Future[None]] = deque()  # refreshes
        self.paused_until = 0.0
        self.timer: asyncio.TimerHandle | None = None

    def _has_room(self, now: float, priority: Priority) -> bool:
        if now < self.paused_until:
            return False
        stamps, edge = self.stamps, now - self.period
        while stamps and stamps[0] <= edge:
            stamps.popleft()
        used = self.busy + len(stamps)
        if priority is Priority.REFRESH:
            return (
                not self.waiting
                and not self.announcing
                and used < self.yielding_limit
                and now >= self.yielded_at + self.yielding_gap
            )
        if priority is Priority.ANNOUNCEMENT and self.waiting:
            return False
        return used < self.limit

    def _queue(self, priority: Priority) -> deque[asyncio.Future[None]]:
        if priority is Priority.REPLY:
            return self.waiting
        return self.announcing if priority is Priority.ANNOUNCEMENT else self.yielding

    async def acquire(self, priority: Priority, *, first: bool = False) -> None:
        """Wait for a place; ``first``: ahead of its class (a retry after a 429)."""
        loop = asyncio.get_running_loop()
        queue = self._queue(priority)
        now = loop.time()
        if not queue and self._has_room(now, priority):
            self._take(now, priority)
            return
        admitted: asyncio.Future[None] = loop.create_future()
        if first:
            queue.appendleft(admitted)
        else:
            queue.append(admitted)
        self._admit()
        try:
            await admitted
        except asyncio.CancelledError:
            if admitted.cancelled():
                with contextlib.suppress(ValueError):  # gave up waiting
                    queue.remove(admitted)
            else:
                self.cancel()  # admitted, but its caller is gone: give the place back
            raise

    def _take(self, now: float, priority: Priority) -> None:
        self.busy += 1
        if priority is Priority.REFRESH:
            self.yielded_at = now

    def release(self) -> None:
        """A send admitted by :meth:`acquire` completed (whatever its answer)."""
        self.busy -= 1
        self.stamps.append(asyncio.get_running_loop().time())
        self._admit()

    def cancel(self) -> None:
        """A send admitted by :meth:`acquire` was never made."""
        self.busy -= 1
        self._admit()

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nothing goes to this chat for ``seconds``."""
        now = asyncio.get_running_loop().time()
        self.paused_until = max(self.paused_until, now + seconds)

    @property
    def idle(self) -> bool:
        return not (self.busy or self.waiting or self.announcing or self.yielding or self.timer)

    def _admit(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        for priority in Priority:
            queue = self._queue(priority)
            while queue:
                if queue[0].done():  # its caller was cancelled while waiting
                    queue.popleft()
                elif self._has_room(now, priority):
                    self._take(now, priority)
                    queue.popleft().set_result(None)
                else:
                    break
        if not (self.waiting or self.announcing or self.yielding):
            return
        if now < self.paused_until:
            # Paused by a 429: look again when the pause ends, not when a stamp leaves the
            # window (a window with room would otherwise wait up to a whole period).
            wake = self.paused_until
        else:
            # The next moment a place may free by time (a completion calls _admit by
            # itself); waking early only looks again.
            moments = [self.stamps[0] + self.period] if self.stamps else []
            if self.yielding:
                moments.append(self.yielded_at + self.yielding_gap)
            wake = min((m for m in moments if m > now), default=0.0)
        if wake <= now:
            return  # only sends in flight hold the places
        if self.timer is not None:
            if self.timer.when() <= wake:
                return
            self.timer.cancel()
        self.timer = loop.call_at(wake, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        self._admit()


class SendRateLimiter(BaseRateLimiter[int]):
    """Sliding-window budgets for sends and edits; ``rate_limit_args``: retries after a 429."""

    def __init__(self, max_retries: int = 0, metrics: Metrics | None = None) -> None:
        self._max_retries = max_retries
        self._metrics = metrics  # retries after a 429, by method
        self._overall = Window(*OVERALL)
        self._chats: dict[int | str, Window] = {}
        self._prune_at = 1024

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def waiting(self) -> int:
        """Sends waiting for a place (tests wait for this to drain)."""
        return sum(
            len(w.waiting) + len(w.announcing) + len(w.yielding)
            for w in (self._overall, *self._chats.values())
        )

    @property
    def tracked_chats(self) -> int:
        return len(self._chats)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        retries = rate_limit_args or self._max_retries
        if endpoint not in SENDS:
            return await self._unthrottled(callback, args, kwargs, endpoint, retries)
        chat = self._window(data.get("chat_id"))
        priority = priority_of(endpoint)
        attempt = 0
        while True:
            if chat is not None:
                await chat.acquire(priority, first=attempt > 0)
            try:
                await self._overall.acquire(priority, first=attempt > 0)
            except BaseException:
                if chat is not None:
                    chat.cancel()
                raise
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == retries:
                    raise
                attempt += 1
                delay = self._retry_delay(endpoint, error)
                if chat is not None:
                    chat.pause(delay)  # the retry, and the chat's other sends, wait
            finally:
                self._overall.release()
                if chat is not None:
                    chat.release()
            if chat is None:
                await asyncio.sleep(delay)

    async def _unthrottled(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        retries: int,
    ) -> bool | JSONDict | list[JSONDict]:
        attempt = 0
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == retries:
                    raise
                attempt += 1
                await asyncio.sleep(self._retry_delay(endpoint, error))

    def _retry_delay(self, endpoint: str, error: RetryAfter) -> float:
        if self._metrics is not None:
            self._metrics.retried(endpoint, "429")
        delay = error.retry_after
        seconds = delay if isinstance(delay, int) else delay.total_seconds()
        log.info("Telegram asked to wait %s s (%s); retrying after that", seconds, endpoint)
        return seconds + 0.1

    def _window(self, chat_id: object) -> Window | None:
        if chat_id is None:
            return None  # an inline message: the overall budget only
        key: int | str
        try:
            key = int(chat_id)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            key = str(chat_id)  # "@channel": a group's budget
        window = self._chats.get(key)
        if window is None:
            if len(self._chats) >= self._prune_at:
                self._prune()
            window = Window(*(PRIVATE if isinstance(key, int) and key > 0 else GROUP))
            self._chats[key] = window
        return window

    def _prune(self) -> None:
        """Forget the chats with nothing in flight, waiting or within their window."""
        now = asyncio.get_running_loop().time()
        for key, window in list(self._chats.items()):
            window._has_room(now, Priority.REPLY)  # drops the stamps that left the window
            if window.idle and not window.stamps and now >= window.paused_until:
                del self._chats[key]
        self._prune_at = max(1024, 2 * len(self._chats))
