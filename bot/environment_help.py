"""The environment variables for ``yishi --help``, written from the settings model itself, so
the list cannot drift from what :class:`bot.settings.Settings` reads."""

from __future__ import annotations

import textwrap
from datetime import time, timedelta
from typing import Any

from pydantic.fields import FieldInfo

from bot.durations import format_duration
from bot.settings import LoggingSettings, Settings

NAME_WIDTH = 24
LINE_WIDTH = 79
LOGGING = frozenset(LoggingSettings.model_fields)


def default_text(value: Any) -> str:
    """A default as an operator would write it in the environment."""
    if value is None or value == frozenset():
        return "unset"
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def _entry(name: str, field: FieldInfo) -> list[str]:
    meaning = field.description or ""
    text = f"{meaning} (default: {default_text(field.get_default(call_default_factory=True))})"
    lines = textwrap.wrap(text, LINE_WIDTH - NAME_WIDTH - 2) or [""]
    first = f"  {name:<{NAME_WIDTH - 1}} {lines[0]}" if len(name) < NAME_WIDTH - 1 else None
    if first is None:  # a long name gets a line of its own
        return [f"  {name}", *(" " * (NAME_WIDTH + 2) + line for line in lines)]
    return [first, *(" " * (NAME_WIDTH + 2) + line for line in lines[1:])]


def variables() -> list[tuple[str, FieldInfo]]:
    """(variable, field) for every setting, in the model's order, logging's two last."""
    fields = sorted(Settings.model_fields.items(), key=lambda item: item[0] in LOGGING)
    return [(field.alias or name.upper(), field) for name, field in fields]


def environment_help() -> str:
    lines = ["environment variables (also read from a .env file in the working directory):"]
    for name, field in variables():
        lines += _entry(name, field)
    return "\n".join(lines)
