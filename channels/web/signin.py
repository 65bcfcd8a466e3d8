"""Signing in and out: the one-time link (/web), a Telegram Mini App's initData, the language
switch. A link is not used by opening it (a chat's link preview would spend it): its page posts
the code back, by itself with JavaScript or with a button without."""

from __future__ import annotations

import re

from aiohttp import web

from bot.services.web.sessions import CodeRefused
from bot.services.web_links import page_of_start
from channels.web.server import LANG_COOKIE, SESSION_COOKIE, Web, see_other
from channels.web.telegram_login import InitDataRefused, validate_init_data
from locales import SUPPORTED
from storage.repositories.web_sessions import CodeState

CODE = re.compile(r"[A-Za-z0-9_-]{16,64}")
LOCAL_PATH = re.compile(r"/[A-Za-z0-9/_.-]*")
# A Mini App's start parameter (``startapp=t12`` / ``m7``): one letter, an id of 1-9 digits.
CODE_REFUSED = {
    CodeState.USED: "web.signin_used",
    CodeState.EXPIRED: "web.signin_expired",
    CodeState.UNKNOWN: "web.signin_unknown",
}


def start_target(start: str) -> str:
    """Where a Mini App opened with ``start`` lands after sign-in: ``t<id>`` a topic's page,
    ``m<id>`` a meeting's; anything else (a bare number included) "my household"."""
    return page_of_start(start) or "/me"  # the one reading of what web_links writes


def add_routes(app: web.Application, site: Web) -> None:
    async def signin_page(request: web.Request) -> web.StreamResponse:
        viewer = await site.viewer(request)
        code = request.match_info["code"]
        if not CODE.fullmatch(code):
            return site.say(request, viewer, "web.signin_title", "web.signin_unknown", 404)
        return site.render(request, viewer, "signin.html", code=code)

    async def signin(request: web.Request) -> web.StreamResponse:
        viewer = await site.viewer(request)
        await site.form(request, viewer)
        code = request.match_info["code"]
        refused = None
        if not site.by_address.allow(site.client(request)) or not site.by_code.allow(code):
            refused, status = "web.too_many", 429
        elif not CODE.fullmatch(code):
            refused, status = "web.signin_unknown", 404
        else:
            try:
                opened = await site.services.web_sessions.redeem_code(code)
            except CodeRefused as why:
                refused, status = CODE_REFUSED[why.state], 410
        if refused is not None:
            return site.say(request, viewer, "web.signin_title", refused, status)
        response = see_other("/me")
        await site.replace_session(response, viewer, opened.token)
        return response

    async def miniapp_page(request: web.Request) -> web.StreamResponse:
        viewer = await site.viewer(request)
        if site.bot_token is None:
            raise web.HTTPNotFound()
        return site.render(request, viewer, "miniapp.html")

    async def miniapp_signin(request: web.Request) -> web.StreamResponse:
        viewer = await site.viewer(request)
        if site.bot_token is None:
            raise web.HTTPNotFound()
        form = await request.post()
        if not site.csrf_checked(request, viewer, form):
            return web.json_response(
                {"error": str(site.t(viewer.locale, "web.csrf_failed"))}, status=403
            )
        if not site.by_address.allow(site.client(request)):
            return web.json_response(
                {"error": str(site.t(viewer.locale, "web.too_many"))}, status=429
            )
        try:
            person = validate_init_data(
                str(form.get("init_data", "")), site.bot_token, site.services.clock.now()
            )
        except InitDataRefused:
            return web.json_response(
                {"error": str(site.t(viewer.locale, "web.miniapp_refused"))}, status=403
            )
        user_id = await site.services.web_sessions.telegram_person(
            person.user_id,
            person.first_name,
            person.last_name,
            person.username,
            person.language_code,
        )
        opened = await site.services.web_sessions.open_session(user_id)
        # The signed start_param first; the URL's tgWebAppStartParam (unsigned, but only
        # where to go: the page checks who may see it) when initData carries none.
        start = person.start_param or str(form.get("start", ""))
        response = web.json_response({"next": start_target(start)})
        await site.replace_session(response, viewer, opened.token)
        return response

    async def signout(request: web.Request) -> web.StreamResponse:
        viewer = await site.viewer(request)
        await site.form(request, viewer)
        if viewer.session is not None:
            await site.services.web_sessions.sign_out(viewer.session.token_hash)
        response = see_other("/")
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    async def language(request: web.Request) -> web.StreamResponse:
        """The resident's choice of language, kept in a cookie (it changes nothing stored)."""
        locale = request.match_info["locale"]
        if locale not in SUPPORTED:
            raise web.HTTPNotFound()
        back = request.query.get("next", "/")
        if not LOCAL_PATH.fullmatch(back) or back.startswith("//"):
            back = "/"
        response = see_other(back)
        site.set_cookie(response, LANG_COOKIE, locale, max_age=365 * 24 * 3600)
        return response

    async def home(request: web.Request) -> web.StreamResponse:
        viewer = await site.viewer(request)
        if viewer.session is not None:
            return see_other("/me")
        return site.say(request, viewer, "web.signin_title", "web.not_signed_in", 200)

    app.router.add_get("/", home)
    app.router.add_get("/signin/{code}", signin_page)
    app.router.add_post("/signin/{code}", signin)
    app.router.add_get("/tg", miniapp_page)
    app.router.add_post("/tg/signin", miniapp_signin)
    app.router.add_post("/signout", signout)
    app.router.add_get("/lang/{locale}", language)
