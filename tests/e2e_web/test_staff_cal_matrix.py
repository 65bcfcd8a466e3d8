"""The meetings pages' routes × who asks, as the chat's rules say (an officer of a node sees
its meetings and their RSVP lists, as the 👥 button shows them; a feed's link is renewed by
the officers of its community or grid), and odd input answered without a 5xx or a change.
Plain HTTP (no browser): the server's answer and the database are what is checked."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.tables import audit_log, calendar_feeds
from tests.auxil.harness import SUPERADMIN
from tests.auxil.meetings import schedule
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    OUTSIDER,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    community,
    count,
)
from tests.e2e_web.conftest import Asked, WebHarness, http_signed_in, statuses, web_running

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROUTES = ("meetings", "rsvp", "grid feed", "community feed")
FEEDS = ("grid feed", "community feed")
# Written from PRODUCT.md's roles, not from the code.
EXPECTED = {
    "resident": dict.fromkeys(ROUTES, 403),
    "building head": {"meetings": 200, "rsvp": 200, "grid feed": 403, "community feed": 403},
    "grid worker": {"meetings": 200, "rsvp": 200, "grid feed": 200, "community feed": 403},
    "community staff": dict.fromkeys(ROUTES, 200),
    "super-admin": dict.fromkeys(ROUTES, 200),
    "in no group": dict.fromkeys(ROUTES, 403),
    "not signed in": dict.fromkeys(ROUTES, 401),
}
PEOPLE = {
    "resident": RESIDENT,
    "building head": BUILDING_HEAD,
    "grid worker": GRID_WORKER,
    "community staff": STAFF,
    "super-admin": SUPERADMIN,
    "in no group": OUTSIDER,
}


async def _nodes(h: WebHarness) -> tuple[int, int]:
    async with h.services.database.transaction() as repos:
        grid = await repos.orgs.node_of_chat(GRID_CHAT)
        town = await repos.orgs.node_of_chat(STAFF_CHAT)
    assert grid is not None and town is not None
    return grid.id, town.id


async def test_every_meetings_route_answers_each_person_as_the_chat_would(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_running("sqlite", tmp_path, caplog) as h:
        await community(h)
        await schedule(h, "2026-12-20 19:00 楼栋会", chat=BUILDING_CHAT, by=BUILDING_HEAD)
        grid, town = await _nodes(h)
        renewed = select(func.count()).select_from(audit_log)
        renewed = renewed.where(audit_log.c.action == "calendar.feed_renewed")
        wrong = []
        for who, expected in EXPECTED.items():
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as session:
                csrf = await http_signed_in(h, session, PEOPLE.get(who))
                base = h.web_url
                requests: dict[str, Asked] = {
                    "meetings": ("GET", f"{base}/staff/meetings", None),
                    "rsvp": ("GET", f"{base}/staff/meetings/o/1", None),
                    "grid feed": ("POST", f"{base}/staff/meetings/feed/{grid}", {"csrf": csrf}),
                    "community feed": (
                        "POST",
                        f"{base}/staff/meetings/feed/{town}",
                        {"csrf": csrf},
                    ),
                }
                before = await count(h, renewed)
                found = await statuses(session, requests)
                after = await count(h, renewed)
            if found != expected:
                wrong.append((who, found))
            allowed = sum(1 for route in FEEDS if expected[route] == 200)
            if after - before != allowed:
                wrong.append((who, f"{after - before} links made, {allowed} allowed"))
        assert wrong == []


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_odd_input_on_the_meetings_pages_is_answered_and_changes_nothing(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_running(database, tmp_path, caplog) as h:
        await community(h)
        await schedule(h, "每月15日 19:00 协商议事日", chat=STAFF_CHAT, by=STAFF)
        grid, town = await _nodes(h)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            csrf = await http_signed_in(h, session, STAFF)
            gets = {
                "/staff/meetings?month=²⁰²⁶-12": 200,
                "/staff/meetings?month=1999-13": 200,
                "/staff/meetings?month=" + "9" * 400: 200,
                "/staff/meetings?month=2026-12&node=%00": 200,
                "/staff/meetings?node=" + "9" * 40: 200,
                "/staff/meetings?view=%00": 200,
                "/staff/meetings/o/²": 404,
                "/staff/meetings/o/-1": 404,
                "/staff/meetings/o/999999": 404,
                "/cal/" + "%00" * 10 + ".ics": 404,
                "/cal/" + "a" * 500 + ".ics": 404,
                "/cal/.ics": 404,
                "/p/²": 404,
                f"/p/{town}": 404,  # not published
                f"/p/{grid}": 404,  # not a community
                "/p/" + "9" * 40: 404,
            }
            statuses = {}
            for path, _ in gets.items():
                async with session.get(h.web_url + path, allow_redirects=False) as answer:
                    await answer.read()
                    statuses[path] = answer.status
            posts = {
                f"/staff/meetings/feed/{grid}": {},  # no CSRF token
                f"/staff/meetings/feed/{grid} ": {"csrf": "0" * 64},
                "/staff/meetings/feed/²": {"csrf": csrf},
                "/staff/meetings/feed/999999": {"csrf": csrf},
            }
            for path, form in posts.items():
                async with session.post(
                    h.web_url + path.strip(), data=form, allow_redirects=False
                ) as answer:
                    await answer.read()
                    statuses[path] = answer.status
        assert {path: statuses[path] for path in gets} == gets
        assert all(400 <= statuses[path] < 500 for path in posts), statuses
        assert await count(h, select(func.count()).select_from(calendar_feeds)) == 0
