"""The staff pages' periods (presets and dates, in the deployment's zone) and their charts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.services.errors import Refusal
from bot.services.reports.stats import WINDOW
from bot.services.web.staff_record import dated, parse_day, preset_period
from channels.web.svg_charts import Bar, bar_chart

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 on 1 December in Shanghai


def test_30d_is_exactly_the_window_of_stats() -> None:
    period = preset_period("30d", NOW, ZONE)
    assert (period.since, period.until) == (NOW - WINDOW, NOW)


def test_months_and_years_are_local_calendar_ones() -> None:
    last = preset_period("last_month", NOW, ZONE)
    assert (last.first, last.last) == (date(2026, 11, 1), date(2026, 11, 30))
    assert last.since == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # local midnight
    this = preset_period("this_month", NOW, ZONE)
    assert (this.first, this.last) == (date(2026, 12, 1), date(2026, 12, 1))
    # Just before midnight UTC on 31 Dec is already 1 January in Shanghai: last month is Dec.
    new_year = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert preset_period("this_year", new_year, ZONE).first == date(2027, 1, 1)
    assert preset_period("last_month", new_year, ZONE).first == date(2026, 12, 1)


@pytest.mark.parametrize("text", ["2026-13-01", "２０２６-１２-０１", "12/01/2026", "", "2026-1-1"])
def test_a_date_that_is_not_one_is_refused_with_why(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_day(text)
    assert refused.value.key == "staff_record.bad_date"


def test_a_reversed_period_and_an_unknown_preset_are_refused() -> None:
    with pytest.raises(Refusal, match="period_reversed"):
        dated(date(2026, 12, 9), date(2026, 12, 1), ZONE)
    with pytest.raises(Refusal, match="bad_preset"):
        preset_period("forever", NOW, ZONE)


def test_a_chart_says_every_figure_in_its_description_and_escapes_names() -> None:
    bars = [Bar("<b>第一网格</b>", (50.0, 25.0), ("50%", "25%")), Bar("1号楼", (0.0,), ("0%",))]
    svg = str(bar_chart("chart-x", "参与率", "第一网格: 50% / 25%", bars))
    assert svg.startswith('<svg id="chart-x" class="chart" role="img"')
    assert '<title id="chart-x-title">参与率</title>' in svg
    assert '<desc id="chart-x-desc">第一网格: 50% / 25%</desc>' in svg
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert "style=" not in svg  # the pages' CSP allows no inline style attribute
    assert svg.count("<rect") == 3
