""" "My household" (/me): the person, their household's registration, their open topics with
whether they (or their household) voted, and the meetings ahead with their answer."""

from __future__ import annotations

from aiohttp import web

from channels.web.server import Web


def add_routes(app: web.Application, site: Web) -> None:
    async def household(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        mine = await site.households.page(viewer.actor)
        joined = request.query.get("joined") == "1" and mine.web_only
        return site.render(request, viewer, "me.html", me=mine, joined=joined)

    app.router.add_get("/me", household)
