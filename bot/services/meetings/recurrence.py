"""When a meeting happens: one-off or recurring, expanded by ``dateutil.rrule``.

A recurrence is a local wall-clock time (``YISHI_TIMEZONE``) and, for a series, a rule:
weekly on a weekday, monthly on a day of the month (the 31st means the last day of a shorter
month), or monthly on the n-th (or last) weekday. ``next_start`` gives the first occurrence
after a moment, in UTC, shifted off a Chinese statutory holiday to the next working day when
asked (the ``chinese-calendar`` package's data; a year it does not cover is left unshifted
and said so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]
from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday
from dateutil.rrule import weekdays as rrule_weekdays

from storage.records import Repeat

MAX_HOLIDAY_RUN = 60  # no run of non-working days is longer than this


@dataclass(frozen=True, slots=True)
class Recurrence:
    """``day`` is a weekday (0 = Monday) for weekly and n-th rules, a day of the month (1-31)
    for monthly-day rules; ``nth`` is 1-4 or -1 (the last); ``once`` is the local date."""

    repeat: Repeat
    at: time
    day: int | None = None
    nth: int | None = None
    once: date | None = None

    def __post_init__(self) -> None:
        match self.repeat:
            case Repeat.ONCE:
                ok = self.once is not None
            case Repeat.WEEKLY:
                ok = self.day is not None and 0 <= self.day <= 6
            case Repeat.MONTHLY_DAY:
                ok = self.day is not None and 1 <= self.day <= 31
            case Repeat.MONTHLY_NTH:
                ok = self.day is not None and 0 <= self.day <= 6 and self.nth in (1, 2, 3, 4, -1)
        if not ok:
            raise ValueError(f"an incomplete recurrence: {self!r}")

    @property
    def recurring(self) -> bool:
        return self.repeat is not Repeat.ONCE


@dataclass(frozen=True, slots=True)
class Start:
    """One occurrence: when the rule puts it, and when it happens after a holiday shift."""

    planned: datetime  # UTC
    starts: datetime  # UTC; differs from ``planned`` when moved off a holiday
    holiday_unknown: bool = False  # the holiday data does not cover its year

    @property
    def shifted(self) -> bool:
        return self.planned != self.starts


def rule(recurrence: Recurrence, dtstart: datetime) -> rrule:
    """The ``rrule`` of a series from ``dtstart`` (local, naive)."""
    hour, minute = recurrence.at.hour, recurrence.at.minute
    day = recurrence.day
    assert day is not None, "one-off meetings have no rule"
    match recurrence.repeat:
        case Repeat.WEEKLY:
            return rrule(
                WEEKLY, dtstart=dtstart, byweekday=day, byhour=hour, byminute=minute, bysecond=0
            )
        case Repeat.MONTHLY_NTH:
            assert recurrence.nth is not None
            nth: weekday = rrule_weekdays[day](recurrence.nth)
            return rrule(
                MONTHLY, dtstart=dtstart, byweekday=nth, byhour=hour, byminute=minute, bysecond=0
            )
        case _:
            # The 29th-31st fall back to a shorter month's last day: of the days from the
            # 28th to the one asked for, the last that the month has.
            days = tuple(range(28, day + 1)) if day > 28 else (day,)
            return rrule(
                MONTHLY,
                dtstart=dtstart,
                bymonthday=days,
                bysetpos=-1,
                byhour=hour,
                byminute=minute,
                bysecond=0,
            )


def local_starts(
    recurrence: Recurrence, after: datetime, zone: ZoneInfo, count: int
) -> list[datetime]:
    """Up to ``count`` planned local (naive) start times strictly after ``after`` (aware)."""
    local_after = after.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    if not recurrence.recurring:
        assert recurrence.once is not None
        once = datetime.combine(recurrence.once, recurrence.at)
        return [once] if once.replace(tzinfo=zone) > after else []
    expansion = rule(recurrence, local_after)
    found: list[datetime] = []
    moment: datetime | None = expansion.after(local_after, inc=False)
    while moment is not None and len(found) < count:
        if moment.replace(tzinfo=zone) > after:
            found.append(moment)
        moment = expansion.after(moment, inc=False)
    return found


def next_start(
    recurrence: Recurrence, after: datetime, zone: ZoneInfo, *, holiday_shift: bool
) -> Start | None:
    """The first occurrence planned strictly after ``after`` (aware), or None (a past one-off)."""
    planned = local_starts(recurrence, after, zone, 1)
    if not planned:
        return None
    return start_of(planned[0], zone, holiday_shift=holiday_shift)


def start_of(planned: datetime, zone: ZoneInfo, *, holiday_shift: bool) -> Start:
    """A planned local start, moved off a statutory holiday if asked."""
    planned_utc = planned.replace(tzinfo=zone).astimezone(UTC)
    if not holiday_shift:
        return Start(planned=planned_utc, starts=planned_utc)
    try:
        day = working_day_from(planned.date())
    except HolidayDataMissing:
        return Start(planned=planned_utc, starts=planned_utc, holiday_unknown=True)
    moved = datetime.combine(day, planned.time()).replace(tzinfo=zone).astimezone(UTC)
    return Start(planned=planned_utc, starts=moved)


class HolidayDataMissing(LookupError):
    """The holiday package has no data for this year."""

    def __init__(self, year: int) -> None:
        super().__init__(year)
        self.year = year


def is_statutory_holiday(day: date) -> bool:
    """A day off for a statutory festival (国庆, 春节...), not an ordinary weekend."""
    try:
        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        raise HolidayDataMissing(day.year) from None
    return bool(off) and name is not None


def working_day_from(day: date) -> date:
    """``day`` itself unless it is a statutory holiday; else the next working day (调休 too)."""
    if not is_statutory_holiday(day):
        return day
    candidate = day
    for _ in range(MAX_HOLIDAY_RUN):
        candidate += timedelta(days=1)
        try:
            if chinese_calendar.is_workday(candidate):
                return candidate
        except NotImplementedError:
            raise HolidayDataMissing(candidate.year) from None
    return candidate


def last_holiday_year() -> int:
    """The last year whose statutory holidays the installed ``chinese-calendar`` knows."""
    known: dict[date, object] = chinese_calendar.constants.holidays
    return max(known).year


def holiday_data_covers(year: int) -> bool:
    try:
        chinese_calendar.get_holiday_detail(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True
