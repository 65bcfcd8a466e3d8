"""Dates and times as people say them: ``明天晚上7点``, ``下周三 19:00``, ``12月15日下午3点``,
``每月十五号晚上七点``, ``每周五晚7点半``, ``每月第一个周三晚上7点``.

:func:`read_spoken` returns a :class:`Recurrence` (a one-off with its local date, or a
series), ``None`` when the text is not in any of these forms at all (the caller then tries
its own forms or says what it expects), and raises :class:`SpokenTimeError` when the form is
recognised but a value in it is impossible (``13月``, ``下周八``, ``每月三十二号``,
``晚上25点``): a value is refused, never guessed.

Relative days resolve against ``today`` (the local date of the injected clock, in
``YISHI_TIMEZONE``). Weeks start on Monday, as Chinese calendars print them:
``本周三``/``这周三`` is the Wednesday of the current week (possibly already past: the caller
refuses a past moment), ``下周三`` the Wednesday of the following week, ``下下周三`` the one
after; a bare ``周三`` is the nearest Wednesday from today on. ``12月15日`` without a year is
the next such day from today on. The time of day is required (``明天`` alone is refused as
missing its time); a time alone (``晚上7点``) is today.

The part of day decides the hour: 下午/傍晚 add 12 to 1–11; 晚上/晚 add 12 to 5–11 and refuse
12 and 0–4 (midnight or small hours are 凌晨, or 0:00 of the next day); 中午 takes 11–14 (1–2
as 13–14); 凌晨/早上/上午 take 0–12. Minutes: ``半`` 30, ``一刻`` 15, ``三刻`` 45, ``整`` 0,
or a number (``30分``, ``零五``, ``:05``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time, timedelta
from enum import StrEnum

from bot.numerals import NUMERAL, NotANumber, number
from bot.services.meetings.recurrence import Recurrence
from storage.records import Repeat


class Problem(StrEnum):
    """What is impossible in a recognised form."""

    TIME = "time"  # 晚上25点, 7点60分
    DATE = "date"  # 13月5日, 2月30日
    MISSING_TIME = "missing_time"  # 明天
    MONTH_DAY = "month_day"  # 每月三十二号
    WEEKDAY = "weekday"  # 下周八
    NTH = "nth"  # 每月第五个周三


class SpokenTimeError(ValueError):
    def __init__(self, problem: Problem, given: str) -> None:
        super().__init__(problem, given)
        self.problem = problem
        self.given = given


_PERIOD = r"凌晨|早上|早晨|清晨|上午|中午|下午|傍晚|晚上|夜里|夜间|晚"
_CLOCK = re.compile(
    rf"(?P<period>{_PERIOD})?"
    rf"(?:(?P<hour>{NUMERAL})(?:点钟|点|时)"
    rf"(?:(?P<named>半|[一1]刻|[三3]刻|整)|(?P<minute>{NUMERAL})分?)?"
    r"|(?P<hh>[0-9]{1,2}):(?P<mm>[0-9]{2}))"
)
_NAMED_MINUTES = {"半": 30, "一刻": 15, "1刻": 15, "三刻": 45, "3刻": 45, "整": 0}
_WEEK = r"(?:周|星期|礼拜)"
_WEEKDAY = r"(?P<weekday>[一二三四五六七八九十日天0-9])"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAYS |= {str(number): number - 1 for number in range(1, 8)}
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}
_WEEKS_AHEAD = {"这": 0, "本": 0, "下": 1, "下下": 2}
_NTHS = {"最后": -1, "最后一": -1}

# Each form is the day part; the time of day follows it (group "clock").
_FORMS: list[tuple[str, re.Pattern[str]]] = [
    (
        "monthly_nth",
        re.compile(rf"每个?月(?:第?(?P<nth>最后一?|{NUMERAL})个?){_WEEK}{_WEEKDAY}(?P<clock>.*)"),
    ),
    ("monthly_day", re.compile(rf"每个?月(?P<day>(?P<number>{NUMERAL})(?:日|号)?)(?P<clock>.*)")),
    ("weekly", re.compile(rf"每个?{_WEEK}{_WEEKDAY}(?P<clock>.*)")),
    ("relative", re.compile(r"(?P<relative>大后天|后天|明天|明日|今天|今日)(?P<clock>.*)")),
    ("week", re.compile(rf"(?P<which>下下|下|这|本)?个?{_WEEK}{_WEEKDAY}(?P<clock>.*)")),
    (
        "month_day",
        re.compile(
            rf"(?:(?P<year>{NUMERAL})年)?(?P<month>{NUMERAL})月(?P<day>{NUMERAL})(?:日|号)"
            r"(?P<clock>.*)"
        ),
    ),
    (
        "iso_date",
        re.compile(
            r"(?P<year>[0-9]{4})[-/.](?P<month>[0-9]{1,2})[-/.](?P<day>[0-9]{1,2})(?P<clock>.*)"
        ),
    ),
    ("clock_only", re.compile(r"(?P<clock>.+)")),
]


def compact(text: str) -> str:
    """``text`` as the forms are matched: NFKC (full-width digits and colon), no spaces."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def read_spoken(text: str, today: date) -> Recurrence | None:
    """The moment or series ``text`` says; None when it is in none of the spoken forms."""
    spoken = compact(text)
    if not spoken:
        return None
    for form, pattern in _FORMS:
        match = pattern.fullmatch(spoken)
        if match is None:
            continue
        clock_text = match["clock"]
        day_text = spoken[: len(spoken) - len(clock_text)]
        at = read_clock(clock_text)
        if at is not None:
            return _day(form, match, day_text, today, at)
        if clock_text:  # followed by something that is not a time of day: not this form
            return None
        _day(form, match, day_text, today)  # an impossible day is named before the time
        raise SpokenTimeError(Problem.MISSING_TIME, day_text)
    return None


