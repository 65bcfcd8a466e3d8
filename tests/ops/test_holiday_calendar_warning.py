"""The start-up warning that the installed chinese-calendar does not know the running year, so
meetings can no longer be shifted off its statutory holidays (节假日顺延)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.holiday_calendar import warn_if_holiday_calendar_is_stale
from bot.services.meetings.recurrence import holiday_data_covers, last_holiday_year
from tests.auxil.harness import Harness
from tests.auxil.world import RESIDENT
from tests.conftest import fresh_postgres_database

SHANGHAI = ZoneInfo("Asia/Shanghai")
LAST = last_holiday_year()
CALENDAR = "bot.holiday_calendar"


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == CALENDAR and record.levelno == logging.WARNING
    ]


def test_the_last_year_is_the_last_one_the_calendar_answers_for() -> None:
    assert holiday_data_covers(LAST)
    assert not holiday_data_covers(LAST + 1)


def test_a_year_past_the_calendar_is_warned_about_once_with_what_to_do(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert warn_if_holiday_calendar_is_stale(datetime(LAST + 1, 3, 1, tzinfo=UTC), SHANGHAI)
    [warning] = warnings(caplog)
    assert f"only up to {LAST}, and it is {LAST + 1} now" in warning
    assert "节假日顺延" in warning
    assert "pip install -U chinese-calendar" in warning


def test_a_year_the_calendar_knows_is_not_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    assert not warn_if_holiday_calendar_is_stale(
        datetime(LAST, 12, 31, 15, 59, tzinfo=UTC), SHANGHAI
    )
    assert warnings(caplog) == []


def test_the_year_is_the_local_one(caplog: pytest.LogCaptureFixture) -> None:
    # 31 December 16:00 UTC is already 1 January 00:00 in Shanghai, but not in London.
    new_year_in_shanghai = datetime(LAST, 12, 31, 16, 0, tzinfo=UTC)
    assert not warn_if_holiday_calendar_is_stale(new_year_in_shanghai, ZoneInfo("Europe/London"))
    assert warn_if_holiday_calendar_is_stale(new_year_in_shanghai, SHANGHAI)
    assert len(warnings(caplog)) == 1


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
@pytest.mark.parametrize(("year", "warned"), [(LAST + 1, 1), (LAST, 0)])
async def test_the_bot_warns_at_start_when_its_clock_is_past_the_calendar(
    database: str, year: int, warned: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def start_and_stop(url: str | None) -> None:
        harness = Harness(tmp_path, database_url=url)
        harness.clock = ManualClock(datetime(year, 6, 1, 1, 0, tzinfo=UTC))
        await harness.start()
        try:  # a warning, not a stop: the bot answers
            harness.user(RESIDENT, "钱阿姨")
            reply = await harness.say(RESIDENT, RESIDENT, "/start")
            assert "/register" in (reply.text or "")
        finally:
            await harness.stop()

    if database == "sqlite":
        await start_and_stop(None)
    else:
        async with fresh_postgres_database() as url:
            await start_and_stop(url)
    assert len(warnings(caplog)) == warned
