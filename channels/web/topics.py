"""The topic page (/t/<id>: read, vote, change the vote, opinions, the outcome and where the
matter went) and its live tally (/t/<id>/live.json)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from markupsafe import Markup

from bot.services.announcement_texts import ballot_facts, verdict_said
from bot.services.errors import Refusal
from bot.services.topics.views import (
    BallotState,
    BallotView,
    OpinionAction,
    PrivateOpinionAction,
    VoteAction,
)
from bot.services.web.topic_pages import NotVisible, TopicPage
from channels.web.server import Viewer, Web, path_id, see_other, small_number


def add_routes(app: web.Application, site: Web) -> None:
    async def values(viewer: Viewer, topic: int) -> dict[str, Any]:
        page = await site.pages.page(viewer.actor, topic)
        return _topic_values(site, viewer.locale, page)

    async def topic_page(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        topic = path_id(request, "topic")
        page = await site.read(request, viewer, site.pages.page(viewer.actor, topic))
        options = page.view.tally or ()
        chosen = small_number(request.query.get("voted", ""), 2)
        said = request.query.get("said")
        told: tuple[str, int] | tuple[str, str] | None = None
        if chosen is not None and chosen < len(options):
            told = ("voted", chosen)
        elif said in ("public", "private"):
            told = ("said", said)

        def values() -> dict[str, Any]:
            notice = None
            if told is not None and told[0] == "voted":
                notice = site.t(viewer.locale, "web.voted", option=options[int(told[1])][0])
            elif told is not None:
                key = "web.opinion_saved" if told[1] == "public" else "web.private_opinion_saved"
                notice = site.t(viewer.locale, key)
            return {
                **_topic_values(site, viewer.locale, page),
                "notice": notice,
                "refused": None,
                "tally_shown": [
                    (option, marks[index]) for index, (option, _) in enumerate(options)
                ],
                "turnout": turnout_mark,
            }

        # Everyone who sees this topic alike (whether they vote here, their choice, what they
        # were just told) gets the page rendered once while the topic is unchanged but for its
        # counts, which are filled in.
        marks = [site.mark(f"count{index}") for index in range(len(options))]
        turnout_mark = site.mark("turnout")
        fill = {mark: str(count) for mark, (_, count) in zip(marks, options, strict=True)}
        fill[turnout_mark] = str(_turnout(site, viewer.locale, page))
        return site.render_shared(
            request,
            viewer,
            "topic.html",
            key=(page.voting_chat is not None, page.my_option, told),
            token=page.shared,
            values=values,
            fill=fill,
        )

    async def vote(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        topic = path_id(request, "topic")
        form = await site.form(request, viewer)
        option = small_number(str(form.get("option", "")), 2)
        try:
            if option is None:
                raise Refusal("topics.bad_option")
            receipt = await site.pages.vote(viewer.actor, topic, option)
        except Refusal as refusal:
            return await site.show(
                request, viewer, "topic.html", values(viewer, topic), refusal=refusal
            )
        if receipt.unchanged:
            notice = site.t(viewer.locale, "web.vote_unchanged", option=receipt.option)
            return await site.show(
                request, viewer, "topic.html", values(viewer, topic), notice=notice
            )
        return see_other(f"/t/{topic}?voted={option}")

    async def opinion(request: web.Request) -> web.StreamResponse:
        viewer = await site.signed_in(request)
        topic = path_id(request, "topic")
        form = await site.form(request, viewer)
        public = form.get("kind") != "private"
        try:
            text = str(form.get("text", "")).replace("\x00", "")  # PostgreSQL stores no NUL
            await site.pages.opinion(viewer.actor, topic, text, public=public)
        except Refusal as refusal:
            return await site.show(
                request, viewer, "topic.html", values(viewer, topic), refusal=refusal
            )
        return see_other(f"/t/{topic}?said={'public' if public else 'private'}")

    # The body every poll of a topic gets in a language, while what it shows is unchanged.
    live_bodies: dict[tuple[int, str], tuple[tuple[object, ...], bytes]] = {}

    async def live(request: web.Request) -> web.StreamResponse:
        """The tally as the page shows it, for the page's script (polled every few seconds)."""
        viewer = await site.viewer(request)
        if viewer.session is None:
            raise web.HTTPUnauthorized()
        try:
            view = await site.pages.live(viewer.actor, path_id(request, "topic"))
        except NotVisible:
            raise web.HTTPNotFound() from None
        except Refusal:
            raise web.HTTPServiceUnavailable() from None
        tally = (
            None if view.tally is None or view.tally_hidden else [count for _, count in view.tally]
        )
        is_open = view.state is BallotState.OPEN
        shown = (tally, view.cast, view.eligible, is_open)
        key = (view.topic_id, viewer.locale)
        kept = live_bodies.get(key)
        if kept is None or kept[0] != shown:
            turnout = _turnout_of(site, viewer.locale, view)
            body = json.dumps(
                {"tally": tally, "turnout": str(turnout), "open": is_open}, ensure_ascii=False
            ).encode()
            if len(live_bodies) > 10_000:
                live_bodies.clear()
            kept = live_bodies[key] = (shown, body)
        return web.Response(
            body=kept[1],
            content_type="application/json",
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    app.router.add_get("/t/{topic}", topic_page)
    app.router.add_post("/t/{topic}/vote", vote)
    app.router.add_post("/t/{topic}/opinion", opinion)
    app.router.add_get("/t/{topic}/live.json", live)


def _topic_values(site: Web, locale: str, page: TopicPage) -> dict[str, Any]:
    view = page.view
    t = site.t
    facts = [
        Markup(site.writer.line(locale, line))
        for line in ballot_facts(view, site.services.catalogue, locale)
    ]
    if view.tally is None:
        who = t(locale, "web.opinion_only")
    elif view.household:
        who = t(locale, "web.who_votes_households", place=page.node_name)
    elif view.scope_level is not None:
        who = t(locale, "web.who_votes_all", place=page.node_name)
    else:
        who = t(locale, "web.who_votes_people", place=page.node_name)
    votes = [action for action in view.actions if isinstance(action, VoteAction)]
    verdict = None
    if view.verdict is not None:
        verdict = Markup(site.writer.said(locale, verdict_said(view.verdict)))
    escalated = None
    if page.escalation is not None:
        state_key = f"states.{page.escalation.state}"
        state = t(locale, state_key) if site.translator.has(state_key) else page.escalation.state
        escalated = t(locale, "web.escalated", node=page.escalated_to or "?", state=state)
    ratings = None
    if page.resolution is not None and page.ratings:
        ratings = t(
            locale,
            "escalation.history_ratings",
            satisfied=page.ratings.get("satisfied", 0),
            basically=page.ratings.get("basically", 0),
            unsatisfied=page.ratings.get("unsatisfied", 0),
        )
    return {
        "view": view,
        "tally_shown": list(view.tally or ()),
        "turnout": _turnout(site, locale, page),
        "page": page,
        "facts": facts,
        "who": who,
        "votes": votes,
        "my_option": page.my_option,
        "can_opine": any(isinstance(a, OpinionAction) for a in view.actions),
        "can_opine_privately": any(isinstance(a, PrivateOpinionAction) for a in view.actions),
        "is_open": view.state is BallotState.OPEN,
        "is_cancelled": view.state is BallotState.CANCELLED,
        "verdict": verdict,
        "escalated": escalated,
        "decision": page.resolution.decision if page.resolution else None,
        "ratings": ratings,
    }


def _turnout(site: Web, locale: str, page: TopicPage) -> Markup:
    return _turnout_of(site, locale, page.view)


def _turnout_of(site: Web, locale: str, view: BallotView) -> Markup:
    """Cast of eligible; cast alone when who may vote is not known (a WeCom group's size)."""
    key = "web.turnout" if view.roll_known else "web.turnout_unknown"
    return site.t(locale, key, cast=view.cast, eligible=view.eligible)
