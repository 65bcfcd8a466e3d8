"""/staff/participation: participation and outcomes of a node (and all below it) over a
period, and beside it another period with the difference: /stats's figures
(``StatsService.figures``, the same queries), turnout by grid and by building, topics by
category, outcomes, time to resolution and the residents' ratings, as tables and as SVG bars.

The period: ``preset`` (``30d``: /stats's own window; ``this_month``, ``last_month``,
``this_year``) or ``from``/``to`` (local dates); the one compared with: ``cpreset`` or
``cfrom``/``cto``. ``node``: a node of the person's scope (default: their first)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from aiohttp import web
from markupsafe import Markup

from bot.commands.stats import OUTCOME_ORDER, duration_said, in_order, percent_text
from bot.services.errors import Refusal
from bot.services.reports.stats import NodeStats
from bot.services.web.staff_record import (
    PRESETS,
    Participation,
    Period,
    StaffRecord,
    TurnoutRow,
    dated,
    preset_period,
)
from channels.web.server import Web, small_number
from channels.web.staff_record import query_day, query_text, staff_of
from channels.web.svg_charts import Bar, bar_chart
from storage.records import Rating
from storage.repositories.stats import TurnoutSum


@dataclass(frozen=True, slots=True)
class Figure:
    """One line of the figures table: this period's, the other's, the difference."""

    key: str
    label: Markup
    a: str
    b: str | None
    diff: str | None


def _share(turnout: TurnoutSum) -> Fraction | None:
    return Fraction(turnout.cast, turnout.eligible) if turnout.eligible else None


def _percent(share: Fraction | None) -> str:
    return f"{percent_text(share)}%" if share is not None else "—"


def _signed(number: int) -> str:
    return f"+{number}" if number > 0 else str(number)


def _points(a: Fraction | None, b: Fraction | None) -> str | None:
    if a is None or b is None:
        return None
    change = (a - b) * 100
    sign = "+" if change > 0 else "-" if change < 0 else ""
    return f"{sign}{percent_text(abs(change) / 100)}"


def period_from(
    request: web.Request, prefix: str, site: Web, *, default: str | None
) -> Period | None:
    """The period the query asks for under ``prefix`` ("" or "c"), else ``default``'s."""
    zone = site.services.settings.zone
    now = site.services.clock.now()
    first, last = query_day(request, f"{prefix}from"), query_day(request, f"{prefix}to")
    if first is not None or last is not None:
        today = now.astimezone(zone).date()
        return dated(first or last or today, last or today, zone)
    preset = query_text(request, f"{prefix}preset", 20) or default
    if preset is None:
        return None
    if preset not in PRESETS:
        raise Refusal("staff_record.bad_preset", given=preset)
    return preset_period(preset, now, zone)


