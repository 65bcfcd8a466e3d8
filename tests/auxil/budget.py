"""The outgoing budget, measured over the emulator's call log (``emu.calls``).

Telegram limits what a bot posts or changes: 20 messages a minute per group, about 30 a
second in all. A leaky bucket lets bursts through (20 at once, then one every 3 s: 40 in one
rolling minute), so the budget is checked the strict way: the most sends and edits within any
rolling window, found with two pointers over the calls' times (each call is stamped by the
emulator when it arrives). A window is closed: two calls exactly ``period`` apart share one.

What counts is what Telegram counts as a message, as the emulator's flood control defines it
(``emulators.telegram.floods.is_message``; not taken from ``channels.telegram.ratelimit``, so that a
method the limiter forgot is still counted): every ``send*``, ``edit*``, ``copy*`` and ``forward*``
method, ``stopPoll``, ``stopMessageLiveLocation`` and ``pinChatMessage`` (a pin posts a
service message), but not ``sendChatAction``. Every call counts, whatever its answer: a
refused send arrived all the same.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from emulators.telegram.floods import is_message
from emulators.telegram.world import ApiCall

GROUP_LIMIT, GROUP_PERIOD = 20, 60.0
OVERALL_LIMIT, OVERALL_PERIOD = 25, 1.0


@dataclass(frozen=True)
class Peak:
    """The busiest window: how many calls, from when to when (emulator clock)."""

    count: int = 0
    start: float = 0.0
    end: float = 0.0


def busiest(times: Iterable[float], period: float) -> Peak:
    """The most of ``times`` within any closed window of ``period`` seconds."""
    ordered = sorted(times)
    best, left = Peak(), 0
    for right, moment in enumerate(ordered):
        while moment - ordered[left] > period:
            left += 1
        if right - left + 1 > best.count:
            best = Peak(right - left + 1, ordered[left], moment)
    return best


def chat_of(call: ApiCall) -> int | str | None:
    chat: Any = call.params.get("chat_id")
    if chat is None:
        return None
    try:
        return int(chat)
    except (TypeError, ValueError):
        return str(chat)  # "@channel"


@dataclass(frozen=True)
class Budget:
    """What the bot sent, and its busiest windows."""

    sends: int
    per_group: dict[int | str, Peak]  # each group chat's busiest rolling 60 s
    overall: Peak  # the busiest rolling second, every chat together
    too_many_requests: int  # calls the emulator answered with 429

    @property
    def busiest_group(self) -> tuple[int | str | None, Peak]:
        if not self.per_group:
            return None, Peak()
        chat = max(self.per_group, key=lambda key: self.per_group[key].count)
        return chat, self.per_group[chat]

    def problems(self) -> list[str]:
        """Every way the log breaks Telegram's limits (empty when within them)."""
        found = [
            f"group {chat}: {peak.count} sends+edits within {GROUP_PERIOD:.0f} s "
            f"({peak.start:.3f} .. {peak.end:.3f})"
            for chat, peak in self.per_group.items()
            if peak.count > GROUP_LIMIT
        ]
        if self.overall.count > OVERALL_LIMIT:
            found.append(
                f"{self.overall.count} sends+edits within {OVERALL_PERIOD:.0f} s overall "
                f"({self.overall.start:.3f} .. {self.overall.end:.3f})"
            )
        if self.too_many_requests:
            found.append(f"{self.too_many_requests} calls answered 429 Too Many Requests")
        return found


def measure(calls: Sequence[ApiCall], *, since: float = float("-inf")) -> Budget:
    """The budget of the calls made at or after ``since`` (emulator clock)."""
    group_times: dict[int | str, list[float]] = defaultdict(list)
    all_times: list[float] = []
    refused = 0
    for call in calls:
        if call.time < since:
            continue
        if call.error_code == 429:
            refused += 1
        if not is_message(call.method):
            continue
        all_times.append(call.time)
        chat = chat_of(call)
        if isinstance(chat, str) or (isinstance(chat, int) and chat < 0):
            group_times[chat].append(call.time)
    return Budget(
        sends=len(all_times),
        per_group={chat: busiest(times, GROUP_PERIOD) for chat, times in group_times.items()},
        overall=busiest(all_times, OVERALL_PERIOD),
        too_many_requests=refused,
    )
