"""Message catalogues: ``locales/<locale>/<feature>.toml``, keys ``<feature>.<name>``.

Values are Telegram HTML templates with named ``{placeholders}``. Parameters are escaped
unless wrapped in :class:`Html`, so user-supplied text can never break the markup.
"""

from __future__ import annotations

import html
import string
import tomllib
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).parent
SUPPORTED = ("zh_CN", "en")


class Html(str):
    """Markup that is already safe for Telegram's HTML parse mode; inserted unescaped."""

    __slots__ = ()


def escape(value: object) -> Html:
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=False))


def _flatten(prefix: str, table: dict[str, Any], into: dict[str, str]) -> None:
    for key, value in table.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict):
            _flatten(name, value, into)
        else:
            into[name] = str(value)


def load_catalogue(locale: str, directory: Path = LOCALES_DIR) -> dict[str, str]:
    catalogue: dict[str, str] = {}
    for path in sorted((directory / locale).glob("*.toml")):
        with path.open("rb") as handle:
            _flatten(path.stem, tomllib.load(handle), catalogue)
    return catalogue


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def duration_units(delta: timedelta) -> list[tuple[str, int]]:
    """A length of time to the minute as its ``units.*`` keys and counts (days, hours,
    minutes; none zero but a length under a minute's ``0 minutes``)."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = (("units.days", days), ("units.hours", hours), ("units.minutes", minutes))
    return [(key, count) for key, count in units if count] or [("units.minutes", 0)]


class Translator:
    def __init__(self, default_locale: str = "zh_CN", directory: Path = LOCALES_DIR) -> None:
        self.default_locale = default_locale
        self.catalogues = {locale: load_catalogue(locale, directory) for locale in SUPPORTED}

    def resolve(self, locale: str | None) -> str:
        return locale if locale in self.catalogues else self.default_locale

    def has(self, key: str) -> bool:
        return key in self.catalogues[self.default_locale]

    def __call__(self, locale: str | None, key: str, **params: Any) -> Html:
        """The localised text for ``key`` with escaped parameters."""
        chosen = self.resolve(locale)
        template = self.catalogues[chosen].get(key) or self.catalogues[self.default_locale][key]
        return Html(template.format_map({name: escape(value) for name, value in params.items()}))

    def plain(self, locale: str | None, key: str, **params: Any) -> str:
        """The text without markup, for places that take no HTML (button labels, alerts)."""
        chosen = self.resolve(locale)
        template = self.catalogues[chosen].get(key) or self.catalogues[self.default_locale][key]
        return template.format_map({name: str(value) for name, value in params.items()})

    @staticmethod
    def datetime(locale: str | None, moment: datetime, zone: tzinfo) -> str:
        # Both locales write "yyyy-MM-dd HH:mm" with Western digits, exactly what strftime
        # gives; Babel took ~0.2 ms a call, most of rendering a digest of 500 items.
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def duration(self, locale: str | None, delta: timedelta) -> str:
        """A length of time to the minute, as people write it: ``1天2小时`` / ``1 d 2 h``."""
        parts = [self.plain(locale, key, n=count) for key, count in duration_units(delta)]
        return self.plain(locale, "units.separator").join(parts)

    @staticmethod
    def number(locale: str | None, value: Decimal | float | int) -> str:
        return format_decimal(
            value, format="#,##0.##", locale="zh_CN" if locale == "zh_CN" else "en"
        )
