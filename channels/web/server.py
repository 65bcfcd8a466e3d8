"""The web server: aiohttp with Jinja2 templates packaged beside this module, in the bot's
process. Every request is read once (who is signed in, in which language); pages are rendered
on the server and work without JavaScript; a small inline script (under a per-response nonce
of the Content-Security-Policy) only refreshes the tally and signs a Mini App in."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from aiohttp.typedefs import Middleware
from markupsafe import Markup

from bot.services import Services
from bot.services.actors import Actor
from bot.services.announcement_texts import Said, Value
from bot.services.errors import Refusal
from bot.services.web.household_page import HouseholdPages
from bot.services.web.meeting_pages import MeetingPages
from bot.services.web.sessions import SESSION_TTL, SignedIn
from bot.services.web.topic_pages import NotVisible, TopicPages
from channels.common.listening import listen
from channels.common.refusals import refusal_said
from channels.common.told import Writer
from channels.web.security import Attempts, csrf_ok, csrf_token, sign, unsign
from locales import SUPPORTED, Translator, escape

SESSION_COOKIE = "yishi_session"
PRE_COOKIE = "yishi_pre"  # a random value a browser holds before sign-in (its CSRF binding)
LANG_COOKIE = "yishi_lang"
LOOPBACK = frozenset({"127.0.0.1", "::1"})
TEMPLATES = Path(__file__).parent / "templates"
# Telegram Web shows a Mini App in a frame; no other site may.
FRAME_ANCESTORS = "'self' https://web.telegram.org https://*.telegram.org"
SHARED_PAGES = 10_000  # pages kept by render_shared; all forgotten at once beyond it
Read = TypeVar("Read")


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who asks: signed in (``session``) or not, and the language to answer in."""

    session: SignedIn | None
    locale: str
    token: str | None  # the session token (the CSRF binding)
    superadmin: bool = False

    @property
    def actor(self) -> Actor:
        assert self.session is not None
        return Actor(self.session.user_id, is_superadmin=self.superadmin)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
VIEWER = web.RequestKey("yishi_viewer", Viewer)  # who asks, once read (the 404 page needs it)


