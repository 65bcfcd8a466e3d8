"""The weekly digest's chart, drawn in a chat's language: one PNG per page of grids, each
page's title saying which of how many (Telegram sends them as photos, WeCom through the
staff group's push webhook)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.services.reports.digest import WeeklySeries
from bot.services.reports.digest_chart import ChartLabels, chart_pages, render_chart
from locales import Translator


@dataclass(frozen=True, slots=True)
class ChartPage:
    number: int  # from 1
    pages: int
    suffix: str  # "（第 1/2 页）" when there are several pages, else ""
    png: bytes


async def weekly_charts(
    locale: str, weekly: WeeklySeries, translator: Translator
) -> list[ChartPage]:
    """Every page of the chart (drawn off the event loop: matplotlib takes a while)."""
    pages = chart_pages(weekly.grids)
    drawn = []
    for number, grids in enumerate(pages, 1):
        suffix = (
            translator.plain(locale, "digest.chart_page", page=number, pages=len(pages))
            if len(pages) > 1
            else ""
        )
        labels = ChartLabels(
            title=translator.plain(locale, "digest.chart_title") + suffix,
            opened=translator.plain(locale, "digest.chart_opened"),
            resolved=translator.plain(locale, "digest.chart_resolved"),
            turnout=translator.plain(locale, "digest.chart_turnout"),
        )
        chart = await asyncio.to_thread(render_chart, weekly, labels, grids)
        drawn.append(ChartPage(number, len(pages), suffix, chart.png))
    return drawn
