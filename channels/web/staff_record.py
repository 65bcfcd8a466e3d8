"""The staff's record (居务公开) and audit log: /staff/record (topics and meetings searched by
text, node, category, state and date, a page at a time; the search's own CSV and XLSX),
/staff/record/<id>.csv and .xlsx (a topic's /export record), /staff/audit (/audit's rows by
person, node, action and date). Everything a person cannot ask for in a chat is a 404 or says
why; the scope is ``StaffRecord``'s."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from aiohttp import web
from markupsafe import Markup

from bot.commands.base import Asked
from bot.commands.stats import audit_line
from bot.services.actors import ChatKind, Place
from bot.services.errors import Refusal
from bot.services.reports.export import ExportLabels, local_time, render_csv
from bot.services.reports.spreadsheet import (
    render_table_csv,
    render_workbook,
    topic_tables,
)
from bot.services.web.staff_record import (
    STATES,
    RecordFilters,
    StaffRecord,
    parse_day,
)
from bot.services.web.topic_pages import NotVisible
from channels.web.server import Answered, Viewer, Web, small_number
from locales import load_catalogue
from storage.records import Node
from storage.repositories.record import TopicFound

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AUDIT_PAGE = 50
ACTION_PREFIX = "stats.action."
MAX_TEXT = 100


@dataclass(frozen=True, slots=True)
class Staff:
    """A signed-in person with a scope: where they are an officer, and all below."""

    viewer: Viewer
    roots: list[Node]


async def staff_of(site: Web, record: StaffRecord, request: web.Request) -> Staff:
    """The staff member asking; else the answer is the page that says why not (401 signed
    out, 403 not an officer anywhere: ask the community for a role)."""
    viewer = await site.signed_in(request)
    roots = await record.roots(viewer.actor)
    if not roots:
        raise Answered(
            site.say(request, viewer, "web.forbidden_title", "staff_record.not_staff", 403)
        )
    return Staff(viewer, roots)


def labels_for(site: Web, locale: str) -> ExportLabels:
    return ExportLabels(
        t=functools.partial(site.translator.plain, locale),
        zone=site.services.settings.zone,
        locale=locale,
    )


def download(data: bytes, filename: str, content_type: str) -> web.Response:
    response = web.Response(body=data, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def query_text(request: web.Request, name: str, limit: int = MAX_TEXT) -> str | None:
    """A query parameter, trimmed, NUL taken out (PostgreSQL stores none), at most ``limit``."""
    value = request.query.get(name, "").replace("\x00", "").strip()
    return value[:limit] or None


def query_day(request: web.Request, name: str) -> date | None:
    value = query_text(request, name, 20)
    return parse_day(value) if value else None


def record_filters(request: web.Request) -> RecordFilters:
    """The search as the query asks it; a value that is not one raises its Refusal."""
    node = query_text(request, "node", 12)
    node_id = small_number(node.lstrip("#")) if node else None
    if node is not None and node_id is None:
        raise Refusal("staff_record.bad_node", given=node)
    order = query_text(request, "sort", 12)
    if order is not None and order not in ("new", "old"):
        raise Refusal("staff_record.bad_sort", given=order)
    status = query_text(request, "state", 12)
    if status is not None and status not in STATES:
        raise Refusal("staff_record.bad_state", given=status)
    return RecordFilters(
        text=query_text(request, "q"),
        node_id=node_id,
        category=query_text(request, "category", 32),
        status=status,
        first=query_day(request, "from"),
        last=query_day(request, "to"),
        oldest_first=order == "old",
    )


def add_routes(app: web.Application, site: Web) -> None:
    record = StaffRecord(site.services)
    # The audit's actions, as /audit names them (``stats.action.<area>.<what>``).
    actions = sorted(
        key.removeprefix(ACTION_PREFIX)
        for key in load_catalogue(site.translator.default_locale)
        if key.startswith(ACTION_PREFIX)
    )

    def node_names(nodes: list[Node]) -> dict[int, str]:
        return {node.id: node.name for node in nodes}

    def found_rows(locale: str, found: list[TopicFound], names: dict[int, str]) -> list[list[str]]:
        t = functools.partial(site.translator.plain, locale)
        labels = labels_for(site, locale)
        rows = [
            [
                t("staff_record.col_id"),
                t("staff_record.col_title"),
                t("staff_record.col_node"),
                t("staff_record.col_category"),
                t("staff_record.col_state"),
                t("staff_record.col_created"),
                t("staff_record.col_closed"),
                t("staff_record.col_outcome"),
                t("staff_record.col_cast"),
                t("staff_record.col_eligible"),
            ]
        ]
        for topic in found:
            rows.append(
                [
                    str(topic.id),
                    topic.title,
                    names.get(topic.node_id, str(topic.node_id)),
                    site.category_name(locale, topic.category),
                    t(f"staff_record.state_{topic.status}"),
                    local_time(labels, topic.created_at),
                    local_time(labels, topic.closed_at) if topic.closed_at else "",
                    outcome_text(locale, topic),
                    str((topic.outcome or {}).get("cast", "")),
                    _or_blank((topic.outcome or {}).get("eligible", "")),
                ]
            )
        return rows

    def outcome_text(locale: str, topic: TopicFound) -> str:
        """/stats's words for a verdict (and an unresolved one's reason)."""
        outcome = topic.outcome or {}
        verdict = outcome.get("verdict")
        if topic.status != "closed" or not isinstance(verdict, str):
            return ""
        plain = "unresolved_plain" if verdict == "unresolved" else verdict
        key = f"stats.outcome_{plain}"
        said = site.translator.plain(locale, key) if site.translator.has(key) else verdict
        reason = outcome.get("reason")
        known = isinstance(reason, str) and site.translator.has(f"reasons.{reason}")
        if verdict == "unresolved" and known:
            said += f" ({site.translator.plain(locale, f'reasons.{reason}')})"
        return said

    async def record_page(request: web.Request) -> web.StreamResponse:
        staff = await staff_of(site, record, request)
        viewer = staff.viewer
        scope = await record.nodes(viewer.actor, staff.roots)
        page_number = small_number(request.query.get("page", "1"), 6) or 1
        refused: Markup | None = None
        result = None
        try:
            filters = record_filters(request)
            result = await record.search(viewer.actor, filters, page=page_number, scope=scope)
        except Refusal as refusal:
            refused = site.refusal(viewer.locale, refusal)
            filters = RecordFilters()
        names = node_names(scope)
        plain = request.query_string
        return site.render(
            request,
            viewer,
            "staff_record.html",
            status=200 if refused is None else 400,
            result=result,
            refused=refused,
            filters=filters,
            scope=scope,
            names=names,
            categories=site.services.catalogue.entries,
            states=STATES,
            category_name=lambda key: site.category_name(viewer.locale, key),
            outcome_text=lambda topic: outcome_text(viewer.locale, topic),
            when=lambda moment: local_time(labels_for(site, viewer.locale), moment),
            query=plain,
            page_link=lambda n: _with_page(request, n),
        )

    async def search_export(request: web.Request) -> web.StreamResponse:
        staff = await staff_of(site, record, request)
        viewer = staff.viewer
        scope = await record.nodes(viewer.actor, staff.roots)
        try:
            found = await record.exported(viewer.actor, record_filters(request), scope)
        except Refusal as refusal:
            return site.refused(request, viewer, refusal, 400, "staff_record.record_title")
        names = node_names(scope)
        rows = found_rows(viewer.locale, found, names)
        if request.match_info["kind"] == "csv":
            return download(render_table_csv(rows), "record.csv", "text/csv")
        sheet = site.translator.plain(viewer.locale, "staff_record.sheet_record")
        return download(render_workbook([(sheet, rows)]), "record.xlsx", XLSX)

    async def topic_export(request: web.Request) -> web.StreamResponse:
        staff = await staff_of(site, record, request)
        viewer = staff.viewer
        topic = small_number(request.match_info["topic"])
        if topic is None:
            raise NotVisible  # as an id that does not exist
        found = await record.topic_record(viewer.actor, topic)
        labels = labels_for(site, viewer.locale)
        if request.match_info["kind"] == "csv":
            return download(render_csv(found, labels), f"topic-{topic}.csv", "text/csv")
        data = render_workbook(topic_tables(found, labels))
        return download(data, f"topic-{topic}.xlsx", XLSX)

    async def audit_page(request: web.Request) -> web.StreamResponse:
        staff = await staff_of(site, record, request)
        viewer = staff.viewer
        refused: Markup | None = None
        status = 200
        lines: list[dict[str, Any]] = []
        older: int | None = None
        try:
            person = query_text(request, "user", 20)
            user = small_number(person, 15) if person else None
            if person is not None and user is None:
                raise Refusal("stats.audit_bad_user", given=person)
            before = query_text(request, "before", 12)
            rows = await record.audit(
                viewer.actor,
                node=query_text(request, "node", 60),
                user=user,
                action=query_text(request, "action", 64),
                first=query_day(request, "from"),
                last=query_day(request, "to"),
                before_id=small_number(before) if before else None,
                limit=AUDIT_PAGE + 1,
            )
        except Refusal as refusal:
            refused = site.refusal(viewer.locale, refusal)
            status = 403 if refusal.key == "stats.audit_needs_admin" else 400
            rows = []
        if len(rows) > AUDIT_PAGE:
            rows = rows[:AUDIT_PAGE]
            older = rows[-1].id
        asked = Asked(
            services=site.services,
            actor=viewer.actor,
            place=_private(viewer),
            text="",
            locale=viewer.locale,
            membership=site.pages.membership,
            chat_admin=_no,
        )
        for row in rows:
            lines.append(
                {
                    "id": row.id,
                    "action": row.action,
                    "said": Markup(site.writer.said(viewer.locale, audit_line(asked, row))),
                }
            )
        return site.render(
            request,
            viewer,
            "staff_audit.html",
            status=status,
            lines=lines,
            refused=refused,
            values={key: request.query.get(key, "")[:MAX_TEXT] for key in AUDIT_KEYS},
            actions=actions,
            older=_with(request, before=str(older)) if older is not None else None,
        )

    app.router.add_get("/staff/record", record_page)
    app.router.add_get("/staff/record.{kind:csv|xlsx}", search_export)
    app.router.add_get("/staff/record/{topic}.{kind:csv|xlsx}", topic_export)
    app.router.add_get("/staff/audit", audit_page)


AUDIT_KEYS = ("user", "node", "action", "from", "to")


async def _no() -> bool:
    return False


def _private(viewer: Viewer) -> Place:
    return Place(viewer.actor.user_id, ChatKind.PRIVATE)


def _with(request: web.Request, **changes: str) -> str:
    query = dict(request.query)
    query.update(changes)
    return str(request.rel_url.with_query(query))


def _with_page(request: web.Request, number: int) -> str:
    return _with(request, page=str(number))


def _or_blank(value: object) -> str:
    """A record's figure as shown, blank where it has none (who may vote, when not known)."""
    return "" if value is None else str(value)
