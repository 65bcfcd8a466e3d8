"""Household invitations as pictures and paper: one QR code PNG for a link (segno, no Pillow),
and the sheet to post at the building's entrance (扫码): A4 pages of six households each, the
unit large, its QR code, a short instruction, as a PDF (matplotlib's PDF backend) and as PNG
pages for channels that take pictures only (a WeCom push webhook).

Chinese words need a CJK font (Debian's ``fonts-noto-cjk``), found as the digest chart finds
it; without one the instruction falls back to the English words given, rather than boxes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import segno

from bot.services.reports.digest_chart import _matplotlib, cjk_font

# A4 portrait in inches; two columns of three households a page, each cell cut apart easily.
A4_INCHES = (8.27, 11.69)
COLUMNS, ROWS = 2, 3
PER_PAGE = COLUMNS * ROWS
PNG_DPI = 150  # 1240 x 1754 pixels a page: sharp when printed, well under WeCom's 2 MB


@dataclass(frozen=True, slots=True)
class SheetEntry:
    unit: str
    link: str


@dataclass(frozen=True, slots=True)
class SheetWords:
    """The words on every cell, in the building's language, and the English ones drawn
    instead when no CJK font is installed."""

    building: str
    instruction: str  # 扫码参与本楼议事
    fallback_instruction: str = "Scan to take part in your building's consultations"


def qr_png(link: str, *, scale: int = 8) -> bytes:
    """The link as a QR code PNG (error correction M, the standard 4-module quiet zone)."""
    out = io.BytesIO()
    segno.make(link, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def pages(entries: Sequence[SheetEntry]) -> list[list[SheetEntry]]:
    return [list(entries[start : start + PER_PAGE]) for start in range(0, len(entries), PER_PAGE)]


def sheet_pdf(entries: Sequence[SheetEntry], words: SheetWords) -> bytes:
    """Every household's cell on A4 pages, one PDF. Drawn on figures of their own (no pyplot
    state), so it may run in a worker thread off the event loop."""
    _matplotlib()  # the backend chosen, fonts known
    from matplotlib.backends.backend_pdf import PdfPages

    out = io.BytesIO()
    with PdfPages(out) as pdf:
        for page in pages(entries):
            pdf.savefig(_draw_page(page, words))
    return out.getvalue()


def sheet_pngs(entries: Sequence[SheetEntry], words: SheetWords) -> list[bytes]:
    """The same pages as PNG pictures (for a channel that sends pictures only)."""
    _matplotlib()
    pictures = []
    for page in pages(entries):
        picture = io.BytesIO()
        _draw_page(page, words).savefig(picture, format="png", dpi=PNG_DPI)
        pictures.append(picture.getvalue())
    return pictures


def _draw_page(page: Sequence[SheetEntry], words: SheetWords) -> Any:
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    font = cjk_font()
    instruction, building = words.instruction, words.building
    if font is None:
        instruction = words.fallback_instruction
        building = building if building.isascii() else ""
    family = [font[0]] if font else ["DejaVu Sans"]
    figure = Figure(figsize=A4_INCHES)
    for index, entry in enumerate(page):
        row, column = divmod(index, COLUMNS)
        left, bottom = column / COLUMNS, 1 - (row + 1) / ROWS
        width, height = 1 / COLUMNS, 1 / ROWS
        # the unit, large, at the top of the cell
        figure.text(
            left + width / 2,
            bottom + height * 0.90,
            entry.unit,
            ha="center",
            va="center",
            fontsize=30,
            fontweight="bold",
            family=family,
        )
        side = height * 0.62 * A4_INCHES[1] / A4_INCHES[0]  # a square in figure units
        axes = figure.add_axes(
            (left + (width - side) / 2, bottom + height * 0.18, side, height * 0.62)
        )
        matrix = [
            [1 - int(bool(cell)) for cell in line]
            for line in segno.make(entry.link, error="m", micro=False).matrix_iter(border=4)
        ]
        axes.imshow(matrix, cmap="gray", interpolation="nearest", vmin=0, vmax=1)
        axes.set_axis_off()
        figure.text(
            left + width / 2,
            bottom + height * 0.11,
            instruction,
            ha="center",
            va="center",
            fontsize=13,
            family=family,
        )
        if building:
            figure.text(
                left + width / 2,
                bottom + height * 0.05,
                building,
                ha="center",
                va="center",
                fontsize=10,
                color="0.35",
                family=family,
            )
        # a light frame to cut along
        figure.add_artist(
            Rectangle(
                (left + 0.01, bottom + 0.005),
                width - 0.02,
                height - 0.01,
                fill=False,
                edgecolor="0.8",
                linewidth=0.5,
                transform=figure.transFigure,
            )
        )
    return figure
