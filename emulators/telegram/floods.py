"""Telegram's flood control, optional: ``emu.flood_limits = FloodLimits()``.

Off by default (most tests lift the bot's limits). When on, the emulator answers a send or
edit with ``429 Too Many Requests: retry after N`` as Telegram would when the bot goes over:
more than 20 messages in one group within any rolling 60 s, or more than 30 in all within any
rolling second. A refused call is not counted. Private chats are not limited here (Telegram's
"about one a second" there tolerates bursts and is not a published rule).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from typing import Any

from emulators.telegram.errors import ApiError, too_many_requests

MESSAGE_PREFIXES = ("send", "edit", "copy", "forward")
ALSO_MESSAGES = frozenset({"stopPoll", "stopMessageLiveLocation", "pinChatMessage"})
NOT_MESSAGES = frozenset({"sendChatAction"})


def is_message(method: str) -> bool:
    """Whether a Bot API method posts or changes a message in a chat (what floods count)."""
    if method in NOT_MESSAGES:
        return False
    return method.startswith(MESSAGE_PREFIXES) or method in ALSO_MESSAGES


def is_group(chat_id: Any) -> bool:
    try:
        return int(chat_id) < 0
    except (TypeError, ValueError):
        return isinstance(chat_id, str) and chat_id.startswith("@")


class FloodLimits:
    def __init__(
        self,
        *,
        group_limit: int = 20,
        group_period: float = 60.0,
        overall_limit: int = 30,
        overall_period: float = 1.0,
    ) -> None:
        self.group_limit, self.group_period = group_limit, group_period
        self.overall_limit, self.overall_period = overall_limit, overall_period
        self._groups: defaultdict[str, deque[float]] = defaultdict(deque)
        self._overall: deque[float] = deque()
        self.refused = 0

    def admit(self, method: str, chat_id: Any, now: float) -> ApiError | None:
        """None if the call may go on (it is counted), else the 429 to answer."""
        if not is_message(method):
            return None
        windows = [(self._overall, self.overall_limit, self.overall_period)]
        if chat_id is not None and is_group(chat_id):
            windows.append((self._groups[str(chat_id)], self.group_limit, self.group_period))
        wait = 0.0
        for times, limit, period in windows:
            while times and times[0] <= now - period:
                times.popleft()
            if len(times) >= limit:
                wait = max(wait, times[0] + period - now)
        if wait > 0:
            self.refused += 1
            return too_many_requests(max(1, math.ceil(wait)))
        for times, _, _ in windows:
            times.append(now)
        return None
