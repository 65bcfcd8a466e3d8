"""Which units a sheet of invitations is for: ``all`` (every household the building knows),
or units and ranges, ``2-501 2-502 3-101~3-104``."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.services.errors import Refusal
from bot.services.registration.service import parse_unit

# A sheet of 300 households is 50 pages, drawn in about 15 seconds: a bigger building sends a
# sheet per 单元 (/invite 1-101~1-104 1-201~1-204 ...), each drawn while the bot goes on.
MAX_SHEET_UNITS = 300
ALL_WORDS = frozenset({"all", "全部", "全楼", "所有"})
_RANGE_SIGNS = ("~", "～", "..", "至", "到")
_ROOM = re.compile(r"([0-9A-Z]{1,4})-(\d{1,6})")


@dataclass(frozen=True, slots=True)
class UnitChoice:
    """Every household the building knows (``everyone``), or these units in this order."""

    everyone: bool
    units: tuple[str, ...] = ()


def choose_units(text: str) -> UnitChoice:
    """``all`` / ``全部``, or units and ranges separated by spaces or commas. A range keeps
    the unit (单元) and counts the room number: ``2-501~2-504`` is 2-501, 2-502, 2-503, 2-504
    (one floor: ``2-501~2-604`` would count 2-505 ... 2-599 too, so a range beyond 50 rooms is
    refused and each floor is given as its own range)."""
    words = [word for word in re.split(r"[\s,，、;；]+", text.strip()) if word]
    if not words:
        raise Refusal("invitations.no_units")
    if len(words) == 1 and unicodedata.normalize("NFKC", words[0]).casefold() in ALL_WORDS:
        return UnitChoice(everyone=True)
    units: list[str] = []
    for word in words:
        units.extend(_expand(word))
        if len(units) > MAX_SHEET_UNITS:
            raise Refusal("invitations.too_many_units", limit=MAX_SHEET_UNITS)
    return UnitChoice(everyone=False, units=tuple(dict.fromkeys(units)))


MAX_RANGE = 50


def _expand(word: str) -> list[str]:
    normalized = unicodedata.normalize("NFKC", word)
    for sign in _RANGE_SIGNS:
        if sign in normalized and not normalized.startswith(sign):
            first_text, _, last_text = normalized.partition(sign)
            break
    else:
        return [parse_unit(word)]
    first, last = parse_unit(first_text), parse_unit(last_text)
    first_match, last_match = _ROOM.fullmatch(first), _ROOM.fullmatch(last)
    if (
        first_match is None
        or last_match is None
        or first_match.group(1) != last_match.group(1)
        or int(last_match.group(2)) < int(first_match.group(2))
    ):
        raise Refusal("invitations.bad_range", given=word[:40])
    start, stop = int(first_match.group(2)), int(last_match.group(2))
    if stop - start + 1 > MAX_RANGE:
        raise Refusal("invitations.range_too_long", given=word[:40], limit=MAX_RANGE)
    width = len(first_match.group(2))
    return [f"{first_match.group(1)}-{room:0{width}d}" for room in range(start, stop + 1)]
