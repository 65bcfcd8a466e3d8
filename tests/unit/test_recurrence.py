"""Recurrence expansion (dateutil.rrule) and the statutory-holiday shift (chinese-calendar)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.services.meetings.recurrence import (
    Recurrence,
    Repeat,
    holiday_data_covers,
    is_statutory_holiday,
    local_starts,
    next_start,
    working_day_from,
)

ZONE = ZoneInfo("Asia/Shanghai")
SEVEN_PM = time(19, 0)


def days(recurrence: Recurrence, after: datetime, count: int) -> list[str]:
    return [f"{moment:%Y-%m-%d}" for moment in local_starts(recurrence, after, ZONE, count)]


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (31, ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31"]),
        (30, ["2027-01-30", "2027-02-28", "2027-03-30", "2027-04-30", "2027-05-30"]),
        (29, ["2027-01-29", "2027-02-28", "2027-03-29", "2027-04-29", "2027-05-29"]),
        (15, ["2027-01-15", "2027-02-15", "2027-03-15", "2027-04-15", "2027-05-15"]),
    ],
)
def test_a_day_of_the_month_past_a_short_month_s_end_is_its_last_day(
    day: int, expected: list[str]
) -> None:
    monthly = Recurrence(Repeat.MONTHLY_DAY, SEVEN_PM, day=day)
    assert days(monthly, local(2027, 1, 1), 5) == expected


def test_a_leap_february_keeps_its_29th() -> None:
    monthly = Recurrence(Repeat.MONTHLY_DAY, SEVEN_PM, day=31)
    assert days(monthly, local(2028, 2, 1), 2) == ["2028-02-29", "2028-03-31"]


def test_the_first_and_the_last_weekday_of_the_month() -> None:
    first_wednesday = Recurrence(Repeat.MONTHLY_NTH, SEVEN_PM, day=2, nth=1)
    assert days(first_wednesday, local(2026, 12, 1), 4) == [
        "2026-12-02",
        "2027-01-06",
        "2027-02-03",
        "2027-03-03",
    ]
    last_friday = Recurrence(Repeat.MONTHLY_NTH, SEVEN_PM, day=4, nth=-1)
    assert days(last_friday, local(2026, 12, 1), 3) == ["2026-12-25", "2027-01-29", "2027-02-26"]
    third_monday = Recurrence(Repeat.MONTHLY_NTH, SEVEN_PM, day=0, nth=3)
    assert days(third_monday, local(2027, 1, 1), 2) == ["2027-01-18", "2027-02-15"]


def test_weekly_and_strictly_after_the_moment_given() -> None:
    friday = Recurrence(Repeat.WEEKLY, time(19, 30), day=4)
    assert days(friday, local(2026, 12, 4, 19, 30), 2) == ["2026-12-11", "2026-12-18"]
    assert days(friday, local(2026, 12, 4, 19, 29), 1) == ["2026-12-04"]
    start = next_start(friday, local(2026, 12, 1), ZONE, holiday_shift=False)
    assert start is not None
    assert start.starts == datetime(2026, 12, 4, 11, 30, tzinfo=UTC)  # stored in UTC


def test_a_one_off_is_planned_once() -> None:
    once = Recurrence(Repeat.ONCE, SEVEN_PM, once=date(2026, 12, 15))
    assert days(once, local(2026, 12, 1), 3) == ["2026-12-15"]
    assert next_start(once, local(2026, 12, 15, 19), ZONE, holiday_shift=False) is None


def test_the_national_day_week_moves_a_meeting_to_the_next_working_day() -> None:
    monthly_first = Recurrence(Repeat.MONTHLY_DAY, SEVEN_PM, day=1)
    start = next_start(monthly_first, local(2025, 9, 15), ZONE, holiday_shift=True)
    assert start is not None and start.shifted and not start.holiday_unknown
    assert start.planned.astimezone(ZONE) == local(2025, 10, 1, 19)
    assert start.starts.astimezone(ZONE) == local(2025, 10, 9, 19)  # 国庆 2025: Oct 1-8
    unshifted = next_start(monthly_first, local(2025, 9, 15), ZONE, holiday_shift=False)
    assert unshifted is not None and not unshifted.shifted

    friday = Recurrence(Repeat.WEEKLY, SEVEN_PM, day=4)
    dates = []
    after = local(2025, 9, 25)
    for _ in range(3):
        moved = next_start(friday, after, ZONE, holiday_shift=True)
        assert moved is not None
        dates.append(f"{moved.starts.astimezone(ZONE):%m-%d}")
        after = moved.planned
    assert dates == ["09-26", "10-09", "10-10"]  # Fri Oct 3 is a holiday: Thu Oct 9


def test_weekends_and_make_up_working_days_are_not_holidays() -> None:
    assert not is_statutory_holiday(date(2025, 10, 18))  # an ordinary Saturday
    assert not is_statutory_holiday(date(2025, 10, 11))  # a Saturday worked in exchange (调休)
    assert not is_statutory_holiday(date(2025, 9, 28))  # a Sunday worked in exchange
    assert is_statutory_holiday(date(2026, 10, 7))
    assert working_day_from(date(2026, 10, 3)) == date(2026, 10, 8)
    assert working_day_from(date(2026, 10, 12)) == date(2026, 10, 12)


def test_a_year_the_holiday_data_does_not_cover_is_left_as_planned_and_said() -> None:
    assert holiday_data_covers(2026)
    assert not holiday_data_covers(2099)
    new_year = Recurrence(Repeat.MONTHLY_DAY, SEVEN_PM, day=1)
    start = next_start(new_year, local(2098, 12, 15), ZONE, holiday_shift=True)
    assert start is not None and start.holiday_unknown and not start.shifted