class Answered(Exception):
    """A handler's answer given before its work (signed out, a form without its token, a
    refusal): raised by ``Web``'s checks, returned by the server (``early_answers``)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def early_answers(site: Web) -> Middleware:
    """The middleware that answers what a handler raised: ``Answered``'s page, and for
    ``NotVisible`` (anywhere: an unknown id and one this person may not see alike) the 404
    page."""

    @web.middleware
    async def answer(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except Answered as early:
            return early.response
        except NotVisible:
            viewer = request.get(VIEWER) or await site.viewer(request)
            return site.not_found(request, viewer)

    return answer


class Web:
    """What every page handler shares: the services, the key, the templates, the limits."""

    def __init__(
        self,
        services: Services,
        translator: Translator,
        pages: TopicPages,
        *,
        public_url: str,
        bot_token: str | None,
    ) -> None:
        self.services = services
        self.translator = translator
        self.pages = pages
        self.meetings = MeetingPages(
            services.work,
            services.clock,
            services.meetings,
            pages.membership,
            services.settings.zone,
        )
        self.households = HouseholdPages(services.work, services.clock)
        self.public_url = public_url
        self.secure = urlsplit(public_url).scheme == "https"
        self.bot_token = bot_token  # for Mini App initData; None: no Mini App (WeCom alone)
        self.key = ""  # set at start (stored in the database)
        self.writer = Writer(
            translator, escape, services.settings.zone, elapsed=translator.duration
        )
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # Pages many viewers see alike (render_shared), with marks where each request's CSRF
        # token and nonce go: random, so no title or opinion can contain them.
        self._shared: dict[Hashable, tuple[object, str]] = {}
        self._csrf_mark = f"csrf{secrets.token_hex(16)}"
        self._nonce_mark = f"nonce{secrets.token_hex(16)}"
        self._marks: dict[str, str] = {}
        # Sign-in attempts: per client address, and per code (in memory: see security.py).
        self.by_address = Attempts(limit=20, window=300)
        self.by_code = Attempts(limit=5, window=600)

    # Who asks ------------------------------------------------------------------------------

    async def viewer(self, request: web.Request) -> Viewer:
        token = unsign(self.key, request.cookies.get(SESSION_COOKIE))
        session = await self.services.web_sessions.signed_in(token) if token else None
        chosen = request.cookies.get(LANG_COOKIE)
        locale = chosen if chosen in SUPPORTED else None
        if locale is None and session is not None:
            locale = session.locale  # read with the session
        locale = locale or self.translator.default_locale
        superadmin = session is not None and self.services.settings.is_superadmin(session.user_id)
        request[VIEWER] = viewer = Viewer(session, locale, token if session else None, superadmin)
        return viewer

    async def signed_in(self, request: web.Request) -> Viewer:
        """Who asks; if nobody is signed in, the answer is the page saying so (401) and how."""
        viewer = await self.viewer(request)
        if viewer.session is None:
            raise Answered(self.say(request, viewer, "web.signin_title", "web.not_signed_in", 401))
        return viewer

    async def form(self, request: web.Request, viewer: Viewer) -> Mapping[str, Any]:
        """The posted form; if it came without its CSRF token (or with another browser's), the
        answer is the 403 page and nothing is done."""
        form = await request.post()
        if not self.csrf_checked(request, viewer, form):
            raise Answered(self.csrf_refused(request, viewer))
        return form

    def binding(self, request: web.Request, viewer: Viewer) -> str | None:
        """What this browser's CSRF tokens are bound to."""
        if viewer.token is not None:
            return viewer.token
        return unsign(self.key, request.cookies.get(PRE_COOKIE))

    def csrf_checked(self, request: web.Request, viewer: Viewer, form: Mapping[str, Any]) -> bool:
        token = form.get("csrf") or request.headers.get("X-CSRF-Token")
        return csrf_ok(self.key, self.binding(request, viewer), str(token) if token else None)

    def client(self, request: web.Request) -> str:
        """Who to count sign-in attempts against. Behind the reverse proxy on this machine
        every request comes from the loopback address: the last X-Forwarded-For entry (the
        one the proxy added) names the client. From anywhere else the header could be
        anything, so the connection's address counts."""
        remote = request.remote or "?"
        if remote in LOOPBACK:
            last = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
            return last or remote
        return remote

    # Answers -------------------------------------------------------------------------------

    def t(self, locale: str, key: str, **params: Value) -> Markup:
        return Markup(self.writer.said(locale, Said(key, params)))

    def refusal(self, locale: str, refusal: Refusal) -> Markup:
        return Markup(self.writer.said(locale, refusal_said(refusal, self.translator.has)))

    def category_name(self, locale: str, key: str | None) -> str:
        """A category's name in ``locale``: the key itself where the catalogue lost it, ""
        for none."""
        entry = self.services.catalogue.find(key) if key else None
        return entry.name(locale) if entry is not None else key or ""

    def render(
        self,
        request: web.Request,
        viewer: Viewer,
        template: str,
        *,
        status: int = 200,
        **values: Any,
    ) -> web.Response:
        nonce = secrets.token_urlsafe(16)
        csrf, fresh_pre = self._csrf(request, viewer)
        html = self._html(request, viewer, template, csrf=csrf, nonce=nonce, **values)
        return self._page(html, nonce, fresh_pre, status)

    def render_shared(
        self,
        request: web.Request,
        viewer: Viewer,
        template: str,
        *,
        key: Hashable,
        token: object,
        values: Callable[[], dict[str, Any]],
        fill: Mapping[str, str] | None = None,
    ) -> web.Response:
        """:meth:`render` of a page that many viewers see alike while ``token`` (an object
        that changes when the page's data does) stands: rendered once per ``key``, language
        and path, with this request's CSRF token and nonce put into the kept text, and each
        of ``fill``'s marks (:meth:`mark`: rendered where a value goes) by its text."""
        kept_key = (template, key, viewer.locale, request.path, viewer.session is not None)
        kept = self._shared.get(kept_key)
        if kept is None or kept[0] is not token:
            html = self._html(
                request, viewer, template, csrf=self._csrf_mark, nonce=self._nonce_mark, **values()
            )
            if len(self._shared) > SHARED_PAGES:
                self._shared.clear()
            kept = self._shared[kept_key] = (token, html)
        nonce = secrets.token_urlsafe(16)
        csrf, fresh_pre = self._csrf(request, viewer)
        html = kept[1].replace(self._csrf_mark, csrf).replace(self._nonce_mark, nonce)
        for mark, text in (fill or {}).items():
            html = html.replace(mark, text)
        return self._page(html, nonce, fresh_pre, 200)

    def mark(self, name: str) -> str:
        """A random word (this process's) that stands for a value in a kept page (no title or
        opinion can contain it); the same for the same ``name``."""
        found = self._marks.get(name)
        if found is None:
            found = self._marks[name] = f"{name}{secrets.token_hex(16)}"
        return found

    def _csrf(self, request: web.Request, viewer: Viewer) -> tuple[str, str | None]:
        """The CSRF token of this browser's forms, and the pre-session value it is bound to
        when this is the browser's first page (then set as its cookie)."""
        binding = self.binding(request, viewer)
        fresh_pre = None
        if binding is None:
            fresh_pre = binding = secrets.token_urlsafe(24)
        return csrf_token(self.key, binding), fresh_pre

    def _html(self, request: web.Request, viewer: Viewer, template: str, **values: Any) -> str:
        locale = viewer.locale
        other = "en" if locale != "en" else "zh_CN"
        return self.env.get_template(template).render(
            t=lambda key, **params: self.t(locale, key, **params),
            locale=locale,
            html_lang="en" if locale == "en" else "zh-CN",
            other_locale=other,
            here=request.path,
            signed_in=viewer.session is not None,
            **values,
        )

    def _page(self, html: str, nonce: str, fresh_pre: str | None, status: int) -> web.Response:
        response = web.Response(text=html, content_type="text/html", status=status)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            f"img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
            f"frame-ancestors {FRAME_ANCESTORS}"
        )
        response.headers["Referrer-Policy"] = "no-referrer"  # a sign-in link is a secret
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        if fresh_pre is not None:
            self.set_cookie(response, PRE_COOKIE, sign(self.key, fresh_pre), max_age=None)
        return response

    def notice(
        self, request: web.Request, viewer: Viewer, title: str, text: Markup, *, status: int
    ) -> web.Response:
        return self.render(
            request,
            viewer,
            "notice.html",
            status=status,
            title=self.t(viewer.locale, title),
            text=text,
        )

    def say(
        self, request: web.Request, viewer: Viewer, title: str, key: str, status: int
    ) -> web.Response:
        """The notice page under ``title`` saying ``key`` (locale keys)."""
        return self.notice(request, viewer, title, self.t(viewer.locale, key), status=status)

    def refused(
        self,
        request: web.Request,
        viewer: Viewer,
        refusal: Refusal,
        status: int,
        title: str = "web.forbidden_title",
    ) -> web.Response:
        """The notice page saying what the domain refused, why and what to do instead."""
        return self.notice(
            request, viewer, title, self.refusal(viewer.locale, refusal), status=status
        )

    async def read(self, request: web.Request, viewer: Viewer, reading: Awaitable[Read]) -> Read:
        """What ``reading`` gives; if refused (Telegram could not say who is in the group), the
        answer is the 503 page saying so: try again."""
        try:
            return await reading
        except Refusal as refusal:
            raise Answered(self.refused(request, viewer, refusal, 503)) from None

    async def show(
        self,
        request: web.Request,
        viewer: Viewer,
        template: str,
        values: Awaitable[dict[str, Any]],
        *,
        notice: Markup | None = None,
        refusal: Refusal | None = None,
    ) -> web.Response:
        """An item's page (a topic's, a meeting's, a matter's) of what ``values`` read, with a
        ``notice`` above it, or what was just refused (409: nothing was done)."""
        shown = await self.read(request, viewer, values)
        refused = self.refusal(viewer.locale, refusal) if refusal is not None else None
        status = 200 if refusal is None else 409
        return self.render(
            request, viewer, template, status=status, **shown, notice=notice, refused=refused
        )

    def not_found(self, request: web.Request, viewer: Viewer) -> web.Response:
        """What an unknown id and one this person may not see both answer."""
        return self.say(request, viewer, "web.not_found_title", "web.not_found", 404)

    def csrf_refused(self, request: web.Request, viewer: Viewer) -> web.Response:
        """A form that came without its token (or another browser's): nothing done."""
        return self.say(request, viewer, "web.forbidden_title", "web.csrf_failed", 403)

    async def replace_session(
        self,
        response: web.StreamResponse,
        viewer: Viewer,
        token: str,
        ttl: timedelta = SESSION_TTL,
    ) -> None:
        """``response`` signs this browser in with ``token`` (a session of ``ttl``); a session
        it held is ended."""
        if viewer.session is not None:
            await self.services.web_sessions.sign_out(viewer.session.token_hash)
        max_age = int(ttl.total_seconds())
        self.set_cookie(response, SESSION_COOKIE, sign(self.key, token), max_age=max_age)

    def set_cookie(
        self, response: web.StreamResponse, name: str, value: str, *, max_age: int | None
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="Lax",
        )


