"""The staff's meetings (/staff/meetings: a month's calendar or a list, each occurrence's RSVP
list), the calendar feeds (/cal/<secret>.ics, one per community and grid, for phone
calendars, through the icalendar library) and a community's public record (/p/<community>).

Who sees which meetings, and who may renew a feed's link, is bot/services/web/staff_calendar.py
(the chat's own permission checks); the public record is bot/services/web/public_record.py."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import icalendar  # type: ignore[import-untyped]
from aiohttp import web
from markupsafe import Markup

from bot.services.announcement_texts import verdict_said
from bot.services.errors import Refusal
from bot.services.web.staff_calendar import Entry, NotStaff, StaffCalendar, UnknownFeed
from channels.web.server import Viewer, Web, small_number
from storage.records import Answer

STATES = ("all", "ahead", "cancelled")  # the filter's values (?state=)
EVENT_LENGTH = timedelta(hours=1)  # a meeting has a start only; a feed's event needs an end
FEED_NAME = "yishi"


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str | None, today: date) -> Month:
        """``2026-12``; anything else (or nothing) is this month."""
        if text and len(text) == 7 and text[4] == "-":
            year, month = small_number(text[:4], 4), small_number(text[5:], 2)
            if year is not None and month is not None and 2000 <= year <= 2100 and 1 <= month <= 12:
                return cls(year, month)
        return cls(today.year, today.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def shifted(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)


def add_routes(app: web.Application, site: Web) -> None:
    zone = site.services.settings.zone
    services = site.services
    cal = StaffCalendar(services.work, services.clock, services.meetings, zone=zone)

    def not_found(request: web.Request, viewer: Viewer, key: str) -> web.Response:
        return site.say(request, viewer, "web.not_found_title", key, 404)

    async def meetings_page(
        request: web.Request, viewer: Viewer, *, fresh: tuple[int, str] | None = None
    ) -> web.Response:
        today = services.clock.now().astimezone(zone).date()
        month = Month.parse(request.query.get("month"), today)
        as_list = request.query.get("view") == "list"
        node_id = small_number(request.query.get("node", ""))
        start = datetime.combine(month.first, datetime.min.time(), zone).astimezone(UTC)
        end = datetime.combine(month.shifted(1).first, datetime.min.time(), zone).astimezone(UTC)
        try:
            reach = await cal.reach(viewer.actor)
            if not any(node.id == node_id for node in reach.nodes):
                node_id = None  # not one of theirs: all of theirs
            reach, entries = await cal.entries(viewer.actor, start, end, node_id=node_id)
            feeds = await cal.feed_nodes(viewer.actor)
        except NotStaff:
            return site.say(request, viewer, "web.forbidden_title", "staff_cal.not_staff", 403)
        state = request.query.get("state", "all")
        state = state if state in STATES else "all"
        if state == "cancelled":
            entries = [entry for entry in entries if entry.cancelled]
        elif state == "ahead":
            entries = [entry for entry in entries if not entry.cancelled and not entry.held]
        newest_first = request.query.get("order") == "desc"

        def link(**changes: Any) -> str:
            query = {"month": str(month), "view": "list" if as_list else "month"}
            if node_id is not None:
                query["node"] = str(node_id)
            if state != "all":
                query["state"] = state
            if newest_first:
                query["order"] = "desc"
            query.update({key: str(value) for key, value in changes.items()})
            return "/staff/meetings?" + urlencode(
                {key: value for key, value in query.items() if value != ""}
            )

        by_day: dict[date, list[Entry]] = {}
        for entry in entries:
            by_day.setdefault(entry.starts_at.astimezone(zone).date(), []).append(entry)
        weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
        shown_url = None
        if fresh is not None:
            shown_url = feed_urls(fresh[1])
        return site.render(
            request,
            viewer,
            "staff_cal_meetings.html",
            month=str(month),
            month_label=site.t(
                viewer.locale, "staff_cal.month", year=month.year, month=month.month
            ),
            prev_link=link(month=month.shifted(-1)),
            next_link=link(month=month.shifted(1)),
            month_view_link=link(view="month"),
            list_view_link=link(view="list"),
            as_list=as_list,
            weeks=weeks,
            this_month=month.month,
            today=today,
            by_day=by_day,
            entries=list(reversed(entries)) if newest_first else entries,
            states=[(name, link(state=name), name == state) for name in STATES],
            order_link=link(order="" if newest_first else "desc"),
            newest_first=newest_first,
            when=lambda entry: entry.starts_at.astimezone(zone).strftime("%H:%M"),
            day_of=lambda entry: entry.starts_at.astimezone(zone).strftime("%Y-%m-%d"),
            weekday_names=[site.t(viewer.locale, f"staff_cal.weekday_{i}") for i in range(7)],
            nodes=reach.nodes,
            node_id=node_id,
            node_link=lambda node: link(node=node) if node is not None else None,
            all_link=link(node=""),
            feeds=feeds,
            fresh_node=fresh[0] if fresh else None,
            shown_url=shown_url,
            answers=lambda entry: site.t(
                viewer.locale,
                "staff_cal.counts",
                yes=entry.counts.get(Answer.YES, 0),
                no=entry.counts.get(Answer.NO, 0),
            ),
        )

    def feed_urls(token: str) -> tuple[str, str]:
        https = f"{site.public_url}/cal/{token}.ics"
        parts = urlsplit(https)
        return f"webcal://{parts.netloc}{parts.path}", https

    async def meetings(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        return await meetings_page(request, viewer)

    async def renew_feed(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        await site.form(request, viewer)
        node_id = small_number(request.match_info["node"])
        if node_id is None:
            return not_found(request, viewer, "staff_cal.rsvp_not_found")
        try:
            token = await cal.renew_feed(viewer.actor, node_id)
        except Refusal as refusal:
            return site.refused(request, viewer, refusal, 403)
        # Shown this once (only its hash is kept): rendered here, not after a redirect.
        return await meetings_page(request, viewer, fresh=(node_id, token))

    async def rsvp(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        occurrence_id = small_number(request.match_info["occurrence"])
        if occurrence_id is None:
            return not_found(request, viewer, "staff_cal.rsvp_not_found")
        try:
            detail = await cal.rsvps(viewer.actor, occurrence_id)
        except Refusal as refusal:
            if refusal.key == "general.stale_button":  # no such occurrence
                return not_found(request, viewer, "staff_cal.rsvp_not_found")
            return site.refused(request, viewer, refusal, 403)
        view = detail.view
        answers = detail.answers or []
        return site.render(
            request,
            viewer,
            "staff_cal_rsvp.html",
            view=view,
            starts=view.occurrence.starts_at,
            cancelled=view.occurrence.status == "cancelled",
            attending=[name for name, answer in answers if answer == Answer.YES],
            excused=[name for name, answer in answers if answer == Answer.NO],
            month=view.occurrence.starts_at.astimezone(zone).strftime("%Y-%m"),
        )

    async def feed(request: web.Request) -> web.StreamResponse:
        name = request.match_info["token"]
        if not name.endswith(".ics") or len(name) > 80:
            raise web.HTTPNotFound()
        try:
            node, entries = await cal.feed(name[: -len(".ics")])
        except UnknownFeed:
            raise web.HTTPNotFound() from None
        body = ics(node.name, entries, services.clock.now(), site.public_url, zone.key)
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def public_record(request: web.Request) -> web.StreamResponse:
        viewer = await site.viewer(request)
        community = small_number(request.match_info["community"])
        record = await services.public_records.record(community) if community else None
        if record is None:
            return not_found(request, viewer, "staff_cal.public_not_found")
        locale = viewer.locale
        rows = []
        for matter in record.matters:
            rating = None
            if matter.ratings:
                rating = site.t(
                    locale,
                    "escalation.history_ratings",
                    satisfied=matter.ratings.get("satisfied", 0),
                    basically=matter.ratings.get("basically", 0),
                    unsatisfied=matter.ratings.get("unsatisfied", 0),
                )
            rows.append(
                {
                    "matter": matter,
                    "category": site.category_name(locale, matter.category),
                    "verdict": Markup(site.writer.said(locale, verdict_said(matter.verdict))),
                    "rating": rating,
                    "opened": matter.opened_at.astimezone(zone).strftime("%Y-%m-%d"),
                    "decided": matter.decided_at.astimezone(zone).strftime("%Y-%m-%d"),
                }
            )
        return site.render(request, viewer, "staff_cal_public.html", record=record, rows=rows)

    app.router.add_get("/staff/meetings", meetings)
    app.router.add_post("/staff/meetings/feed/{node}", renew_feed)
    app.router.add_get("/staff/meetings/o/{occurrence}", rsvp)
    app.router.add_get("/cal/{token}", feed)
    app.router.add_get("/p/{community}", public_record)


def ics(name: str, entries: list[Entry], now: datetime, public_url: str, zone: str) -> bytes:
    """The feed: one VEVENT per occurrence, in UTC (every calendar app reads those), its UID
    kept by (meeting, planned start); a cancelled one STATUS:CANCELLED with a newer SEQUENCE,
    so an app that had it strikes it out."""
    feed = icalendar.Calendar()
    feed.add("prodid", "-//Yishi//meetings//ZH")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", name)
    feed.add("x-wr-timezone", zone)
    for entry in entries:
        meeting = entry.meeting
        event = icalendar.Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", entry.starts_at.astimezone(UTC))
        event.add("dtend", entry.starts_at.astimezone(UTC) + EVENT_LENGTH)
        event.add("summary", f"{meeting.title} #{meeting.id}")
        event.add("description", f"{entry.node.name} · #{meeting.id}")
        if meeting.place:
            event.add("location", meeting.place)
        if meeting.link:
            event.add("url", meeting.link)
        event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
        event.add("sequence", 1 if entry.cancelled else 0)
        feed.add_component(event)
    return bytes(feed.to_ical())
