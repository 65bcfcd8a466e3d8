"""A :class:`~bot.services.errors.Refusal` as what to say: its key and parameters, the names
of things given their localised labels, what the person typed quoted at most
:data:`ECHO_LIMIT` characters (10,000 typed characters cannot make an answer longer than a
platform takes). Each channel writes the result in its markup (channels/common/told.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.services.announcement_texts import Listed, Said, Value
from bot.services.errors import Refusal

ECHO_LIMIT = 200
# Parameters whose values are names of things that have their own localised label.
_LABELLED = {
    "level": "levels",
    "here": "levels",
    "role": "role_names",
    "expected_role": "role_names",
    "status": "statuses",
}
# Parameters whose values are lists of such names, shown as one localised list.
_LABELLED_LISTS = {"roles": ("role_names", "roles.list_separator")}


def clip(text: str) -> str:
    return text if len(text) <= ECHO_LIMIT else text[:ECHO_LIMIT] + "…"


def labelled(name: str, value: object, has: Callable[[str], bool]) -> Value | None:
    """``value`` of parameter ``name`` as its label's key, if it is the name of a thing that
    has one (a level, a role, a status); None otherwise."""
    section = _LABELLED.get(name)
    if section is not None and isinstance(value, str) and has(f"{section}.{value}"):
        return Said(f"{section}.{value}")
    listed = _LABELLED_LISTS.get(name)
    if listed is not None and isinstance(value, tuple):
        section, separator = listed
        return Listed(tuple(f"{section}.{item}" for item in value), separator)
    return None


def refusal_said(refusal: Refusal, has: Callable[[str], bool]) -> Said:
    """What explains ``refusal``: ``refusals.<key>``, or the key itself where the feature
    keeps it (a usage line). ``has`` tells whether the catalogue has a key."""
    params: dict[str, Value] = {}
    for name, value in refusal.params.items():
        label = labelled(name, value, has)
        if label is not None:
            params[name] = label
        elif isinstance(value, str):
            params[name] = clip(value)
        elif isinstance(value, int | datetime | Said):
            params[name] = value
        else:
            params[name] = str(value)
    key = f"refusals.{refusal.key}"
    return Said(key if has(key) else refusal.key, params)
