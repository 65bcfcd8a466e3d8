"""What the one-line ``/topic`` and ``/meeting`` share: words, ``key=value`` pairs, the key table.

A line is split on whitespace into words and ``key=value`` pairs (``＝`` too); a value may be
quoted ("..." or “...”) to hold spaces. Each key has a Chinese and an English name. Refusals
are named in the caller's namespace (``topic_syntax.*``, ``meeting_syntax.*``): the two
commands say the same things about structure in their own words. The rules of each command
(what its words mean, its keys and their values) stay in its own module.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from bot.services.errors import Refusal

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
P = TypeVar("P")

_CLOSERS = {'"': '"”', "“": '”"', "”": '”"', "「": "」", "『": "』"}
_EQUALS = "=＝"


def clean(text: str) -> str:
    """Without format (zero-width, bidi), surrogate and non-space control characters."""
    return "".join(
        ch for ch in text if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
    )


def plain(value: str) -> str:
    """``value`` as keys and words are compared: NFKC, spaces folded, case folded."""
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


# ---- tokens ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Word:
    text: str


@dataclass(frozen=True, slots=True)
class Pair:
    key: str
    value: str
    quoted: bool


def _closing(line: str, start: int) -> int:
    """The index of the quote closing the one at ``start``, or -1."""
    found = [line.find(closer, start + 1) for closer in _CLOSERS[line[start]]]
    return min((index for index in found if index >= 0), default=-1)


def _word_end(line: str, start: int) -> int:
    while start < len(line) and not line[start].isspace():
        start += 1
    return start


def tokenize(line: str, namespace: str) -> list[Word | Pair]:
    """Whitespace-separated words; ``key=value`` pairs, whose value may be "quoted"/“quoted”.

    A word starting with a quote is kept verbatim (quotes included) up to its closing quote and
    is never a key, so a title may say “A=B”. An unclosed quote after ``=`` is refused as
    ``<namespace>.unterminated_quote``.
    """
    tokens: list[Word | Pair] = []
    at = 0
    while True:
        while at < len(line) and line[at].isspace():
            at += 1
        if at >= len(line):
            return tokens
        if line[at] in _CLOSERS:
            close = _closing(line, at)
            end = _word_end(line, close + 1 if close >= 0 else at)
            tokens.append(Word(line[at:end]))
            at = end
            continue
        end = _word_end(line, at)
        equals = next((i for i in range(at, end) if line[i] in _EQUALS), -1)
        if equals < 0:
            tokens.append(Word(line[at:end]))
        elif equals + 1 < len(line) and line[equals + 1] in _CLOSERS:
            close = _closing(line, equals + 1)
            if close < 0:
                raise Refusal(f"{namespace}.unterminated_quote", key_name=line[at:equals])
            end = _word_end(line, close + 1)
            value = line[equals + 2 : close] + line[close + 1 : end]
            tokens.append(Pair(line[at:equals], value, quoted=True))
        else:
            tokens.append(Pair(line[at:equals], line[equals + 1 : end], quoted=False))
        at = end


def checked_title(text: str, limit: int, namespace: str) -> str:
    """``text`` cleaned with spaces folded: ``<namespace>.empty_title`` or ``.title_too_long``."""
    title = " ".join(clean(text).split())
    if not title:
        raise Refusal(f"{namespace}.empty_title")
    if len(title) > limit:
        raise Refusal(f"{namespace}.title_too_long", length=len(title), limit=limit)
    return title


# ---- keys -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Key(Generic[P]):
    """A key's Chinese and English names and the parser of its value."""

    zh: str
    en: str
    parse: P


class KeyTable(Generic[P]):
    """A command's keys by field name, found by either name as written."""

    def __init__(self, keys: Mapping[str, Key[P]]) -> None:
        self.keys = dict(keys)
        self._names = {
            plain(name): field for field, key in keys.items() for name in (key.zh, key.en)
        }

    def __getitem__(self, field: str) -> Key[P]:
        return self.keys[field]

    def field(self, written: str) -> str | None:
        return self._names.get(plain(written))

    def valid(self, locale: str) -> str:
        """The key names, listed in the language of ``locale``."""
        if locale.startswith("zh"):
            return "、".join(key.zh for key in self.keys.values())
        return ", ".join(key.en for key in self.keys.values())


def split_line(
    tokens: list[Word | Pair],
    keys: KeyTable[P],
    locale: str,
    namespace: str,
    joins_next: Callable[[str, Pair], bool] | None = None,
) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """The words before the first key, and ``{field: (key as written, value)}``.

    After the first key only pairs may follow, except one word that ``joins_next(field, pair)``
    takes into that pair's value (the time after a date). Refusals, in line order:
    ``stray_word``, ``missing_key``, ``unknown_key``, ``duplicate_key``, ``empty_value``.
    """
    words: list[str] = []
    given: dict[str, tuple[str, str]] = {}
    at = 0
    while at < len(tokens):
        token = tokens[at]
        at += 1
        if isinstance(token, Word):
            if given:
                raise Refusal(f"{namespace}.stray_word", given=token.text)
            words.append(token.text)
            continue
        if not token.key:
            raise Refusal(f"{namespace}.missing_key", given="=" + token.value)
        field = keys.field(token.key)
        if field is None:
            raise Refusal(f"{namespace}.unknown_key", key_name=token.key, valid=keys.valid(locale))
        if field in given:
            raise Refusal(f"{namespace}.duplicate_key", key_name=token.key)
        if not token.value.strip():
            raise Refusal(f"{namespace}.empty_value", key_name=token.key)
        value = token.value
        following = tokens[at] if at < len(tokens) else None
        if isinstance(following, Word) and joins_next is not None and joins_next(field, token):
            value, at = f"{value} {following.text}", at + 1
        given[field] = (token.key, value)
    return words, given


# ---- values ---------------------------------------------------------------------------


class ChoiceParser(Protocol[T_co]):
    """A key's parser: ``(key as written, value, *whatever the command passes along)``."""

    def __call__(self, key: str, value: str, /, *context: object) -> T_co: ...


def choice(refusal: str, words: Mapping[str, T]) -> ChoiceParser[T]:
    """A parser of one of ``words`` (compared plain); anything else is refused as ``refusal``."""

    def parse(key: str, value: str, /, *context: object) -> T:
        try:
            return words[plain(value)]
        except KeyError:
            raise Refusal(refusal, key_name=key, given=value) from None

    return parse


def value_of(values: Mapping[str, object], field: str, kind: type[T], default: T) -> T:
    """The parsed value of ``field`` (of type ``kind``), or ``default`` when it was not given."""
    value = values.get(field, default)
    assert isinstance(value, kind)
    return value
