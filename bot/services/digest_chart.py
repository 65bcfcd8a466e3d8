"""The weekly picture in the Monday digest: escalations and turnout per grid, 8 weeks.

Chinese labels need a CJK font (Debian's ``fonts-noto-cjk``). Without one, labels fall back to
text any font renders (grid numbers, English words) and a warning is logged, rather than
drawing boxes.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

from bot.services.digest import WeeklySeries

log = logging.getLogger(__name__)

_CJK_HINTS = ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "Source Han", "Droid Sans Fallback")
MAX_GRIDS = 6


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
    """(family name, file) of an installed font with Chinese glyphs, if any."""
    _, font_manager, _ = _matplotlib()
    candidates = [
        entry
        for entry in font_manager.fontManager.ttflist
        if any(hint in entry.name for hint in _CJK_HINTS)
    ]
    # Simplified Chinese first ("Noto Sans CJK SC"), sans before serif.
    candidates.sort(key=lambda entry: (not entry.name.endswith("SC"), "Serif" in entry.name))
    for entry in candidates:
        if covers(entry.fname, "议事网格楼栋"):
            return entry.name, entry.fname
    return None


def covers(font_file: str, text: str) -> bool:
    _, _, ft2font = _matplotlib()
    charmap = ft2font(font_file).get_charmap()
    return all(ord(char) in charmap for char in text if not char.isspace())


def render_chart(series: WeeklySeries, labels: ChartLabels) -> Chart:
    font = cjk_font()
    grids = series.grids[:MAX_GRIDS]
    texts = [labels.title, labels.opened, labels.resolved, labels.turnout, *grids]
    if font is None and any(ord(char) > 0x2E7F for text in texts for char in text):
        log.warning("no CJK font installed (apt-get install fonts-noto-cjk): labelling by number")
        names = {grid: f"#{index + 1}" for index, grid in enumerate(grids)}
        labels = ChartLabels("Escalations and turnout, 8 weeks", "opened", "resolved", "turnout")
    else:
        names = {grid: grid for grid in grids}
    family = [font[0]] if font else ["DejaVu Sans"]
    weeks = [week.strftime("%m-%d") for week in series.weeks]
    drawn = [labels.title, labels.opened, labels.resolved, labels.turnout, *names.values(), *weeks]
    rows = max(len(grids), 1)
    plt, _, _ = _matplotlib()
    with plt.rc_context({"font.family": family, "axes.unicode_minus": False}):
        figure, axes = plt.subplots(rows, 1, figsize=(8, 2.2 * rows + 0.8), squeeze=False)
        figure.suptitle(labels.title)
        positions = list(range(len(weeks)))
        for row, grid in enumerate(grids or [""]):
            axis = axes[row][0]
            if grid:
                axis.bar(
                    [p - 0.2 for p in positions], series.opened[grid], 0.4, label=labels.opened
                )
                axis.bar(
                    [p + 0.2 for p in positions], series.resolved[grid], 0.4, label=labels.resolved
                )
                turnout_axis = axis.twinx()
                values = [v * 100 if v is not None else float("nan") for v in series.turnout[grid]]
                turnout_axis.plot(positions, values, "o-", color="tab:green", label=labels.turnout)
                turnout_axis.set_ylim(0, 100)
                turnout_axis.set_ylabel("%")
            axis.set_title(names.get(grid, ""), loc="left")
            axis.set_xticks(positions, weeks)
            if row == 0 and grid:
                handles, names_ = axis.get_legend_handles_labels()
                more, more_names = turnout_axis.get_legend_handles_labels()
                axis.legend(handles + more, names_ + more_names, loc="upper left", fontsize="small")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        plt.close(figure)
    return Chart(png=buffer.getvalue(), font=font[0] if font else None, labels=drawn)
