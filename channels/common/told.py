"""A :class:`~bot.services.announcement_texts.Told`'s text in a channel's markup. The channel
gives its catalogue (``translate``: HTML for Telegram, markdown for WeCom; values escaped by
it), its ``escape`` for what people wrote, and its zone; the
rest (nested keys, moments, weekdays, lines joined) is the same everywhere, so it is here;
likewise a digest's blocks (bot/services/announcement_texts.py's outline) and their packing
into messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Protocol

from babel.dates import format_date

from bot.services.announcement_texts import (
    Duration,
    Elapsed,
    Joined,
    Label,
    Line,
    Listed,
    Person,
    Plain,
    Said,
    Series,
    Spans,
    Told,
    Value,
    Weekday,
)
from locales import Translator, duration_units


def weekday(locale: str, moment: datetime, zone: tzinfo) -> str:
    """``周二`` / ``Tue``."""
    return format_date(
        moment.astimezone(zone).date(), "EEE", locale="zh_CN" if locale == "zh_CN" else "en_GB"
    )


def pack(
    blocks: list[str], limit: int, length: Callable[[str], int], cut: Callable[[str, int], str]
) -> list[str]:
    """Blocks packed into messages of at most ``limit`` (as the channel measures: characters,
    bytes), one after another, a block never split unless it alone is longer (then ``cut``)."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        block = cut(block, limit)
        candidate = f"{current}\n{block}" if current else block
        if length(candidate) > limit:
            messages.append(current)
            current = block
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def moment_text(moment: datetime, zone: tzinfo) -> str:
    """``yyyy-MM-dd HH:mm`` in ``zone``, as both locales write it (Translator.datetime)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


class Translate(Protocol):
    """A channel's catalogue: ``(locale, key, **values)`` -> the text of ``key`` in its
    markup, the values escaped unless already in that markup; ``plain``: without markup."""

    def __call__(self, locale: str, key: str, **values: Any) -> str: ...

    def plain(self, locale: str, key: str, **values: Any) -> str: ...


class Writer:
    """Writes what the core says in one channel's markup."""

    def __init__(
        self,
        translate: Translate,
        escape: Callable[[str], str],
        zone: tzinfo,
        *,
        elapsed: Callable[[str, timedelta], str] | None = None,
        span: Callable[[str, timedelta], str] | None = None,
        person: Callable[[Person], str] | None = None,
    ) -> None:
        """``elapsed`` writes an age (the digest), ``span`` a length of time (a meeting's
        reminders); a writer without one is given none. ``person`` writes someone named
        (Telegram: a link to them); by default their name."""
        self._translate = translate
        self._escape = escape
        self._zone = zone
        self._elapsed = elapsed
        self._span = span
        self._person = person

    def text(self, locale: str, told: Told) -> str:
        """The lines, one after the other."""
        return self.lines(locale, told.lines)

    def lines(self, locale: str, lines: tuple[Line, ...]) -> str:
        return "\n".join(self.line(locale, line) for line in lines)

    def line(self, locale: str, line: Line) -> str:
        if isinstance(line, Said):
            return self.said(locale, line)
        if isinstance(line, Joined):
            return line.separator.join(self.said(locale, part) for part in line.parts)
        return self._escape(line)

    def said(self, locale: str, said: Said) -> str:
        values = {name: self._value(locale, value) for name, value in said.params.items()}
        return self._translate(locale, said.key, **values)

    def _markup(self, locale: str, value: Value) -> str:
        """A value in the channel's markup on its own (what people wrote, escaped)."""
        written = self._value(locale, value)
        if isinstance(value, Said | Listed | Label | Series | Duration):
            return str(written)  # in the channel's markup already
        return str(self._escape(str(written)))

    def _value(self, locale: str, value: Value) -> object:
        if isinstance(value, Said):
            return self.said(locale, value)  # already in the channel's markup
        if isinstance(value, Listed):
            separator = self._translate(locale, value.separator)
            joined = separator.join(self._translate(locale, item) for item in value.items)
            return type(separator)(joined)  # in the channel's markup, as the parts are
        if isinstance(value, Joined):
            parts = [self.said(locale, part) for part in value.parts]
            if not parts:
                return ""
            return type(parts[0])(value.separator.join(parts))  # in the channel's markup
        if isinstance(value, datetime):
            return moment_text(value, self._zone)
        if isinstance(value, Weekday):
            return weekday(locale, value.moment, self._zone)
        if isinstance(value, Joined):  # in the channel's markup, as its parts are
            parts = [self.said(locale, part) for part in value.parts]
            return type(parts[0])(value.separator.join(parts)) if parts else ""
        if isinstance(value, Decimal):
            return Translator.number(locale, value)
        if isinstance(value, Plain):
            return self._escape(self._translate.plain(locale, value.key))
        if isinstance(value, Person):
            return self._person(value) if self._person else self._escape(value.name)
        if isinstance(value, Label):
            try:
                return self._translate(locale, f"{value.section}.{value.name}")
            except KeyError:  # no label for it: the name as it is
                return self._escape(value.name)
        if isinstance(value, Series):
            separator = self._translate(locale, value.separator)
            marked = (self._markup(locale, part) for part in value.parts)
            return type(separator)(separator.join(marked))
        if isinstance(value, Duration):
            separator = self._translate(locale, "units.separator")
            units = duration_units(value.delta)
            written = (self._translate(locale, key, n=n) for key, n in units)
            return type(separator)(separator.join(written))
        if isinstance(value, Elapsed):
            if self._elapsed is None:
                raise TypeError("this writer writes no age")
            return self._elapsed(locale, value.delta)
        if isinstance(value, Spans):
            if self._span is None:
                raise TypeError("this writer writes no length of time")
            return ", ".join(self._span(locale, delta) for delta in value.deltas)
        return value
