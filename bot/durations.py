"""Durations as people type them: ``30m``, ``2h``, ``3d``, ``1d12h``, ``3天``, ``三天``,
``两小时``, ``半小时``, ``1天半``, ``一个半小时``, ``一周``.

A duration is a sum of parts; each part is a number (digits or Chinese numerals, read by
:mod:`bot.numerals`) and a unit, with an optional 半 (a half of that unit) either before the
unit (``一个半小时``) or after it (``1天半``), or 半 alone (``半天``, ``半个小时``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from bot.numerals import NUMERAL, NotANumber, number

_UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "秒": timedelta(seconds=1),
    "秒钟": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "分钟": timedelta(minutes=1),
    "分": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "小时": timedelta(hours=1),
    "钟头": timedelta(hours=1),
    "时": timedelta(hours=1),
    "d": timedelta(days=1),
    "天": timedelta(days=1),
    "日": timedelta(days=1),
    "w": timedelta(weeks=1),
    "周": timedelta(weeks=1),
    "星期": timedelta(weeks=1),
    "礼拜": timedelta(weeks=1),
}
_UNIT = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))  # longest first
# number [个] [半] unit [半]  |  半 [个] unit
_PART = re.compile(
    rf"(?:(?P<count>{NUMERAL})个?(?P<half_before>半)?|(?P<half_only>半)个?)"
    rf"(?P<unit>{_UNIT})(?P<half_after>半)?"
)
MAX_DURATION = timedelta(days=3650)


class DurationError(ValueError):
    """The text is not a duration such as ``30m``, ``2h`` or ``3d``."""


def _part(match: re.Match[str], text: str) -> timedelta:
    unit = _UNITS[match["unit"]]
    if match["half_only"]:
        if match["half_after"]:
            raise DurationError(text)  # "半天半"
        return unit / 2
    try:
        count = number(match["count"])
    except NotANumber:
        raise DurationError(text) from None
    if match["half_before"] and match["half_after"]:
        raise DurationError(text)  # "一个半天半"
    half = unit / 2 if match["half_before"] or match["half_after"] else timedelta()
    if count > 10**6:
        raise DurationError(text)
    return count * unit + half


def parse_duration(text: str) -> timedelta:
    """Parse ``30m``/``2h``/``3d``/``三天``/``半小时`` (and sums such as ``1d12h``).

    Raises :class:`DurationError` for anything else, including zero and over ten years.
    """
    compact = "".join(unicodedata.normalize("NFKC", text).lower().split())
    if not compact:
        raise DurationError(text)
    total = timedelta()
    position = 0
    for match in _PART.finditer(compact):
        if match.start() != position:
            raise DurationError(text)
        total += _part(match, text)
        position = match.end()
    if position != len(compact) or total <= timedelta() or total > MAX_DURATION:
        raise DurationError(text)
    if total % timedelta(seconds=1):  # "半秒": nothing is timed finer than a second
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
