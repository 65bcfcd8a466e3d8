"""The one-line ``/meeting`` syntax: ``<when> <标题> [key=value ...]``, then note lines.

``<when>`` is a local date-time (``2026-12-15 19:00``) or a recurrence with its time:
``每月15日 19:00`` / ``monthly 15 19:00``, ``每月第一个周三 19:00`` / ``monthly first-wed 19:00``,
``每周五 19:30`` / ``weekly fri 19:30``. The words after it, up to the first ``key=value``,
are the title. Tokens are read as ``/topic`` reads them (``syntax.command_line``'s tokenizer: quotes
hold spaces, zero-width and control characters are dropped). ``parse_meeting`` returns a
:class:`MeetingDraft` or raises :class:`Refusal` ``meeting_syntax.<name>``, nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.durations import DurationError, parse_duration
from bot.services.errors import Refusal
from bot.services.meetings.recurrence import Recurrence
from bot.services.syntax.command_line import (
    Key,
    KeyTable,
    Pair,
    Word,
    checked_title,
    choice,
    clean,
    plain,
    split_line,
    tokenize,
    value_of,
)
from bot.services.syntax.spoken_time import Problem, SpokenTimeError, read_clock, read_spoken
from storage.records import Repeat, Scope

MAX_TITLE, MAX_NOTE, MAX_PLACE, MAX_LINK = 100, 1000, 100, 500
MAX_REMINDERS, MAX_TOPICS = 5, 10
MIN_REMINDER, MAX_REMINDER = timedelta(minutes=1), timedelta(days=30)
MAX_AHEAD = timedelta(days=366)
DEFAULT_REMINDERS = (timedelta(hours=24), timedelta(hours=1))


@dataclass(frozen=True, slots=True)
class MeetingDraft:
    """A meeting as typed, checked, before anything is stored."""

    title: str
    note: str
    recurrence: Recurrence
    place: str | None = None
    link: str | None = None
    reminders: tuple[timedelta, ...] = DEFAULT_REMINDERS  # longest first
    topic_ids: tuple[int, ...] = ()
    scope: Scope = Scope.HERE
    holiday_shift: bool = False


# ---- when -------------------------------------------------------------------------------

_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_LOOKS_LIKE_TIME = re.compile(r"\d{1,3}[:：]")
_MONTH_DAY = re.compile(r"(\d{1,3})(?:日|号|th|st|nd|rd)?")
_NTH_ZH = re.compile(r"第?(最后一?|一|二|三|四|[1-4])个?(.+)")
_NTH_EN = re.compile(r"(first|second|third|fourth|last|1st|2nd|3rd|4th)[-_]?(.+)")
_NTHS = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "最后": -1,
    "最后一": -1,
    "1": 1,
    "2": 2,
    "3": 3,
    "4": 4,
}
_NTHS_EN = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_NTHS_EN |= {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAYS_ZH |= {str(number): number - 1 for number in range(1, 8)}
_WEEKDAYS_EN = {
    **dict.fromkeys(("mon", "monday"), 0),
    **dict.fromkeys(("tue", "tues", "tuesday"), 1),
    **dict.fromkeys(("wed", "weds", "wednesday"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), 3),
    **dict.fromkeys(("fri", "friday"), 4),
    **dict.fromkeys(("sat", "saturday"), 5),
    **dict.fromkeys(("sun", "sunday"), 6),
}
_ZH_MONTHLY, _ZH_WEEKLY = ("每月",), ("每周", "每星期", "每礼拜")
_BARE_PREFIXES = frozenset(("每月", "每个月", "每周", "每星期", "每礼拜"))


def _valid_weekdays(locale: str) -> str:
    if locale.startswith("zh"):
        return "周一、周二、周三、周四、周五、周六、周日"
    return "mon, tue, wed, thu, fri, sat, sun"


def _weekday(word: str, locale: str) -> int:
    text = word
    for prefix in ("周", "星期", "礼拜"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    found = _WEEKDAYS_ZH.get(text) if text != word or len(text) == 1 else None
    if found is None:
        found = _WEEKDAYS_EN.get(text)
    if found is None:
        raise Refusal("meeting_syntax.unknown_weekday", given=word, valid=_valid_weekdays(locale))
    return found


def _monthly(spec: str, locale: str) -> tuple[Repeat, int, int | None]:
    """``15`` / ``15日`` / ``第一个周三`` / ``first-wed`` -> (repeat, day, nth)."""
    day = _MONTH_DAY.fullmatch(spec)
    if day:
        number = int(day.group(1))
        if not 1 <= number <= 31:
            raise Refusal("meeting_syntax.bad_month_day", given=spec)
        return Repeat.MONTHLY_DAY, number, None
    zh, en = _NTH_ZH.fullmatch(spec), _NTH_EN.fullmatch(spec)
    if zh:
        return Repeat.MONTHLY_NTH, _weekday(zh.group(2), locale), _NTHS[zh.group(1)]
    if en:
        return Repeat.MONTHLY_NTH, _weekday(en.group(2), locale), _NTHS_EN[en.group(1)]
    raise Refusal("meeting_syntax.bad_monthly", given=spec)


def _time(words: list[str], at: int, after: str) -> time:
    if at >= len(words):
        raise Refusal("meeting_syntax.missing_time", given=after)
    try:
        found = read_clock(words[at])
    except SpokenTimeError:
        raise Refusal("meeting_syntax.bad_time", given=words[at]) from None
    if found is None:
        key = "bad_time" if _LOOKS_LIKE_TIME.match(plain(words[at])) else "missing_time"
        raise Refusal(f"meeting_syntax.{key}", given=words[at] if key == "bad_time" else after)
    return found


_SPOKEN_REFUSALS = {
    Problem.TIME: "bad_time",
    Problem.DATE: "bad_date",
    Problem.MISSING_TIME: "missing_time",
    Problem.MONTH_DAY: "bad_month_day",
    Problem.WEEKDAY: "unknown_weekday",
    Problem.NTH: "bad_monthly",
}


def _spoken_refusal(error: SpokenTimeError, locale: str) -> Refusal:
    extra = {"valid": _valid_weekdays(locale)} if error.problem is Problem.WEEKDAY else {}
    return Refusal(f"meeting_syntax.{_SPOKEN_REFUSALS[error.problem]}", given=error.given, **extra)


def _read_spoken_when(words: list[str], today: date, locale: str) -> tuple[Recurrence, int] | None:
    """``明天晚上7点``, ``下周三 19:00``, ``每月 十五号晚上七点``: the spoken forms, or None.

    The first word (with a bare ``每月``/``每周`` before it) is the day, with or without its time
    attached; a day without a time takes the next word only when that word is a time of day,
    so a title is never read as part of the time.
    """
    used = 2 if len(words) > 1 and plain(words[0]) in _BARE_PREFIXES else 1
    day = "".join(words[:used])
    try:
        found = read_spoken(day, today)
    except SpokenTimeError as error:
        if error.problem is not Problem.MISSING_TIME or used >= len(words):
            raise _spoken_refusal(error, locale) from None
        try:
            at = read_clock(words[used])
        except SpokenTimeError:
            raise Refusal("meeting_syntax.bad_time", given=words[used]) from None
        if at is None:
            raise _spoken_refusal(error, locale) from None
        found = read_spoken(f"{day} {words[used]}", today)
        used += 1
    return None if found is None else (found, used)


def read_when(words: list[str], locale: str, today: date) -> tuple[Recurrence, int]:
    """The recurrence at the start of ``words`` and how many words it took.

    ``today`` (the local date) resolves relative days such as 明天 and 下周三.
    """
    if not words:
        raise Refusal("meeting_syntax.missing_when")
    first = plain(words[0])
    dated = _DATE.fullmatch(first)
    if not dated:
        spoken = _read_spoken_when(words, today, locale)
        if spoken is not None:
            return spoken
    if dated:
        year, month, day = (int(part) for part in dated.groups())
        try:
            once = date(year, month, day)
        except ValueError:
            raise Refusal("meeting_syntax.bad_date", given=words[0]) from None
        return Recurrence(Repeat.ONCE, _time(words, 1, words[0]), once=once), 2
    spec, used = "", 1
    weekly = first.startswith(_ZH_WEEKLY) or first == "weekly"
    monthly = first.startswith(_ZH_MONTHLY) or first == "monthly"
    if not (weekly or monthly):
        raise Refusal("meeting_syntax.bad_when", given=words[0])
    for prefix in (*_ZH_WEEKLY, *_ZH_MONTHLY, "weekly", "monthly"):
        if first.startswith(prefix):
            spec = first[len(prefix) :]
            break
    if not spec:  # "每月 15日", "monthly 15"
        if len(words) < 2:
            raise Refusal("meeting_syntax.bad_when", given=words[0])
        spec, used = plain(words[1]), 2
    if weekly:
        day = _weekday(spec, locale)
        return Recurrence(Repeat.WEEKLY, _time(words, used, spec), day=day), used + 1
    repeat, day, nth = _monthly(spec, locale)
    at = _time(words, used, spec)
    return Recurrence(repeat, at, day=day, nth=nth), used + 1


def check_when(recurrence: Recurrence, *, now: datetime, zone: ZoneInfo, given: str) -> None:
    """A one-off meeting must be ahead, and within a year."""
    if recurrence.once is None:
        return
    start = datetime.combine(recurrence.once, recurrence.at).replace(tzinfo=zone)
    if start <= now:
        raise Refusal("meeting_syntax.in_the_past", given=given)
    if start - now > MAX_AHEAD:
        raise Refusal("meeting_syntax.too_far", given=given, limit_days=MAX_AHEAD.days)


# ---- values -----------------------------------------------------------------------------


def check_title(text: str) -> str:
    return checked_title(text, MAX_TITLE, "meeting_syntax")


def check_place(key: str, value: str) -> str:
    place = " ".join(clean(value).split())
    if len(place) > MAX_PLACE:
        raise Refusal("meeting_syntax.place_too_long", length=len(place), limit=MAX_PLACE)
    return place


def check_link(key: str, value: str) -> str:
    link = value.strip()
    parts = urlsplit(link)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in link:
        raise Refusal("meeting_syntax.bad_link", key_name=key, given=link[:60])
    if len(link) > MAX_LINK:
        raise Refusal("meeting_syntax.link_too_long", limit=MAX_LINK)
    return link


_NO_REMINDERS = frozenset({"无", "不提醒", "none", "no", "off"})


def parse_reminders(key: str, value: str) -> tuple[timedelta, ...]:
    """``24h,1h`` -> (24h, 1h), longest first; ``无``/``none`` -> no reminders."""
    if plain(value) in _NO_REMINDERS:
        return ()
    offsets: set[timedelta] = set()
    for part in re.split(r"[,，、]", value):
        if not part.strip():
            continue
        try:
            offset = parse_duration(part)
        except DurationError:
            raise Refusal("meeting_syntax.bad_reminder", key_name=key, given=part.strip()) from None
        if offset < MIN_REMINDER:
            raise Refusal("meeting_syntax.reminder_too_short", key_name=key, given=part.strip())
        if offset > MAX_REMINDER:
            raise Refusal(
                "meeting_syntax.reminder_too_long",
                key_name=key,
                given=part.strip(),
                limit_days=MAX_REMINDER.days,
            )
        offsets.add(offset)
    if not offsets:
        raise Refusal("meeting_syntax.bad_reminder", key_name=key, given=value)
    if len(offsets) > MAX_REMINDERS:
        raise Refusal("meeting_syntax.too_many_reminders", count=len(offsets), limit=MAX_REMINDERS)
    return tuple(sorted(offsets, reverse=True))


def _topics(key: str, value: str) -> tuple[int, ...]:
    found: list[int] = []
    for part in re.split(r"[,，、\s]+", value.strip()):
        match = re.fullmatch(r"[#＃]?(\d{1,9})", part)
        if match is None:
            raise Refusal("meeting_syntax.bad_topics", key_name=key, given=part[:20])
        if int(match.group(1)) not in found:
            found.append(int(match.group(1)))
    if len(found) > MAX_TOPICS:
        raise Refusal("meeting_syntax.too_many_topics", count=len(found), limit=MAX_TOPICS)
    return tuple(found)


_scope = choice(
    "meeting_syntax.bad_scope",
    {"here": Scope.HERE, "本级": Scope.HERE, "all": Scope.ALL, "全部": Scope.ALL},
)
_holiday = choice(
    "meeting_syntax.bad_holiday",
    dict.fromkeys(("yes", "y", "on", "true", "shift", "是", "顺延"), True)
    | dict.fromkeys(("no", "n", "off", "false", "否", "不顺延"), False),
)

_KEYS: KeyTable[Callable[[str, str], object]] = KeyTable(
    {
        "place": Key("地点", "place", check_place),
        "link": Key("链接", "link", check_link),
        "reminders": Key("提醒", "remind", parse_reminders),
        "topic_ids": Key("议题", "topics", _topics),
        "scope": Key("范围", "scope", _scope),
        "holiday_shift": Key("节假日顺延", "holiday", _holiday),
    }
)


def _tokens(line: str) -> list[Word | Pair]:
    return tokenize(clean(line), "meeting_syntax")


def _today(now: datetime, zone: ZoneInfo) -> date:
    aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return aware.astimezone(zone).date()


def parse_meeting(text: str, *, now: datetime, zone: ZoneInfo, locale: str) -> MeetingDraft:
    """Parse the text after ``/meeting``. Raises :class:`Refusal` ``meeting_syntax.*`` only."""
    first, _, rest = text.partition("\n")
    words, given = split_line(_tokens(first), _KEYS, locale, "meeting_syntax")
    recurrence, used = read_when(words, locale, _today(now, zone))
    check_when(recurrence, now=now, zone=zone, given=" ".join(words[:used]))
    title = check_title(" ".join(words[used:]))
    note = clean(rest).strip()
    if len(note) > MAX_NOTE:
        raise Refusal("meeting_syntax.note_too_long", length=len(note), limit=MAX_NOTE)
    values = {field: _KEYS[field].parse(key, value) for field, (key, value) in given.items()}
    return MeetingDraft(
        title=title,
        note=note,
        recurrence=recurrence,
        place=value_of(values, "place", str, "") or None,
        link=value_of(values, "link", str, "") or None,
        reminders=value_of(values, "reminders", tuple, DEFAULT_REMINDERS),
        topic_ids=value_of(values, "topic_ids", tuple, ()),
        scope=value_of(values, "scope", Scope, Scope.HERE),
        holiday_shift=value_of(values, "holiday_shift", bool, False),
    )


def parse_when_text(text: str, *, now: datetime, zone: ZoneInfo, locale: str) -> Recurrence:
    """A ``<when>`` typed on its own (the guided ``/meeting``): nothing may follow it."""
    tokens = _tokens(text)
    words = [token.text for token in tokens if isinstance(token, Word)]
    if not words or len(words) != len(tokens):
        raise Refusal("meeting_syntax.bad_when", given=text.strip()[:40])
    recurrence, used = read_when(words, locale, _today(now, zone))
    if used != len(words):
        raise Refusal("meeting_syntax.bad_when", given=text.strip()[:40])
    check_when(recurrence, now=now, zone=zone, given=text.strip())
    return recurrence
