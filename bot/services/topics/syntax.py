"""The one-line ``/topic`` syntax: ``<标题> [key=value ...]`` then description lines.

``parse_topic`` turns the text after the command word into a :class:`TopicDraft` or raises a
:class:`Refusal` ``topic_syntax.<name>`` naming what was wrong; it raises nothing else.

The first line is split on whitespace: words before the first ``key=value`` (``＝`` too) form
the title; values may be quoted ("..." or “...”) to hold spaces; after the first key only
``key=value`` may follow, except the time after a date in ``期限=2026-12-01 18:00``. Keys have
a Chinese and an English name (see ``_KEYS``); each key's value has its own parser. Zero-width,
bidi and control characters are dropped first. Structural errors (quotes, unknown or repeated
keys, stray words) are reported before the title's, then each value's in line order. The
tokenizer and the key table are ``syntax.command_line``'s, shared with ``/meeting``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bot.catalogue import Catalogue
from bot.durations import DurationError, parse_duration
from bot.services.errors import Refusal
from bot.services.syntax.command_line import (
    Key,
    KeyTable,
    Pair,
    checked_title,
    choice,
    clean,
    plain,
    split_line,
    tokenize,
    value_of,
)
from bot.services.syntax.spoken_time import Problem, SpokenTimeError, is_spoken_day, read_spoken
from bot.services.topics.outcome import HOUSEHOLD_RULES
from storage.records import Rule, Scope

MAX_TITLE = 100
MAX_DESCRIPTION = 2000
MIN_OPTIONS, MAX_OPTIONS, MAX_OPTION = 2, 10, 40
MIN_DEADLINE, MAX_DEADLINE = timedelta(minutes=1), timedelta(days=365)
DEFAULT_DEADLINE = timedelta(days=3)
DEFAULT_OPTIONS = {"zh_CN": ("同意", "反对", "弃权"), "en": ("Agree", "Against", "Abstain")}


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


# ---- values ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    now: datetime
    zone: ZoneInfo
    catalogue: Catalogue | None
    locale: str

    @property
    def today(self) -> date:
        """The local date, against which 明天 and 下周三 are read."""
        return self.now.astimezone(self.zone).date()


_DATE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")
_DATETIME = re.compile(_DATE.pattern + r"[ t]([0-9]{1,2}):([0-9]{2})")


def _deadline(key: str, value: str, context: _Context) -> datetime:
    text = plain(value)
    match = _DATETIME.fullmatch(text)
    if match:
        year, month, day, hour, minute = (int(part) for part in match.groups())
        try:
            deadline = datetime(year, month, day, hour, minute, tzinfo=context.zone)
        except ValueError:
            raise Refusal("topic_syntax.bad_datetime", key_name=key, given=value) from None
    else:
        try:
            deadline = context.now + parse_duration(text)
        except DurationError:
            deadline = _spoken_deadline(key, value, context)
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


_SPOKEN_REFUSALS = {
    Problem.TIME: "bad_time_of_day",
    Problem.DATE: "bad_day",
    Problem.MISSING_TIME: "missing_time_of_day",
    Problem.WEEKDAY: "bad_weekday",
    Problem.MONTH_DAY: "recurring_deadline",
    Problem.NTH: "recurring_deadline",
}


def _spoken_deadline(key: str, value: str, context: _Context) -> datetime:
    """``明天晚上7点``, ``下周三 19:00``, ``12月15日下午3点``: one local moment."""
    iso_like = bool(_DATE.match(plain(value)))  # "2026-12-01 25:00" keeps its own refusal
    try:
        found = read_spoken(value, context.today)
    except SpokenTimeError as error:
        name = "bad_datetime" if iso_like else _SPOKEN_REFUSALS[error.problem]
        raise Refusal(f"topic_syntax.{name}", key_name=key, given=value) from None
    if found is None:
        name = "bad_datetime" if iso_like else "bad_duration"
        raise Refusal(f"topic_syntax.{name}", key_name=key, given=value)
    if found.once is None:
        raise Refusal("topic_syntax.recurring_deadline", key_name=key, given=value)
    return datetime.combine(found.once, found.at, tzinfo=context.zone)


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
        if plain(option) in seen:
            raise Refusal("topic_syntax.duplicate_option", key_name=key, option=option)
        seen.add(plain(option))
    return tuple(options)


_RULES = {rule.value: rule for rule in Rule} | {
    "过半": Rule.MAJORITY,
    "三分之二": Rule.TWO_THIRDS,
    "征求意见": Rule.OPINION,
}
_rule = choice("topic_syntax.unknown_rule", _RULES)
_yes_no = choice(
    "topic_syntax.bad_yes_no",
    dict.fromkeys(("yes", "y", "true", "on", "1", "是"), True)
    | dict.fromkeys(("no", "n", "false", "off", "0", "否"), False),
)
_scope = choice(
    "topic_syntax.bad_scope",
    {"here": Scope.HERE, "本级": Scope.HERE} | {"全部": Scope.ALL, "all": Scope.ALL},
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
    match = re.fullmatch(r"([0-9]{1,3})\s*%?", plain(value))
    if not match or not 1 <= int(match.group(1)) <= 100:
        raise Refusal("topic_syntax.bad_quorum", key_name=key, given=value)
    return int(match.group(1))


_KEYS: KeyTable[Callable[[str, str, _Context], object]] = KeyTable(
    {
        "deadline": Key("期限", "deadline", _deadline),
        "options": Key("选项", "options", _options),
        "rule": Key("规则", "rule", _rule),
        "category": Key("类别", "category", _category),
        "quorum": Key("法定人数", "quorum", _quorum),
        "secret": Key("匿名", "secret", _yes_no),
        "household": Key("按户", "household", _yes_no),
        "hide": Key("隐藏结果", "hide", _yes_no),
        "scope": Key("范围", "scope", _scope),
    }
)


# ---- the line -------------------------------------------------------------------------


def _date_then_time(field: str, pair: Pair) -> bool:
    """A deadline given as a bare day takes the next word as its time: "2026-12-01 18:00",
    "下周三 19:00", "明天 晚上7点"."""
    if field != "deadline" or pair.quoted:
        return False
    return bool(_DATE.fullmatch(plain(pair.value))) or is_spoken_day(pair.value)


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
    tokens = tokenize(clean(first), "topic_syntax")
    words, given = split_line(tokens, _KEYS, locale, "topic_syntax", _date_then_time)
    title = checked_title(" ".join(words), MAX_TITLE, "topic_syntax")
    description = clean(rest).strip()
    if len(description) > MAX_DESCRIPTION:
        raise Refusal(
            "topic_syntax.description_too_long", length=len(description), limit=MAX_DESCRIPTION
        )
    context = _Context(now, zone, catalogue, locale)
    values = {
        field: _KEYS[field].parse(key, value, context) for field, (key, value) in given.items()
    }

    rule = value_of(values, "rule", Rule, Rule.MAJORITY)
    if rule is Rule.OPINION and "options" in given:
        raise Refusal("topic_syntax.opinion_with_options", key_name=given["options"][0])
    household = value_of(values, "household", bool, rule in HOUSEHOLD_RULES)
    if rule in HOUSEHOLD_RULES and not household:
        raise Refusal(
            "topic_syntax.household_required", key_name=given["household"][0], rule=rule.value
        )
    default_options = DEFAULT_OPTIONS["zh_CN" if locale.startswith("zh") else "en"]
    return TopicDraft(
        title=title,
        description=description,
        deadline=value_of(values, "deadline", datetime, now + DEFAULT_DEADLINE),
        options=() if rule is Rule.OPINION else value_of(values, "options", tuple, default_options),
        rule=rule,
        category=value_of(values, "category", str, catalogue.default_entry.key)
        if catalogue
        else None,
        quorum_percent=value_of(values, "quorum", int, 0) or None,  # a quorum is 1..100
        secret=value_of(values, "secret", bool, False),
        household=household,
        hide_results=value_of(values, "hide", bool, False),
        scope=value_of(values, "scope", Scope, Scope.HERE),
    )
