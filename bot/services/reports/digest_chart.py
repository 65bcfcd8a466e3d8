"""The weekly picture in the Monday digest: escalations and turnout per grid, 8 weeks.

One row per grid, six grids a picture (a community of 30 grids gets five), every count axis
on the same integer scale, the escalated and resolved bars of a week side by side.

Chinese labels need a CJK font (Debian's ``fonts-noto-cjk``). Without one, labels fall back to
text any font renders (grid numbers, English words) and a warning is logged, rather than
drawing boxes.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from types import ModuleType
from typing import Any

from bot.services.reports.digest import WeeklySeries

log = logging.getLogger(__name__)

_CJK_HINTS = ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "Source Han", "Droid Sans Fallback")
# Six grids a picture: each row stays tall enough to read on a phone.
GRIDS_PER_PAGE = 6
WIDTH_INCHES, ROW_INCHES, TITLE_INCHES, DPI = 8.0, 2.2, 0.8, 100
BAR_WIDTH, BAR_GAP = 0.36, 0.04
ESCALATED_COLOUR, RESOLVED_COLOUR, TURNOUT_COLOUR = "tab:orange", "tab:blue", "tab:green"


@dataclass(frozen=True, slots=True)
class ChartLabels:
    title: str
    opened: str
    resolved: str
    turnout: str


@dataclass(frozen=True, slots=True)
class Chart:
    png: bytes
    font: str | None  # the CJK font used, or None when labels fell back
    labels: list[str]  # every text drawn, for checking coverage
    grids: list[str]  # the grids on this page


@cache
def _matplotlib() -> tuple[ModuleType, Any, Any]:
    """(pyplot, font_manager, FT2Font), imported on first use: matplotlib takes about a
    second and 40 MB to import, which every start-up paid for a chart drawn once a week."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to files only
    from matplotlib import font_manager
    from matplotlib import pyplot as plt
    from matplotlib.ft2font import FT2Font

    return plt, font_manager, FT2Font


@cache
def cjk_font() -> tuple[str, str] | None:
    """(family name, file) of an installed font with Chinese glyphs, if any.

    matplotlib keeps the fonts it found on its first run (``~/.cache/matplotlib``) and does
    not look again: a font installed since (``apt-get install fonts-noto-cjk`` after Yishi
    first drew a chart) is not in that list. So when it holds none, the system's font files
    it does not know are read once, here."""
    _, font_manager, _ = _matplotlib()
    found = _cjk_in(font_manager.fontManager.ttflist)
    if found is not None:
        return found
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in known:
            try:
                font_manager.fontManager.addfont(path)
            except Exception:  # a file matplotlib cannot read: as its own scan, skipped
                log.debug("font file %s not readable", path, exc_info=True)
    return _cjk_in(font_manager.fontManager.ttflist)


def _cjk_in(fonts: Sequence[Any]) -> tuple[str, str] | None:
    candidates = [entry for entry in fonts if any(hint in entry.name for hint in _CJK_HINTS)]
    # Simplified Chinese first ("Noto Sans CJK SC"), sans before serif, regular before bold;
    # then by file, as matplotlib lists the system's fonts in no fixed order.
    candidates.sort(
        key=lambda entry: (
            not entry.name.endswith("SC"),
            "Serif" in entry.name,
            entry.weight not in (400, "normal", "regular"),
            entry.fname,
        )
    )
    for entry in candidates:
        if covers(entry.fname, "议事网格楼栋"):
            return entry.name, entry.fname
    return None


def covers(font_file: str, text: str) -> bool:
    _, _, ft2font = _matplotlib()
    charmap = ft2font(font_file).get_charmap()
    return all(ord(char) in charmap for char in text if not char.isspace())


def chart_pages(grids: Sequence[str]) -> list[list[str]]:
    """The grids of each picture: a community of 30 grids gets 5 pictures of 6, each one
    readable on a phone, rather than one picture of 30 rows (or the first 6 alone)."""
    return [
        list(grids[start : start + GRIDS_PER_PAGE])
        for start in range(0, len(grids), GRIDS_PER_PAGE)
    ]


def bar_positions(weeks: int) -> tuple[list[float], list[float]]:
    """Where the escalated and the resolved bar of each week stand: side by side, a gap
    between them and between weeks, so neither hides the other."""
    return (
        [week - (BAR_WIDTH + BAR_GAP) / 2 for week in range(weeks)],
        [week + (BAR_WIDTH + BAR_GAP) / 2 for week in range(weeks)],
    )


