"""Every staff route × who asks, as the chat's role ladder says (PRODUCT.md, not the code):
anyone with a role has a desk; the board is for officers of a grid or above; a matter's page
for officers of a node it reached (anyone else: the same 404 as for an id that does not
exist); an act is checked by the card's own service (here an unknown act: 409, nothing
changed); odd input is answered and changes nothing. Plain HTTP (no browser)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from storage.tables import escalations, resolutions
from tests.auxil.harness import SUPERADMIN
from tests.auxil.topics import publish, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_WORKER,
    NEIGHBOUR,
    OUTSIDER,
    RESIDENT,
    STAFF,
    community,
    count,
    rows,
)
from tests.e2e_web.conftest import Asked, WebHarness, http_signed_in, statuses, web_running

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROUTES = ("home", "board", "matter", "act", "act without csrf")
EXPECTED = {
    "resident": {"home": 403, "board": 403, "matter": 404, "act": 404, "act without csrf": 403},
    "building head": {"home": 200, "board": 403, "matter": 404, "act": 404},
    "grid worker": {"home": 200, "board": 200, "matter": 200, "act": 409},
    "community staff": {"home": 200, "board": 200, "matter": 200, "act": 409},
    "super-admin": {"home": 200, "board": 200, "matter": 200, "act": 409},
    "in no group": {"home": 403, "board": 403, "matter": 404, "act": 404},
    "not signed in": dict.fromkeys(ROUTES, 401),
}
for expected in EXPECTED.values():
    expected.setdefault("act without csrf", 403)
PEOPLE = {
    "resident": RESIDENT,
    "building head": BUILDING_HEAD,
    "grid worker": GRID_WORKER,
    "community staff": STAFF,
    "super-admin": SUPERADMIN,
    "in no group": OUTSIDER,
}


async def escalated(h: WebHarness) -> int:
    ballot = await publish(h, "东门快递柜 期限=1h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    await h.settle()
    await h.pass_time(timedelta(hours=1))
    return topic_id(ballot)


async def _answers(
    h: WebHarness, session: aiohttp.ClientSession, csrf: str, topic: int
) -> dict[str, int]:
    matter = f"{h.web_url}/staff/matters/{topic}"
    requests: dict[str, Asked] = {
        "home": ("GET", f"{h.web_url}/staff", None),
        "board": ("GET", f"{h.web_url}/staff/board", None),
        "matter": ("GET", matter, None),
        "act": ("POST", matter, {"csrf": csrf, "action": "bogus"}),
        "act without csrf": ("POST", matter, {"action": "resolve", "text": "越权"}),
    }
    return await statuses(session, requests)


async def _hop_state(h: WebHarness) -> list[str]:
    async with h.services.database.transaction() as repos:
        found = await repos.connection.execute(select(escalations.c.state))
        return [str(row[0]) for row in found]


async def test_every_staff_route_answers_each_person_as_the_roles_say(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_running("sqlite", tmp_path, caplog) as h:
        await community(h)
        topic = await escalated(h)
        before = await _hop_state(h)
        assert before == ["open"]
        wrong = []
        for who, expected in EXPECTED.items():
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as session:
                csrf = await http_signed_in(h, session, PEOPLE.get(who))
                found = await _answers(h, session, csrf, topic)
            if found != expected:
                wrong.append((who, found))
        assert wrong == []
        assert await _hop_state(h) == before
        assert await count(h, rows(resolutions)) == 0


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_odd_staff_input_is_answered_and_changes_nothing(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_running(database, tmp_path, caplog) as h:
        await community(h)
        topic = await escalated(h)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            csrf = await http_signed_in(h, session, STAFF)
            base = h.web_url
            statuses = {}
            for path in (
                "/staff/matters/²",
                "/staff/matters/-1",
                "/staff/matters/" + "9" * 40,
                "/staff/matters/999999",
                "/staff/board?grid=²&building=-1&category=%00&age=999&state=zz&page=99999",
                "/staff/board?grid=" + "9" * 40 + "&page=" + "9" * 40,
                "/staff/board?category=" + "x" * 5000,
            ):
                async with session.get(base + path, allow_redirects=False) as answer:
                    statuses[path[:60]] = answer.status
            for form in (
                {"csrf": csrf, "action": "resolve", "text": ""},
                {"csrf": csrf, "action": "resolve", "text": "   "},
                {"csrf": csrf, "action": "resolve", "text": "x" * 2001},
                {"csrf": csrf, "action": "send_up", "text": ""},
                {"csrf": csrf, "action": "\x00"},
                {"csrf": "0" * 64, "action": "accept"},
            ):
                async with session.post(
                    f"{base}/staff/matters/{topic}", data=form, allow_redirects=False
                ) as answer:
                    statuses[f"{form!r:.50}"] = answer.status
        assert all(status < 500 for status in statuses.values()), statuses
        assert statuses["/staff/matters/²"] == 404
        assert await _hop_state(h) == ["open"]
        assert await count(h, rows(resolutions)) == 0