def add_routes(app: web.Application, site: Web) -> None:
    record = StaffRecord(site.services)

    def figures_table(locale: str, a: NodeStats, b: NodeStats | None) -> list[Figure]:
        def t(key: str) -> Markup:
            return site.t(locale, key)

        out: list[Figure] = []

        def count(key: str, label: Markup, get: object) -> None:
            assert callable(get)
            first = int(get(a))
            other = int(get(b)) if b is not None else None
            out.append(
                Figure(
                    key,
                    label,
                    str(first),
                    str(other) if other is not None else None,
                    _signed(first - other) if other is not None else None,
                )
            )

        count("published", t("staff_record.fig_published"), lambda f: f.published)
        count("open", t("staff_record.fig_open"), lambda f: f.open_now)
        count("closed", t("staff_record.fig_closed"), lambda f: f.closed)
        verdicts = dict(in_order(a.outcomes, OUTCOME_ORDER))
        if b is not None:
            verdicts.update(in_order(b.outcomes, OUTCOME_ORDER))
        for verdict in [v for v in OUTCOME_ORDER if v in verdicts] + sorted(
            v for v in verdicts if v not in OUTCOME_ORDER
        ):
            plain = "unresolved_plain" if verdict == "unresolved" else verdict
            label = t(f"stats.outcome_{plain}") if verdict in OUTCOME_ORDER else Markup(verdict)
            count(
                f"outcome-{verdict}",
                label,
                lambda f, v=verdict: f.outcomes.get(v, 0),
            )
        share_a = a.turnout
        share_b = b.turnout if b is not None else None
        out.append(
            Figure(
                "turnout",
                t("staff_record.fig_turnout"),
                f"{_percent(share_a)} ({a.cast}/{a.eligible})",
                f"{_percent(share_b)} ({b.cast}/{b.eligible})" if b is not None else None,
                _points(share_a, share_b),
            )
        )
        count("voting", t("staff_record.fig_voting"), lambda f: f.voting_topics)
        count(
            "escalations", t("staff_record.fig_escalations"), lambda f: sum(f.escalations.values())
        )
        count("waiting", t("staff_record.fig_waiting"), lambda f: f.waiting)
        count("resolved", t("staff_record.fig_resolved"), lambda f: f.resolved)

        def median(f: NodeStats) -> str:
            if f.median_resolution is None:
                return "—"
            return str(site.writer.said(locale, duration_said(f.median_resolution)))

        out.append(
            Figure(
                "median",
                t("staff_record.fig_median"),
                median(a),
                median(b) if b is not None else None,
                None,
            )
        )
        for rating in Rating:
            count(
                f"rating-{rating}",
                t(f"escalation.rate_{rating}"),
                lambda f, r=rating: f.ratings.get(r, 0),
            )
        return out

    def turnout_bars(
        rows: tuple[TurnoutRow, ...], other: tuple[TurnoutRow, ...] | None
    ) -> list[Bar]:
        others = {row.node.id: row.turnout for row in other or ()}
        bars: list[Bar] = []
        for row in rows:
            shares = [_share(row.turnout)]
            if other is not None:
                shares.append(_share(others.get(row.node.id, TurnoutSum(0, 0, 0))))
            bars.append(
                Bar(
                    row.node.name,
                    tuple(float(s * 100) if s is not None else 0.0 for s in shares),
                    tuple(_percent(s) for s in shares),
                )
            )
        return bars

    def count_bars(
        keys: list[str], a: dict[str, int], b: dict[str, int] | None, label: object
    ) -> list[Bar]:
        assert callable(label)
        bars = []
        for key in keys:
            values = [a.get(key, 0)] + ([b.get(key, 0)] if b is not None else [])
            bars.append(
                Bar(str(label(key)), tuple(float(v) for v in values), tuple(map(str, values)))
            )
        return bars

    def describe(bars: list[Bar]) -> str:
        return "; ".join(f"{bar.label}: {' / '.join(bar.shown)}" for bar in bars) or "—"

    async def participation(request: web.Request) -> web.StreamResponse:
        staff = await staff_of(site, record, request)
        viewer = staff.viewer
        locale = viewer.locale
        scope = await record.nodes(viewer.actor, staff.roots)
        by_id = {node.id: node for node in scope}
        refused: Markup | None = None
        node = staff.roots[0]
        period: Period | None = None
        compared: Period | None = None
        a: Participation | None = None
        b: Participation | None = None
        try:
            asked = query_text(request, "node", 12)
            if asked is not None:
                number = small_number(asked.lstrip("#"))
                if number is None:
                    raise Refusal("staff_record.bad_node", given=asked)
                if number not in by_id:
                    raise Refusal("staff_record.node_outside", id=number)
                node = by_id[number]
            period = period_from(request, "", site, default="30d")
            compared = period_from(request, "c", site, default=None)
            assert period is not None
            a = await record.participation(viewer.actor, node, period)
            if compared is not None:
                b = await record.participation(viewer.actor, node, compared)
        except Refusal as refusal:
            refused = site.refusal(locale, refusal)
        charts: list[Markup] = []
        tables: dict[str, object] = {}
        if a is not None:
            fb = b.figures if b is not None else None
            tables["figures"] = figures_table(locale, a.figures, fb)
            title = str(site.t(locale, "staff_record.chart_grids"))
            grid_bars = turnout_bars(a.grids, b.grids if b else None)
            building_bars = turnout_bars(a.buildings, b.buildings if b else None)
            verdicts = [
                v for v in OUTCOME_ORDER if a.figures.outcomes.get(v) or (fb and fb.outcomes.get(v))
            ]
            outcome_bars = count_bars(
                verdicts,
                a.figures.outcomes,
                fb.outcomes if fb else None,
                lambda v: site.t(
                    locale, f"stats.outcome_{'unresolved_plain' if v == 'unresolved' else v}"
                ),
            )
            categories = sorted(set(a.figures.categories) | set(fb.categories if fb else ()))
            category_bars = count_bars(
                categories,
                a.figures.categories,
                fb.categories if fb else None,
                lambda key: category_name(locale, key),
            )
            rating_bars = count_bars(
                list(Rating),
                a.figures.ratings,
                fb.ratings if fb else None,
                lambda r: site.t(locale, f"escalation.rate_{r}"),
            )
            for chart_id, key, bars in (
                ("chart-grids", "staff_record.chart_grids", grid_bars),
                ("chart-buildings", "staff_record.chart_buildings", building_bars),
                ("chart-outcomes", "staff_record.chart_outcomes", outcome_bars),
                ("chart-categories", "staff_record.chart_categories", category_bars),
                ("chart-ratings", "staff_record.chart_ratings", rating_bars),
            ):
                if bars:
                    title = str(site.t(locale, key))
                    charts.append(bar_chart(chart_id, title, describe(bars), bars))
            tables["categories"] = [
                (
                    category_name(locale, key),
                    a.figures.categories.get(key, 0),
                    fb.categories.get(key, 0) if fb else None,
                )
                for key in categories
            ]
        return site.render(
            request,
            viewer,
            "staff_participation.html",
            status=200 if refused is None else 400,
            refused=refused,
            scope=scope,
            node=node,
            period=period,
            compared=compared,
            a=a,
            b=b,
            presets=PRESETS,
            charts=charts,
            tables=tables,
            percent=lambda t: _percent(_share(t)),
            values={
                key: request.query.get(key, "")[:20]
                for key in ("preset", "from", "to", "cpreset", "cfrom", "cto")
            },
        )

    def category_name(locale: str, key: str) -> str:
        if not key:
            return str(site.t(locale, "staff_record.no_category"))
        return site.category_name(locale, key)

    app.router.add_get("/staff/participation", participation)
