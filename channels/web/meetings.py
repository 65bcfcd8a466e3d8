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
from channels.web.server import Viewer, Web, path_id, see_other
from storage.records import Answer

ANSWERS = {answer.value: answer for answer in Answer}


def add_routes(app: web.Application, site: Web) -> None:
    async def values(viewer: Viewer, meeting: int) -> dict[str, Any]:
        page = await site.meetings.page(viewer.actor, meeting)
        return _meeting_values(site, viewer.locale, page)

    async def meeting_page(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        meeting = path_id(request, "meeting")
        notice = None
        answered = request.query.get("answered", "")
        if answered in ANSWERS:
            label = site.translator.plain(viewer.locale, f"meetings.button_{answered}")
            notice = site.t(viewer.locale, "meetings.answer_recorded", answer=label)
        return await site.show(
            request, viewer, "meeting.html", values(viewer, meeting), notice=notice
        )

    async def rsvp(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        meeting = path_id(request, "meeting")
        form = await site.form(request, viewer)
        chosen = str(form.get("answer", ""))
        try:
            if chosen not in ANSWERS:
                raise Refusal("general.stale_button")
            answered = await site.meetings.answer(viewer.actor, meeting, chosen)
        except Refusal as refusal:
            return await site.show(
                request, viewer, "meeting.html", values(viewer, meeting), refusal=refusal
            )
        if answered.same:
            label = site.translator.plain(viewer.locale, f"meetings.button_{answered.answer}")
            notice = site.t(viewer.locale, "meetings.answer_same", answer=label)
            return await site.show(
                request, viewer, "meeting.html", values(viewer, meeting), notice=notice
            )
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
