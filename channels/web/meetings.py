"""The meeting page (/m/<id>): when and where, the series' rule, the agenda, the answers so
far, the person's RSVP (参加 / 请假, changeable until it begins), the minutes once held, and
the series' earlier occurrences with theirs."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from markupsafe import Markup

from bot.services.announcement_texts import meeting_when
from bot.services.errors import Refusal
from bot.services.meetings import said
from bot.services.web.meeting_pages import MeetingPage
from bot.services.web.topic_pages import NotVisible
from channels.web.server import Viewer, Web, see_other, small_number
from storage.records import Answer

ANSWERS = {answer.value: answer for answer in Answer}


def add_routes(app: web.Application, site: Web) -> None:
    def meeting_id(request: web.Request) -> int:
        number = small_number(request.match_info["meeting"])
        if number is None:
            raise web.HTTPNotFound()
        return number

    async def show(
        request: web.Request,
        viewer: Viewer,
        meeting: int,
        *,
        notice: Markup | None = None,
        refused: Markup | None = None,
        status: int = 200,
    ) -> web.Response:
        try:
            page = await site.meetings.page(viewer.actor, meeting)
        except NotVisible:
            return site.not_found(request, viewer)
        except Refusal as refusal:  # Telegram could not say who is in the group: try again
            return site.notice(
                request,
                viewer,
                "web.forbidden_title",
                site.refusal(viewer.locale, refusal),
                status=503,
            )
        return site.render(
            request,
            viewer,
            "meeting.html",
            status=status,
            **_meeting_values(site, viewer.locale, page),
            notice=notice,
            refused=refused,
        )

    async def meeting_page(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        if isinstance(viewer, web.Response):
            return viewer
        meeting = meeting_id(request)
        notice = None
        answered = request.query.get("answered", "")
        if answered in ANSWERS:
            label = site.translator.plain(viewer.locale, f"meetings.button_{answered}")
            notice = site.t(viewer.locale, "meetings.answer_recorded", answer=label)
        return await show(request, viewer, meeting, notice=notice)

    async def rsvp(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        if isinstance(viewer, web.Response):
            return viewer
        meeting = meeting_id(request)
        form = await request.post()
        if not site.csrf_checked(request, viewer, form):
            return site.csrf_refused(request, viewer)
        chosen = str(form.get("answer", ""))
        try:
            if chosen not in ANSWERS:
                raise Refusal("general.stale_button")
            answered = await site.meetings.answer(viewer.actor, meeting, chosen)
        except NotVisible:
            return site.not_found(request, viewer)
        except Refusal as refusal:
            return await show(
                request, viewer, meeting, refused=site.refusal(viewer.locale, refusal), status=409
            )
        if answered.same:
            label = site.translator.plain(viewer.locale, f"meetings.button_{answered.answer}")
            notice = site.t(viewer.locale, "meetings.answer_same", answer=label)
            return await show(request, viewer, meeting, notice=notice)
        return see_other(f"/m/{meeting}?answered={answered.answer.value}")

    app.router.add_get("/m/{meeting}", meeting_page)
    app.router.add_post("/m/{meeting}/rsvp", rsvp)


def _meeting_values(site: Web, locale: str, page: MeetingPage) -> dict[str, Any]:
    view = page.view
    zone = site.services.settings.zone

    def line(said_line: Any) -> Markup:
        return Markup(site.writer.line(locale, said_line))

    status = said.status(view)
    past = [
        {
            "when": line(meeting_when(entry.occurrence.starts_at)),
            "status": site.t(locale, f"web.occurrence_{entry.occurrence.status}"),
            "minutes": [m.text for m in entry.minutes],
        }
        for entry in page.past
    ]
    return {
        "view": view,
        "page": page,
        "facts": [line(fact) for fact in said.facts(view, zone)],
        "state_line": line(status) if status is not None else None,
        "counts": line(said.counts(view)),
        "answers": [answer.value for answer in Answer],
        "my_answer": page.my_answer.value if page.my_answer else None,
        "minutes": [m.text for m in page.minutes],
        "past": past,
    }