def is_spoken_day(text: str) -> bool:
    """Whether ``text`` is written as a day without its time (``明天``, ``下周三``, ``13月5日``),
    whether or not that day exists: the word after it may be its time."""
    spoken = compact(text)
    return any(
        form != "clock_only" and match is not None and not match["clock"]
        for form, match in ((form, pattern.fullmatch(spoken)) for form, pattern in _FORMS)
    )


def _number(text: str, problem: Problem, given: str) -> int:
    try:
        return number(text)
    except NotANumber:
        raise SpokenTimeError(problem, given) from None


def read_clock(text: str) -> time | None:
    """The time of day ``text`` says (``19:00``, ``晚上7点半``); None when it is not one."""
    match = _CLOCK.fullmatch(compact(text))
    if match is None:
        return None
    if match["hh"] is not None:
        hour, minute = int(match["hh"]), int(match["mm"])
    else:
        hour = _number(match["hour"], Problem.TIME, text)
        if match["named"] is not None:
            minute = _NAMED_MINUTES[match["named"]]
        elif match["minute"] is not None:
            minute = _number(match["minute"], Problem.TIME, text)
        else:
            minute = 0
    hour = _hour_in_period(match["period"], hour, text)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise SpokenTimeError(Problem.TIME, text)
    return time(hour, minute)


def _hour_in_period(period: str | None, hour: int, text: str) -> int:
    if period is None:
        allowed, shift = range(24), range(0)
    elif period in ("凌晨", "早上", "早晨", "清晨", "上午"):
        allowed, shift = range(13), range(0)
    elif period == "中午":
        allowed, shift = range(11, 15), range(1, 3)
    elif period in ("下午", "傍晚"):
        allowed, shift = range(12, 24), range(1, 12)
    else:  # 晚上, 晚, 夜里, 夜间
        allowed, shift = range(17, 24), range(5, 12)
    if hour in shift:
        return hour + 12
    if hour in allowed:
        return hour
    raise SpokenTimeError(Problem.TIME, text)


def _weekday(match: re.Match[str]) -> int:
    found = _WEEKDAYS.get(match["weekday"])
    if found is None:
        raise SpokenTimeError(Problem.WEEKDAY, match["weekday"])
    return found


def _calendar_day(year: int, month: int, day: int, given: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise SpokenTimeError(Problem.DATE, given) from None


def _day(
    form: str, match: re.Match[str], day_text: str, today: date, at: time = time(0)
) -> Recurrence:
    """The day part of a matched form, as a recurrence at ``at``."""
    match form:
        case "monthly_nth":
            weekday = _weekday(match)
            nth = _NTHS.get(match["nth"]) or _number(match["nth"], Problem.NTH, day_text)
            if nth not in (1, 2, 3, 4, -1):
                raise SpokenTimeError(Problem.NTH, day_text)
            return Recurrence(Repeat.MONTHLY_NTH, at, day=weekday, nth=nth)
        case "monthly_day":
            day = _number(match["number"], Problem.MONTH_DAY, match["day"])
            if not 1 <= day <= 31:
                raise SpokenTimeError(Problem.MONTH_DAY, match["day"])
            return Recurrence(Repeat.MONTHLY_DAY, at, day=day)
        case "weekly":
            return Recurrence(Repeat.WEEKLY, at, day=_weekday(match))
        case "relative":
            once = today + timedelta(days=_RELATIVE_DAYS[match["relative"]])
        case "week":
            weekday = _weekday(match)
            if match["which"] is None:  # 周三: the nearest one from today on
                once = today + timedelta(days=(weekday - today.weekday()) % 7)
            else:
                monday = today - timedelta(days=today.weekday())
                once = monday + timedelta(weeks=_WEEKS_AHEAD[match["which"]], days=weekday)
        case "month_day" | "iso_date":
            month = _number(match["month"], Problem.DATE, day_text)
            day = _number(match["day"], Problem.DATE, day_text)
            if match["year"] is not None:
                year = _number(match["year"], Problem.DATE, day_text)
                once = _calendar_day(year, month, day, day_text)
            else:
                once = _next_month_day(month, day, today, day_text)
        case _:  # clock_only: today
            once = today
    return Recurrence(Repeat.ONCE, at, once=once)


def _next_month_day(month: int, day: int, today: date, given: str) -> date:
    """The next ``month``/``day`` from today on (29 February: the next leap year's)."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise SpokenTimeError(Problem.DATE, given)
    for year in range(today.year, today.year + 8):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise SpokenTimeError(Problem.DATE, given)