def count_ceiling(series: WeeklySeries) -> int:
    """The top of every grid's count axis: the same scale on all of them (and on all pages),
    so a taller bar means more, whichever grid or picture it is in."""
    highest = max(
        (max(values, default=0) for values in (*series.opened.values(), *series.resolved.values())),
        default=0,
    )
    return max(highest, 1)


def draw_chart(
    series: WeeklySeries, labels: ChartLabels, grids: Sequence[str] | None = None
) -> tuple[Any, Chart]:
    """The figure of one page (``grids``, by default the first page's) and what it shows; the
    caller closes the figure. Tests look at the figure's axes instead of its pixels."""
    plt, _, _ = _matplotlib()
    from matplotlib.ticker import MaxNLocator

    font = cjk_font()
    page = list(series.grids[:GRIDS_PER_PAGE] if grids is None else grids)
    texts = [labels.title, labels.opened, labels.resolved, labels.turnout, *page]
    if font is None and any(ord(char) > 0x2E7F for text in texts for char in text):
        log.warning("no CJK font installed (apt-get install fonts-noto-cjk): labelling by number")
        names = {grid: f"#{series.grids.index(grid) + 1}" for grid in page}
        title = "Escalations and turnout, 8 weeks"
        total = len(chart_pages(series.grids))
        if total > 1 and page:  # the translated title said which picture this is
            title += f" ({series.grids.index(page[0]) // GRIDS_PER_PAGE + 1}/{total})"
        labels = ChartLabels(title, "opened", "resolved", "turnout")
    else:
        names = {grid: grid for grid in page}
    family = [font[0]] if font else ["DejaVu Sans"]
    weeks = [week.strftime("%m-%d") for week in series.weeks]
    drawn = [labels.title, labels.opened, labels.resolved, labels.turnout, *names.values(), *weeks]
    rows = max(len(page), 1)
    ceiling = count_ceiling(series)
    escalated_at, resolved_at = bar_positions(len(weeks))
    positions = list(range(len(weeks)))
    with plt.rc_context({"font.family": family, "axes.unicode_minus": False}):
        figure, axes = plt.subplots(
            rows,
            1,
            figsize=(WIDTH_INCHES, ROW_INCHES * rows + TITLE_INCHES),
            squeeze=False,
            layout="constrained",
        )
        figure.suptitle(labels.title)
        for row, grid in enumerate(page or [""]):
            axis = axes[row][0]
            if grid:
                axis.bar(
                    escalated_at,
                    series.opened[grid],
                    BAR_WIDTH,
                    label=labels.opened,
                    color=ESCALATED_COLOUR,
                )
                axis.bar(
                    resolved_at,
                    series.resolved[grid],
                    BAR_WIDTH,
                    label=labels.resolved,
                    color=RESOLVED_COLOUR,
                )
                # Counts are whole matters: no 0.5 on the axis.
                axis.yaxis.set_major_locator(MaxNLocator(integer=True))
                axis.set_ylim(0, ceiling * 1.1)
                turnout_axis = axis.twinx()
                values = [v * 100 if v is not None else float("nan") for v in series.turnout[grid]]
                turnout_axis.plot(
                    positions, values, "o-", color=TURNOUT_COLOUR, label=labels.turnout
                )
                turnout_axis.set_ylim(0, 100)
                turnout_axis.set_ylabel("%")
            axis.set_title(names.get(grid, ""), loc="left")
            axis.set_xticks(positions, weeks)
            if row == 0 and grid:
                handles, names_ = axis.get_legend_handles_labels()
                more, more_names = turnout_axis.get_legend_handles_labels()
                # Below the rows, not inside one: inside, it covered the first weeks' bars.
                figure.legend(
                    handles + more, names_ + more_names, loc="outside lower center", ncol=3
                )
    return figure, Chart(png=b"", font=font[0] if font else None, labels=drawn, grids=page)


def render_chart(
    series: WeeklySeries, labels: ChartLabels, grids: Sequence[str] | None = None
) -> Chart:
    """One page of the weekly chart as a PNG (see :func:`chart_pages`)."""
    plt, _, _ = _matplotlib()
    figure, chart = draw_chart(series, labels, grids)
    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    return replace(chart, png=buffer.getvalue())