def small_number(text: str, digits: int = 9) -> int | None:
    """``text`` as a number of at most ``digits`` ASCII digits (``str.isdigit`` takes "²" and
    "٣", which ``int`` refuses), else None."""
    if 0 < len(text) <= digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def path_id(request: web.Request, name: str) -> int:
    """The id in the path's ``{name}``; anything but a small number is not a page (404)."""
    number = small_number(request.match_info[name])
    if number is None:
        raise web.HTTPNotFound()
    return number


def see_other(location: str) -> web.Response:
    """A 303 to a page of ours (after a form: the browser GETs it, a reload posts nothing)."""
    return web.Response(status=303, headers={"Location": location})


class WebServer:
    """The pages on ``host:port`` (``YISHI_WEB_LISTEN``); ``port`` 0 takes a free one."""

    def __init__(self, web_: Web, host: str, port: int) -> None:
        from channels.web import (
            household,
            join,
            meetings,
            signin,
            staff,
            staff_board,
            staff_cal,
            staff_participation,
            staff_record,
            topics,
        )

        self.web = web_
        self.host, self._port = host, port
        self.app = web.Application(client_max_size=64 * 1024, middlewares=[early_answers(web_)])
        signin.add_routes(self.app, web_)
        topics.add_routes(self.app, web_)
        meetings.add_routes(self.app, web_)
        household.add_routes(self.app, web_)
        join.add_routes(self.app, web_)
        staff_cal.add_routes(self.app, web_)
        staff_participation.add_routes(self.app, web_)
        staff_record.add_routes(self.app, web_)
        staff.add_routes(self.app, web_)
        staff_board.add_routes(self.app, web_)
        self._runner: web.AppRunner | None = None
        self.port = port

    async def start(self) -> None:
        self.web.key = await self.web.services.web_sessions.cookie_key()
        self._runner, self.port = await listen(
            self.app,
            self.host,
            self._port,
            setting="YISHI_WEB_LISTEN",
            what="the web server",
            forwarded="YISHI_PUBLIC_URL",
        )

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"
