"""The escalation board (/staff/board: filters as query parameters, server-side) and a
matter's page (/staff/matters/<id>) with the card's actions as forms: 受理, 发起网格表决,
解决, 上报 — through the same services as the card's buttons, from the card's chat."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup

from bot.commands.escalation import open_vote
from bot.services.announcement_texts import Elapsed, Label, ballot_facts, verdict_said
from bot.services.errors import Refusal
from bot.services.escalation.views import CardMove
from bot.services.web.staff_board import (
    AGES,
    PAGE_SIZE,
    BoardFilters,
    BoardState,
    MatterPage,
    NotStaff,
    StaffBoard,
)
from channels.web.server import Viewer, Web, path_id, see_other, small_number
from channels.web.staff import nav, not_staff
from storage.records import Scope

MAX_CATEGORY = 32


def filters_of(query: Any) -> BoardFilters:
    """The board's query parameters; anything unreadable is ignored (no filter)."""
    state = query.get("state", "")
    chosen = BoardState(state) if state in BoardState.__members__.values() else None
    age = small_number(query.get("age", ""), 3)
    category = query.get("category", "").replace("\x00", "").strip()[:MAX_CATEGORY] or None
    return BoardFilters(
        state=chosen,
        grid=small_number(query.get("grid", "")),
        building=small_number(query.get("building", "")),
        category=category,
        age_days=age if age in AGES else None,
        page=min(small_number(query.get("page", ""), 4) or 0, 1000),
    )


def query_of(filters: BoardFilters, **changed: Any) -> str:
    values = {
        "state": filters.state.value if filters.state else None,
        "grid": filters.grid,
        "building": filters.building,
        "category": filters.category,
        "age": filters.age_days,
        "page": filters.page or None,
    }
    values.update(changed)
    kept = {key: value for key, value in values.items() if value is not None}
    return "?" + urlencode(kept) if kept else ""


