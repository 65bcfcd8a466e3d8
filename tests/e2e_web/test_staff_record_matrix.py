"""The staff record's routes × who asks, over plain HTTP: the same people see figures,
records and exports as could ask /stats and /export in a chat (officers of the node, or
above), the audit log as /audit (community admins, super-admins); a topic outside a person's
scope is a 404 like an id that does not exist; odd query strings are answered, never a 500."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.auxil.harness import SUPERADMIN
from tests.auxil.topics import publish, topic_id
from tests.auxil.world import (
    BUILDING_HEAD,
    GRID_WORKER,
    OUTSIDER,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    code_in,
    community,
)
from tests.e2e_web.conftest import http_signed_in, web_running

pytestmark = pytest.mark.asyncio(loop_scope="session")

SECOND_GRID_CHAT = -1005
ROUTES = (
    "participation",
    "record",
    "record.csv",
    "record.xlsx",
    "topic.csv",
    "topic.xlsx",
    "other.csv",
    "other.xlsx",
    "audit",
)
# Written from PRODUCT.md's rules: officers read what is theirs (a building head their
# building, a grid worker their grid, community staff the community); /audit is for
# community admins and super-admins; residents and strangers are told these pages are not
# for them; signed out: sign in first.
OFFICER = {route: 200 for route in ROUTES if route != "audit"} | {"audit": 403}
EXPECTED = {
    "super-admin": dict.fromkeys(ROUTES, 200),
    "community staff": OFFICER,
    "grid worker": OFFICER | {"other.csv": 404, "other.xlsx": 404},
    "building head": OFFICER | {"other.csv": 404, "other.xlsx": 404},
    "resident": dict.fromkeys(ROUTES, 403),
    "in no group": dict.fromkeys(ROUTES, 403),
    "not signed in": dict.fromkeys(ROUTES, 401),
}
PEOPLE = {
    "super-admin": SUPERADMIN,
    "community staff": STAFF,
    "grid worker": GRID_WORKER,
    "building head": BUILDING_HEAD,
    "resident": RESIDENT,
    "in no group": OUTSIDER,
}


async def test_every_staff_route_answers_each_person_as_the_chat_would(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_running("sqlite", tmp_path, caplog) as h:
        await community(h)
        mine = topic_id(await publish(h, "外墙清洗"))
        issued = await h.say(STAFF_CHAT, STAFF, "/newgrid 第二网格")
        await h.group(SECOND_GRID_CHAT, "第二网格群", members=[], admins=[STAFF])
        await h.say(SECOND_GRID_CHAT, STAFF, f"/bind {code_in(issued.text)}")
        other = topic_id(await publish(h, "第二网格停车", chat=SECOND_GRID_CHAT, by=STAFF))
        paths = {
            "participation": "/staff/participation",
            "record": "/staff/record",
            "record.csv": "/staff/record.csv",
            "record.xlsx": "/staff/record.xlsx",
            "topic.csv": f"/staff/record/{mine}.csv",
            "topic.xlsx": f"/staff/record/{mine}.xlsx",
            "other.csv": f"/staff/record/{other}.csv",
            "other.xlsx": f"/staff/record/{other}.xlsx",
            "audit": "/staff/audit",
        }
        wrong = []
        for who, expected in EXPECTED.items():
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as session:
                await http_signed_in(h, session, PEOPLE.get(who))
                found = {}
                for route, path in paths.items():
                    async with session.get(h.web_url + path, allow_redirects=False) as answer:
                        body = await answer.read()
                        found[route] = answer.status
                        if answer.status != 200 or route == "record.xlsx":
                            assert "第二网格停车".encode() not in body, (who, route)
            if found != expected:
                wrong.append((who, found))
        assert wrong == []


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_odd_queries_are_answered_with_why_and_never_crash(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_running(database, tmp_path, caplog) as h:
        await community(h)
        await publish(h, "外墙清洗")
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            await http_signed_in(h, session, SUPERADMIN)
            odd = [
                "/staff/participation?preset=forever",
                "/staff/participation?from=2026-13-01",
                "/staff/participation?from=２０２６-１２-０１",
                "/staff/participation?from=2026-12-09&to=2026-12-01",
                "/staff/participation?node=²",
                "/staff/participation?node=999999",
                "/staff/participation?cpreset=%00",
                "/staff/record?q=%00%00",
                "/staff/record?q=" + "%25_" * 300,
                "/staff/record?page=²",
                "/staff/record?page=" + "9" * 40,
                "/staff/record?page=999999",
                "/staff/record?node=-1",
                "/staff/record?state=maybe",
                "/staff/record?category=" + "x" * 500,
                "/staff/record?from=2026-12-01&to=2026-11-01",
                "/staff/record.csv?state=maybe",
                "/staff/record.xlsx?q=%00",
                "/staff/record/².csv",
                "/staff/record/" + "9" * 40 + ".xlsx",
                "/staff/record/1.pdf",
                "/staff/audit?user=abc",
                "/staff/audit?user=" + "9" * 30,
                "/staff/audit?node=nowhere",
                "/staff/audit?before=²",
                "/staff/audit?action=%25",
                "/staff/audit?from=yesterday",
            ]
            statuses = {}
            for path in odd:
                async with session.get(h.web_url + path, allow_redirects=False) as answer:
                    text = await answer.text(errors="replace")
                    statuses[path] = answer.status
                    if answer.status == 400:
                        # The page says why (a refusal beside the form, or a notice).
                        assert 'class="refused"' in text or 'id="message"' in text, path
        assert all(status < 500 for status in statuses.values()), statuses
        assert statuses["/staff/participation?preset=forever"] == 400
        assert statuses["/staff/record?state=maybe"] == 400
        assert statuses["/staff/record?page=999999"] == 200
