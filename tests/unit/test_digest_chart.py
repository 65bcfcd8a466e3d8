"""The weekly chart's shape, read from the real figure rather than its pixels: counts on an
integer axis with one scale for every grid, the escalated and resolved bars of a week side by
side, and a community of 30 grids drawn as five readable pictures (issue 13, item 7)."""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from matplotlib import pyplot as plt
from matplotlib.image import imread
from matplotlib.patches import Rectangle

from bot.services.reports.digest import WeeklySeries
from bot.services.reports.digest_chart import (
    DPI,
    GRIDS_PER_PAGE,
    ROW_INCHES,
    TITLE_INCHES,
    WIDTH_INCHES,
    ChartLabels,
    chart_pages,
    draw_chart,
    render_chart,
)

UNTIL = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)
LABELS = ChartLabels("近 8 周各网格上报与参与率", "上报", "解决", "参与率")


def series(grids: int, *, most: int = 1) -> WeeklySeries:
    """``grids`` grids over 8 weeks; counts up to ``most``, every week of every grid busy."""
    weeks = [UNTIL - timedelta(weeks=8 - n) for n in range(8)]
    names = [f"第{n + 1}网格" for n in range(grids)]
    return WeeklySeries(
        weeks=weeks,
        grids=names,
        opened={name: [most if n % 2 else 1 for n in range(8)] for name in names},
        resolved={name: [1] * 8 for name in names},
        turnout={name: [0.5] * 8 for name in names},
    )


def count_axes(figure: Any) -> list[Any]:
    """The axes with the bars (the turnout axes share them and carry no patches)."""
    return [axis for axis in figure.axes if axis.patches]


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_thirty_grids_are_five_pictures_of_six_in_order() -> None:
    grids = [f"第{n}网格" for n in range(1, 31)]
    pages = chart_pages(grids)
    assert [len(page) for page in pages] == [GRIDS_PER_PAGE] * 5
    assert [grid for page in pages for grid in page] == grids
    assert chart_pages(grids[:3]) == [grids[:3]]
    assert [len(page) for page in chart_pages(grids[:7])] == [6, 1]


def test_counts_stand_on_an_integer_axis() -> None:
    # One matter at most: a free axis would be ticked 0, 0.2, 0.4 ... 1.
    figure, _ = draw_chart(series(3, most=1), LABELS)
    try:
        figure.canvas.draw()
        for axis in count_axes(figure):
            ticks = [tick for tick in axis.get_yticks() if 0 <= tick <= axis.get_ylim()[1]]
            assert ticks and all(float(tick).is_integer() for tick in ticks), ticks
    finally:
        plt.close(figure)


def test_each_weeks_bars_stand_side_by_side() -> None:
    figure, _ = draw_chart(series(3, most=2), LABELS)
    try:
        for axis in count_axes(figure):
            bars = sorted(
                (patch.get_x(), patch.get_x() + patch.get_width())
                for patch in axis.patches
                if isinstance(patch, Rectangle)
            )
            assert len(bars) == 16  # 8 weeks, an escalated and a resolved bar each
            for (_, right), (left, _) in pairwise(bars):
                assert right < left, bars  # a gap: no bar hides (or touches) another
    finally:
        plt.close(figure)


def test_every_grid_on_every_page_has_the_same_scale() -> None:
    busy = series(12, most=2)
    busy.opened["第9网格"][3] = 7  # the busiest grid is on the second page
    limits = set()
    for page in chart_pages(busy.grids):
        figure, chart = draw_chart(busy, LABELS, page)
        try:
            assert chart.grids == page
            limits |= {axis.get_ylim() for axis in count_axes(figure)}
        finally:
            plt.close(figure)
    assert len(limits) == 1
    ((low, high),) = limits
    assert low == 0 and high >= 7


def test_a_page_of_thirty_grids_is_a_png_of_the_expected_size() -> None:
    many = series(30, most=3)
    pages = chart_pages(many.grids)
    charts = [render_chart(many, LABELS, page) for page in pages]
    width = int(WIDTH_INCHES * DPI)
    for chart, page in zip(charts, pages, strict=True):
        height = round((ROW_INCHES * len(page) + TITLE_INCHES) * DPI)
        assert png_size(chart.png) == (width, height)
        pixels = imread(io.BytesIO(chart.png), format="png")
        assert pixels.shape[:2] == (height, width)
        assert pixels.std() > 0.05  # something is drawn, not a blank picture
        if chart.font is not None:  # without one, grids are numbered (the test below)
            assert all(grid in chart.labels for grid in page)


def test_without_a_page_the_first_six_grids_are_drawn() -> None:
    chart = render_chart(series(8), LABELS)
    if chart.font is None:
        pytest.skip("no CJK font here (apt-get install fonts-noto-cjk)")
    assert chart.grids == [f"第{n}网格" for n in range(1, 7)]


def test_without_a_cjk_font_grids_are_numbered_across_pages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.services.reports import digest_chart

    monkeypatch.setattr(digest_chart, "cjk_font", lambda: None)  # a machine without the font
    many = series(30)
    figure, chart = draw_chart(many, LABELS, chart_pages(many.grids)[1])
    plt.close(figure)
    assert chart.font is None
    assert chart.labels[0] == "Escalations and turnout, 8 weeks (2/5)"
    assert [f"#{n}" for n in range(7, 13)] == [label for label in chart.labels if "#" in label]
