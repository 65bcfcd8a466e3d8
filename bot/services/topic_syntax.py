"""The one-line ``/topic`` syntax: ``<标题> [key=value ...]`` then description lines.

``parse_topic`` turns the text after the command word into a :class:`TopicDraft` or raises a
:class:`Refusal` ``topic_syntax.<name>`` naming what was wrong; it raises nothing else.

The first line is split on whitespace: words before the first ``key=value`` (``＝`` too) form
the title; values may be quoted ("..." or “...”) to hold spaces; after the first key only
``key=value`` may follow, except the time after a date in ``期限=2026-12-01 18:00``. Keys have
a Chinese and an English name (see ``_KEYS``); each key's value has its own parser. Zero-width,
bidi and control characters are dropped first. Structural errors (quotes, unknown or repeated
keys, stray words) are reported before the title's, then each value's in line order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bot.catalogue import Catalogue
from bot.durations import DurationError, parse_duration
from bot.services.errors import Refusal

T = TypeVar("T")

MAX_TITLE = 100
MAX_DESCRIPTION = 2000
MIN_OPTIONS, MAX_OPTIONS, MAX_OPTION = 2, 10, 40
MIN_DEADLINE, MAX_DEADLINE = timedelta(minutes=1), timedelta(days=365)
DEFAULT_DEADLINE = timedelta(days=3)
DEFAULT_OPTIONS = {"zh_CN": ("同意", "反对", "弃权"), "en": ("Agree", "Against", "Abstain")}


class Rule(StrEnum):
    MAJORITY = "majority"
    TWO_THIRDS = "2/3"
    ART278 = "278"
    ART278_MAJOR = "278-major"
    OPINION = "opinion"


class Scope(StrEnum):
    HERE = "here"
    ALL = "all"


HOUSEHOLD_RULES = frozenset({Rule.ART278, Rule.ART278_MAJOR})


class TopicDraft(BaseModel):
    """A topic as typed, checked, before anything is stored."""

    model_config = ConfigDict(frozen=True)

    title: str = Field(min_length=1, max_length=MAX_TITLE)
    description: str = Field(max_length=MAX_DESCRIPTION)
    deadline: AwareDatetime
    options: tuple[str, ...]
    rule: Rule
    category: str | None
    quorum_percent: int | None = Field(ge=1, le=100)
    secret: bool
    household: bool
    hide_results: bool
    scope: Scope


# ---- tokens ---------------------------------------------------------------------------

_CLOSERS = {'"': '"”', "“": '”"', "”": '”"', "「": "」", "『": "』"}
_EQUALS = "=＝"


@dataclass(frozen=True, slots=True)
class _Word:
    text: str


@dataclass(frozen=True, slots=True)
class _Pair:
    key: str
    value: str
    quoted: bool


def _clean(text: str) -> str:
    """Without format (zero-width, bidi), surrogate and non-space control characters."""
    return "".join(
        ch for ch in text if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
    )


def _closing(line: str, start: int) -> int:
    """The index of the quote closing the one at ``start``, or -1."""
    found = [line.find(closer, start + 1) for closer in _CLOSERS[line[start]]]
    return min((index for index in found if index >= 0), default=-1)


def _word_end(line: str, start: int) -> int:
    while start < len(line) and not line[start].isspace():
        start += 1
    return start


def _tokenize(line: str) -> list[_Word | _Pair]:
    """Whitespace-separated words; ``key=value`` pairs, whose value may be "quoted"/“quoted”.

    A word starting with a quote is kept verbatim (quotes included) up to its closing quote and
    is never a key, so a title may say “A=B”. An unclosed quote after ``=`` is refused.
    """
    tokens: list[_Word | _Pair] = []
    at = 0
    while True:
        while at < len(line) and line[at].isspace():
            at += 1
        if at >= len(line):
            return tokens
        if line[at] in _CLOSERS:
            close = _closing(line, at)
            end = _word_end(line, close + 1 if close >= 0 else at)
            tokens.append(_Word(line[at:end]))
            at = end
            continue
        end = _word_end(line, at)
        equals = next((i for i in range(at, end) if line[i] in _EQUALS), -1)
        if equals < 0:
            tokens.append(_Word(line[at:end]))
        elif equals + 1 < len(line) and line[equals + 1] in _CLOSERS:
            close = _closing(line, equals + 1)
            if close < 0:
                raise Refusal("topic_syntax.unterminated_quote", key_name=line[at:equals])
            end = _word_end(line, close + 1)
            value = line[equals + 2 : close] + line[close + 1 : end]
            tokens.append(_Pair(line[at:equals], value, quoted=True))
        else:
            tokens.append(_Pair(line[at:equals], line[equals + 1 : end], quoted=False))
        at = end


# ---- values ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    now: datetime
    zone: ZoneInfo
    catalogue: Catalogue | None
    locale: str


def _plain(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


_DATE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")
_DATETIME = re.compile(_DATE.pattern + r"[ t]([0-9]{1,2}):([0-9]{2})")


def _deadline(key: str, value: str, context: _Context) -> datetime:
    text = _plain(value)
    if _DATE.match(text):
        match = _DATETIME.fullmatch(text)
        if not match:
            raise Refusal("topic_syntax.bad_datetime", key_name=key, given=value)
        year, month, day, hour, minute = (int(part) for part in match.groups())
        try:
            deadline = datetime(year, month, day, hour, minute, tzinfo=context.zone)
        except ValueError:
            raise Refusal("topic_syntax.bad_datetime", key_name=key, given=value) from None
    else:
        try:
            deadline = context.now + parse_duration(text)
        except DurationError:
            raise Refusal("topic_syntax.bad_duration", key_name=key, given=value) from None
    ahead = deadline - context.now  # aware arithmetic: no overflow near year 1 or 9999
    if ahead <= timedelta():
        raise Refusal("topic_syntax.deadline_past", key_name=key, given=value)
    if ahead < MIN_DEADLINE:
        raise Refusal("topic_syntax.deadline_too_soon", key_name=key, given=value)
    if ahead > MAX_DEADLINE:
        raise Refusal(
            "topic_syntax.deadline_too_far", key_name=key, given=value, limit_days=MAX_DEADLINE.days
        )
    return deadline.astimezone(UTC)


def _options(key: str, value: str, context: _Context) -> tuple[str, ...]:
    options = [" ".join(part.split()) for part in re.split(r"[,，、]", value)]
    options = [option for option in options if option]
    if len(options) < MIN_OPTIONS:
        raise Refusal("topic_syntax.too_few_options", key_name=key, count=len(options))
    if len(options) > MAX_OPTIONS:
        raise Refusal(
            "topic_syntax.too_many_options", key_name=key, count=len(options), limit=MAX_OPTIONS
        )
    seen: set[str] = set()
    for option in options:
        if len(option) > MAX_OPTION:
            raise Refusal(
                "topic_syntax.option_too_long",
                key_name=key,
                option=option,
                length=len(option),
                limit=MAX_OPTION,
            )
        if _plain(option) in seen:
            raise Refusal("topic_syntax.duplicate_option", key_name=key, option=option)
        seen.add(_plain(option))
    return tuple(options)


def _choice(refusal: str, words: dict[str, T]) -> Callable[[str, str, _Context], T]:
    def parse(key: str, value: str, context: _Context) -> T:
        try:
            return words[_plain(value)]
        except KeyError:
            raise Refusal(f"topic_syntax.{refusal}", key_name=key, given=value) from None

    return parse


_RULES = {rule.value: rule for rule in Rule} | {
    "过半": Rule.MAJORITY,
    "三分之二": Rule.TWO_THIRDS,
    "征求意见": Rule.OPINION,
}
_rule = _choice("unknown_rule", _RULES)
_yes_no = _choice(
    "bad_yes_no",
    dict.fromkeys(("yes", "y", "true", "on", "1", "是"), True)
    | dict.fromkeys(("no", "n", "false", "off", "0", "否"), False),
)
_scope = _choice(
    "bad_scope", {"here": Scope.HERE, "本级": Scope.HERE} | {"全部": Scope.ALL, "all": Scope.ALL}
)


def _category(key: str, value: str, context: _Context) -> str:
    catalogue = context.catalogue
    entry = catalogue.find(value) if catalogue else None
    if entry is None:
        names = [e.name(context.locale) for e in catalogue.discussable()] if catalogue else []
        separator = "、" if context.locale.startswith("zh") else "; "
        valid = separator.join(names[:6]) or "—"
        example = catalogue.default if catalogue else ""
        raise Refusal(
            "topic_syntax.unknown_category", key_name=key, given=value, valid=valid, example=example
        )
    if not entry.discussable:
        raise Refusal(
            "topic_syntax.not_discussable",
            category=entry.key,
            name=entry.name(context.locale),
            reason=entry.reason(context.locale),
        )
    return entry.key


def _quorum(key: str, value: str, context: _Context) -> int:
    match = re.fullmatch(r"([0-9]{1,3})\s*%?", _plain(value))
    if not match or not 1 <= int(match.group(1)) <= 100:
        raise Refusal("topic_syntax.bad_quorum", key_name=key, given=value)
    return int(match.group(1))


@dataclass(frozen=True, slots=True)
class _Key:
    zh: str
    en: str
    parse: Callable[[str, str, _Context], object]


_KEYS: dict[str, _Key] = {
    "deadline": _Key("期限", "deadline", _deadline),
    "options": _Key("选项", "options", _options),
    "rule": _Key("规则", "rule", _rule),
    "category": _Key("类别", "category", _category),
    "quorum": _Key("法定人数", "quorum", _quorum),
    "secret": _Key("匿名", "secret", _yes_no),
    "household": _Key("按户", "household", _yes_no),
    "hide": _Key("隐藏结果", "hide", _yes_no),
    "scope": _Key("范围", "scope", _scope),
}
_NAMES = {_plain(name): field for field, key in _KEYS.items() for name in (key.zh, key.en)}


def _valid_keys(locale: str) -> str:
    if locale.startswith("zh"):
        return "、".join(key.zh for key in _KEYS.values())
    return ", ".join(key.en for key in _KEYS.values())


# ---- the line -------------------------------------------------------------------------


def _split(tokens: list[_Word | _Pair], locale: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """The title, and ``{field: (key as written, value)}`` for each key given."""
    title: list[str] = []
    given: dict[str, tuple[str, str]] = {}
    at = 0
    while at < len(tokens):
        token = tokens[at]
        at += 1
        if isinstance(token, _Word):
            if given:
                raise Refusal("topic_syntax.stray_word", given=token.text)
            title.append(token.text)
            continue
        if not token.key:
            raise Refusal("topic_syntax.missing_key", given="=" + token.value)
        field = _NAMES.get(_plain(token.key))
        if field is None:
            raise Refusal("topic_syntax.unknown_key", key_name=token.key, valid=_valid_keys(locale))
        if field in given:
            raise Refusal("topic_syntax.duplicate_key", key_name=token.key)
        if not token.value.strip():
            raise Refusal("topic_syntax.empty_value", key_name=token.key)
        value = token.value
        following = tokens[at] if at < len(tokens) else None
        date_only = not token.quoted and _DATE.fullmatch(_plain(value))
        if field == "deadline" and date_only and isinstance(following, _Word):
            value, at = f"{value} {following.text}", at + 1  # "2026-12-01 18:00"
        given[field] = (token.key, value)
    return " ".join(" ".join(title).split()), given


def parse_topic(
    text: str,
    *,
    now: datetime,
    zone: ZoneInfo,
    catalogue: Catalogue | None,
    locale: str = "zh_CN",
) -> TopicDraft:
    """Parse ``<标题> [key=value ...]`` and description lines (the text after ``/topic``).

    ``now`` is the current instant (naive means UTC); ``zone`` reads local date-times;
    ``locale`` picks the default options and the language of listed names and reasons.
    Raises :class:`Refusal` ``topic_syntax.*`` and nothing else.
    """
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    first, _, rest = text.partition("\n")
    title, given = _split(_tokenize(_clean(first)), locale)
    if not title:
        raise Refusal("topic_syntax.empty_title")
    if len(title) > MAX_TITLE:
        raise Refusal("topic_syntax.title_too_long", length=len(title), limit=MAX_TITLE)
    description = _clean(rest).strip()
    if len(description) > MAX_DESCRIPTION:
        raise Refusal(
            "topic_syntax.description_too_long", length=len(description), limit=MAX_DESCRIPTION
        )
    context = _Context(now, zone, catalogue, locale)
    values = {
        field: _KEYS[field].parse(key, value, context) for field, (key, value) in given.items()
    }

    rule = _get(values, "rule", Rule, Rule.MAJORITY)
    if rule is Rule.OPINION and "options" in given:
        raise Refusal("topic_syntax.opinion_with_options", key_name=given["options"][0])
    household = _get(values, "household", bool, rule in HOUSEHOLD_RULES)
    if rule in HOUSEHOLD_RULES and not household:
        raise Refusal(
            "topic_syntax.household_required", key_name=given["household"][0], rule=rule.value
        )
    default_options = DEFAULT_OPTIONS["zh_CN" if locale.startswith("zh") else "en"]
    return TopicDraft(
        title=title,
        description=description,
        deadline=_get(values, "deadline", datetime, now + DEFAULT_DEADLINE),
        options=() if rule is Rule.OPINION else _get(values, "options", tuple, default_options),
        rule=rule,
        category=_get(values, "category", str, catalogue.default_entry.key) if catalogue else None,
        quorum_percent=_get(values, "quorum", int, 0) or None,  # a quorum is 1..100
        secret=_get(values, "secret", bool, False),
        household=household,
        hide_results=_get(values, "hide", bool, False),
        scope=_get(values, "scope", Scope, Scope.HERE),
    )


def _get(values: dict[str, object], field: str, kind: type[T], default: T) -> T:
    value = values.get(field, default)
    assert isinstance(value, kind)
    return value
