"""Bar charts drawn on the server as inline SVG: no script, nothing fetched, readable without
the picture (a ``<title>`` and a ``<desc>`` that says every bar's figure; the page's table
beside it holds the same numbers). Colours are SVG attributes, not CSS (the pages' strict
Content-Security-Policy allows no inline style attribute)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 130
BAR_SPACE = 220
VALUE_WIDTH = 90
COLOURS = ("#b3261e", "#6b7280")  # the period, the period compared with


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    values: tuple[float, ...]  # one per period shown (1 or 2)
    shown: tuple[str, ...]  # each value as written beside its bar ("62.5%", "3")


def bar_chart(chart_id: str, title: str, desc: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, one group per label, a bar per period; scaled to the largest value."""
    top = max((value for bar in bars for value in bar.values), default=0.0) or 1.0
    per_group = max((len(bar.values) for bar in bars), default=1)
    group_height = per_group * BAR_HEIGHT + GAP
    height = max(1, len(bars)) * group_height + GAP
    width = LABEL_WIDTH + BAR_SPACE + VALUE_WIDTH
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
    ]
    for index, bar in enumerate(bars):
        y = GAP + index * group_height
        label = bar.label if len(bar.label) <= 12 else bar.label[:11] + "…"
        middle = y + per_group * BAR_HEIGHT / 2 + 4
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{middle:.0f}" text-anchor="end" '
            f'font-size="13" fill="#1d2330">{escape(label)}</text>'
        )
        for slot, (value, shown) in enumerate(zip(bar.values, bar.shown, strict=True)):
            length = max(0.0, value) / top * BAR_SPACE
            bar_y = y + slot * BAR_HEIGHT
            colour = COLOURS[slot % len(COLOURS)]
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{bar_y}" width="{length:.1f}" '
                f'height="{BAR_HEIGHT - 4}" fill="{colour}"/>'
            )
            parts.append(
                f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{bar_y + BAR_HEIGHT - 8}" '
                f'font-size="12" fill="#1d2330">{escape(shown)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