def add_routes(app: web.Application, site: Web) -> None:
    board = StaffBoard(site.services.work, site.services.clock)

    async def values(viewer: Viewer, topic: int) -> dict[str, Any]:
        matter = await board.matter(viewer.actor, topic)
        staff_nav = await nav(board, viewer)
        return {"staff_nav": staff_nav, **_matter_values(site, viewer.locale, matter)}

    async def board_page(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        filters = filters_of(request.query)
        try:
            shown = await board.board(viewer.actor, filters)
        except NotStaff:
            try:
                await board.home(viewer.actor)
            except NotStaff:
                return not_staff(site, request, viewer, "staff_board.not_staff")
            return not_staff(site, request, viewer, "staff_board.no_board")
        locale = viewer.locale
        # Words said on many rows are written once a page (a page has 100 rows).
        labels = {state: site.t(locale, f"staff_board.state_{state.value}") for state in BoardState}
        categories = {key: site.category_name(locale, key) for key in shown.categories}
        rows = [
            {
                "row": row,
                "state": labels[row.state],
                "age": site.t(locale, "staff_board.age", age=Elapsed(row.age)),
                "overdue": site.t(locale, "staff_board.overdue", late=Elapsed(row.overdue))
                if row.overdue is not None
                else None,
                "category": categories.get(row.category or "", row.category or ""),
            }
            for row in shown.rows
        ]
        states = [(state, labels[state], shown.counts.get(state, 0)) for state in BoardState]
        more = (filters.page + 1) * PAGE_SIZE < shown.total
        return site.render(
            request,
            viewer,
            "staff_board.html",
            staff_nav=await nav(board, viewer),
            board=shown,
            rows=rows,
            states=states,
            f=filters,
            ages=AGES,
            categories=list(categories.items()),
            size=PAGE_SIZE,
            next_url=query_of(filters, page=filters.page + 1) if more else None,
            previous_url=query_of(filters, page=(filters.page - 1) or None)
            if filters.page
            else None,
            state_url=lambda state: query_of(filters, state=state, page=None),
        )

    async def matter_page(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        topic = path_id(request, "topic")
        done = request.query.get("done", "")
        notice = None
        if done in ("accepted", "resolved"):
            notice = site.t(viewer.locale, f"staff_board.done_{done}", id=topic)
        elif done == "sent_up":
            level = request.query.get("level", "")
            if level in ("grid", "community"):
                notice = site.t(
                    viewer.locale,
                    "staff_board.done_sent_up",
                    id=topic,
                    level=Label("levels", level),
                )
        elif done == "vote":
            new_id = small_number(request.query.get("new", ""))
            if new_id is not None:
                notice = site.t(viewer.locale, "staff_board.done_vote", id=topic, new_id=new_id)
        return await site.show(
            request, viewer, "staff_matter.html", values(viewer, topic), notice=notice
        )

    async def act(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        topic = path_id(request, "topic")
        form = await site.form(request, viewer)
        action = str(form.get("action", ""))
        text = str(form.get("text", "")).replace("\x00", "")
        services = site.services
        try:
            hop, place = await board.card_place(viewer.actor, topic)
            if action == "accept":
                await services.escalation.accept(viewer.actor, place, hop.id)
                return see_other(f"/staff/matters/{topic}?done=accepted")
            if action in ("vote_here", "vote_all"):
                scope = Scope.ALL if action == "vote_all" else Scope.HERE
                _, published = await open_vote(
                    services,
                    viewer.actor,
                    place,
                    hop.id,
                    scope,
                    locale=viewer.locale,
                    membership=site.pages.membership,
                )
                return see_other(f"/staff/matters/{topic}?done=vote&new={published.topic.id}")
            if action == "resolve":
                await services.escalation.resolve(viewer.actor, place, topic, text)
                return see_other(f"/staff/matters/{topic}?done=resolved")
            if action == "send_up":
                await services.escalation.escalate_by_hand(viewer.actor, place, topic, text)
                matter = await services.escalation.matter(topic)
                level = matter.holder.level if matter is not None else ""
                return see_other(f"/staff/matters/{topic}?done=sent_up&level={level}")
            raise Refusal("staff_board.bad_action")
        except Refusal as refusal:
            return await site.show(
                request, viewer, "staff_matter.html", values(viewer, topic), refusal=refusal
            )

    app.router.add_get("/staff/board", board_page)
    app.router.add_get("/staff/matters/{topic}", matter_page)
    app.router.add_post("/staff/matters/{topic}", act)


def _matter_values(site: Web, locale: str, matter: MatterPage) -> dict[str, Any]:
    t = site.t
    view = matter.view
    facts = [
        Markup(site.writer.line(locale, line))
        for line in ballot_facts(view, site.services.catalogue, locale)
    ]
    verdict = None
    if view.verdict is not None:
        verdict = t(locale, "staff_board.outcome", verdict=verdict_said(view.verdict))
    hops = []
    for line in matter.hops:
        hop = line.escalation
        state_key = f"states.{hop.state}"
        lines = [
            t(
                locale,
                "staff_board.hop_line",
                created=hop.created_at,
                from_level=Label("levels", line.from_node.level),
                from_name=line.from_node.name,
                to_level=Label("levels", line.to_node.level),
                to_name=line.to_node.name,
                reason=Label("reasons", hop.reason),
            )
        ]
        if line.escalated_by is not None:
            lines.append(t(locale, "staff_board.hop_by", name=line.escalated_by))
        elif hop.reason == "sla_expired":
            lines.append(t(locale, "staff_board.hop_by_timer"))
        if hop.note:
            lines.append(t(locale, "staff_board.hop_note", note=hop.note))
        state = t(locale, state_key) if site.translator.has(state_key) else hop.state
        lines.append(t(locale, "staff_board.hop_state", state=state))
        if line.accepted_by is not None:
            lines.append(t(locale, "staff_board.hop_accepted", name=line.accepted_by))
        if hop.sla_due_at is not None and hop.is_active:
            lines.append(t(locale, "staff_board.hop_sla", due=hop.sla_due_at))
        if hop.closed_at is not None:
            lines.append(t(locale, "staff_board.hop_closed", at=hop.closed_at))
        if line.vote_topic is not None:
            status = t(locale, f"staff_board.vote_{line.vote_topic.status}")
            lines.append(
                t(
                    locale,
                    "staff_board.hop_vote",
                    id=line.vote_topic.id,
                    title=line.vote_topic.title,
                    status=status,
                )
            )
        if line.card_chat is not None:
            lines.append(t(locale, "staff_board.hop_card", chat=line.card_chat))
        hops.append(lines)
    audit = [
        t(
            locale,
            "staff_board.audit_line",
            at=line.entry.at,
            who=line.actor or t(locale, "staff_board.nobody"),
            action=Label("stats.action", line.entry.action),
        )
        for line in matter.audit
    ]
    moves = set(matter.moves)
    above = matter.above_level
    level = matter.hops[-1].to_node.level if matter.hops else "grid"
    return {
        "m": matter,
        "view": view,
        "facts": facts,
        "verdict": verdict,
        "hops": hops,
        "audit": audit,
        "can_accept": CardMove.ACCEPT in moves,
        "can_vote": CardMove.VOTE in moves,
        "can_resolve": CardMove.RESOLVE in moves,
        "can_send_up": CardMove.SEND_UP in moves and above is not None,
        "vote_here": t(locale, "staff_board.vote_level_here", level=Label("levels", level)),
        "vote_all": t(locale, "staff_board.vote_level_all", level=Label("levels", level)),
        "send_up": t(locale, "staff_board.send_up", level=Label("levels", above or "community")),
        "decision": t(
            locale,
            "staff_board.decision",
            name=matter.resolved_by or "?",
            at=matter.resolution.resolved_at,
            text=matter.resolution.decision,
        )
        if matter.resolution is not None
        else None,
        "ratings": t(
            locale,
            "staff_board.ratings",
            satisfied=matter.ratings.get("satisfied", 0),
            basically=matter.ratings.get("basically", 0),
            unsatisfied=matter.ratings.get("unsatisfied", 0),
        )
        if matter.resolution is not None
        else None,
    }
