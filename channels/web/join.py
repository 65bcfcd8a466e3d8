"""The household invitation page (/join/<code>): a resident with no bot (a personal-WeChat
group) scanned the code the 楼栋长 printed or sent. The page names the building and asks for
the unit: the code alone does not bind (a neighbour's code scanned by mistake), the resident
types their 单元-房号 and only a match redeems it. Redeemed, the browser holds a long session
of the new web-only person (``HOUSEHOLD_SESSION_TTL``), which the officer's /revoke ends."""

from __future__ import annotations

import re

from aiohttp import web

from bot.services.errors import Refusal
from bot.services.web.sessions import HOUSEHOLD_SESSION_TTL
from channels.web.server import Viewer, Web, see_other

# What a code may look like before anything is asked: the invitations' alphabet is lower-case
# letters and digits (20 of them); case is forgiven (code_hash lowers it), anything else is
# not a code.
CODE = re.compile(r"[A-Za-z0-9]{8,40}")
MAX_UNIT = 40  # what is read of the unit typed (parse_unit refuses anything longer anyway)
# How each refusal is answered: gone for good (410) or never was (404).
GONE = {"invitations.used", "invitations.revoked", "invitations.expired"}


def add_routes(app: web.Application, site: Web) -> None:
    def refused_page(request: web.Request, viewer: Viewer, refusal: Refusal) -> web.Response:
        status = 410 if refusal.key in GONE else 404
        return site.refused(request, viewer, refusal, status, "web.join_title")

    def too_many(request: web.Request, viewer: Viewer) -> web.Response:
        return site.say(request, viewer, "web.join_title", "web.too_many", 429)

    async def join_page(request: web.Request) -> web.StreamResponse:
        viewer = await site.viewer(request)
        code = request.match_info["code"]
        if not CODE.fullmatch(code):
            return refused_page(request, viewer, Refusal("invitations.unknown_code"))
        if not site.by_address.allow(site.client(request)):
            return too_many(request, viewer)
        try:
            look = await site.services.invitations.look(code)
        except Refusal as refusal:
            return refused_page(request, viewer, refusal)
        return site.render(
            request,
            viewer,
            "join.html",
            code=code,
            building=look.node.name,
            refused=None,
            given="",
        )

    async def join(request: web.Request) -> web.StreamResponse:
        viewer = await site.viewer(request)
        code = request.match_info["code"]
        form = await site.form(request, viewer)
        if not CODE.fullmatch(code):
            return refused_page(request, viewer, Refusal("invitations.unknown_code"))
        if not site.by_address.allow(site.client(request)) or not site.by_code.allow(
            "join:" + code.lower()
        ):
            return too_many(request, viewer)
        given = str(form.get("unit", "")).replace("\x00", "").strip()[:MAX_UNIT]
        try:
            redeemed = await site.services.invitations.redeem(code, given)
        except Refusal as refusal:
            if refusal.key != "invitations.wrong_unit":
                return refused_page(request, viewer, refusal)
            try:  # still usable (nothing changed), unless redeemed meanwhile elsewhere
                look = await site.services.invitations.look(code)
            except Refusal as gone:
                return refused_page(request, viewer, gone)
            return site.render(
                request,
                viewer,
                "join.html",
                status=409,
                code=code,
                building=look.node.name,
                refused=site.refusal(viewer.locale, refusal),
                given=given,
            )
        opened = await site.services.web_sessions.open_session(
            redeemed.user_id, HOUSEHOLD_SESSION_TTL
        )
        response = see_other("/me?joined=1")
        await site.replace_session(response, viewer, opened.token, HOUSEHOLD_SESSION_TTL)
        return response

    app.router.add_get("/join/{code}", join_page)
    app.router.add_post("/join/{code}", join)
