"""Durations as people type them: ``30m``, ``2h``, ``3d``, ``1d12h``, ``3天``, ``2小时``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "分钟": timedelta(minutes=1),
    "分": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "小时": timedelta(hours=1),
    "时": timedelta(hours=1),
    "d": timedelta(days=1),
    "天": timedelta(days=1),
    "日": timedelta(days=1),
    "w": timedelta(weeks=1),
    "周": timedelta(weeks=1),
}
_PART = re.compile(r"(\d{1,6})\s*(min|分钟|小时|s|m|h|d|w|分|时|天|日|周)", re.IGNORECASE)


class DurationError(ValueError):
    """The text is not a duration such as ``30m``, ``2h`` or ``3d``."""


def parse_duration(text: str) -> timedelta:
    """Parse ``30m``/``2h``/``3d`` (and sums such as ``1d12h``) into a timedelta.

    Raises :class:`DurationError` for anything else, including zero.
    """
    compact = text.strip().lower().replace(" ", "")
    if not compact:
        raise DurationError(text)
    total = timedelta()
    position = 0
    for match in _PART.finditer(compact):
        if match.start() != position:
            raise DurationError(text)
        total += int(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(compact) or total <= timedelta():
        raise DurationError(text)
    if total > timedelta(days=3650):
        raise DurationError(text)
    return total


def format_duration(value: timedelta) -> str:
    """The compact form ``parse_duration`` reads back: ``3d``, ``1d12h``, ``45m``."""
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0m"
