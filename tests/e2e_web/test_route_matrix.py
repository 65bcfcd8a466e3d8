"""Every route of a topic's page × who asks: the same people may read, vote and give
opinions on the web as in the chat, and anyone else gets the same 404 as for an id that does
not exist; what is refused changes nothing. Plain HTTP (no browser): what is checked is the
server's answer and the database."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.tables import ballots, meeting_rsvps, opinions
from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.meetings import meeting_number, schedule
from tests.auxil.topics import publish, topic_id
from tests.auxil.world import (
    GRID_WORKER,
    OUTSIDER,
    RESIDENT,
    STAFF,
    community,
    count,
)
from tests.e2e_web.conftest import (
    CSRF,
    OTHER_RESIDENT,
    Asked,
    WebHarness,
    another_building,
    http_signed_in,
    statuses,
    web_running,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROUTES = ("page", "live", "vote", "opinion", "private")
# Who may do what, written from PRODUCT.md's rules (not from the code): a member of the
# group the topic is posted in does everything; officers above read (they do not vote in a
# group they are not in); a super-admin also gives private opinions; anyone else: 404.
EXPECTED = {
    "resident": {"page": 200, "live": 200, "vote": 303, "opinion": 303, "private": 303},
    "grid worker (in the group)": {
        "page": 200,
        "live": 200,
        "vote": 303,
        "opinion": 303,
        "private": 303,
    },
    "community staff": {"page": 200, "live": 200, "vote": 409, "opinion": 409, "private": 409},
    "super-admin": {"page": 200, "live": 200, "vote": 409, "opinion": 409, "private": 303},
    "another building's resident": dict.fromkeys(ROUTES, 404),
    "in no group": dict.fromkeys(ROUTES, 404),
    "not signed in": dict.fromkeys(ROUTES, 401),
}
PEOPLE = {
    "resident": RESIDENT,
    "grid worker (in the group)": GRID_WORKER,
    "community staff": STAFF,
    "super-admin": SUPERADMIN,
    "another building's resident": OTHER_RESIDENT,
    "in no group": OUTSIDER,
}


async def _answers(
    h: WebHarness, session: aiohttp.ClientSession, csrf: str, topic: int
) -> dict[str, int]:
    url = f"{h.web_url}/t/{topic}"
    requests: dict[str, Asked] = {
        "page": ("GET", url, None),
        "live": ("GET", f"{url}/live.json", None),
        "vote": ("POST", f"{url}/vote", {"csrf": csrf, "option": "0"}),
        "opinion": ("POST", f"{url}/opinion", {"csrf": csrf, "kind": "public", "text": "好"}),
        "private": ("POST", f"{url}/opinion", {"csrf": csrf, "kind": "private", "text": "好"}),
    }
    return await statuses(session, requests)


async def test_every_route_answers_each_person_as_the_chat_would(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_running("sqlite", tmp_path, caplog) as h:
        await community(h)
        await another_building(h)
        topic = topic_id(await publish(h, "外墙清洗"))

        wrong = []
        for who, expected in EXPECTED.items():
            jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP-address host
            async with aiohttp.ClientSession(cookie_jar=jar) as session:
                csrf = await http_signed_in(h, session, PEOPLE.get(who))
                before = (
                    await count(h, select(func.count()).select_from(ballots)),
                    await count(h, select(func.count()).select_from(opinions)),
                )
                found = await _answers(h, session, csrf, topic)
                after = (
                    await count(h, select(func.count()).select_from(ballots)),
                    await count(h, select(func.count()).select_from(opinions)),
                )
            if found != expected:
                wrong.append((who, found))
            allowed = sum(1 for status in expected.values() if status == 303)
            changed = (after[0] - before[0]) + (after[1] - before[1])
            if changed != allowed:
                wrong.append((who, f"{changed} rows written, {allowed} allowed"))
        assert wrong == []


async def test_behind_https_the_session_cookie_is_secure_httponly_and_lax(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = WebHarness(tmp_path, public_url="https://yishi.example.org")
    await h.start()
    try:
        await community(h)
        reply = await h.say(RESIDENT, RESIDENT, "/web")
        match = re.search(r"https://yishi\.example\.org(/signin/\S+)", reply.text or "")
        assert match, reply.text
        link = h.web_url + match.group(1)  # as the TLS proxy forwards it
        # The proxy speaks https to the browser, which sends Secure cookies back; this client
        # talks plain HTTP to the server behind it, so it hands the cookie back itself.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
            async with session.get(link) as page:
                form = CSRF.search(await page.text())
                pre = page.headers.getall("Set-Cookie")
            assert form
            held = pre[0].split(";")[0]
            async with session.post(
                link,
                data={"csrf": form.group(1)},
                headers={"Cookie": held},
                allow_redirects=False,
            ) as done:
                assert done.status == 303
                cookies = done.headers.getall("Set-Cookie")
        for header in (*pre, *cookies):
            assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
        assert any(header.startswith("yishi_session=") for header in cookies)
    finally:
        await h.stop()


async def test_web_when_the_pages_are_off_says_so_and_what_to_do(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = Harness(tmp_path)  # no YISHI_PUBLIC_URL
    await h.start()
    try:
        await community(h)
        reply = await h.say(RESIDENT, RESIDENT, "/web")
        assert "还没有开通网页版" in (reply.text or "")
        assert "在群里投票" in (reply.text or "")
    finally:
        await h.stop()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_odd_input_is_answered_and_changes_nothing(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_running(database, tmp_path, caplog) as h:
        await community(h)
        topic = topic_id(await publish(h, "外墙清洗"))
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            csrf = await http_signed_in(h, session, RESIDENT)
            base = h.web_url
            odd_gets = [
                "/t/²",
                "/t/٣",
                "/t/-1",
                "/t/1.0",
                "/t/%00",
                "/t/" + "9" * 40,
                f"/t/{topic}?voted=²",
                f"/t/{topic}?voted=99",
                "/signin/" + "%00" * 20,
                "/signin/" + "a" * 500,
                "/lang/fr?next=//evil.example",
                "/lang/en?next=https://evil.example",
                "/no/such/page",
                "/m/²",
                "/m/-1",
                "/m/" + "9" * 40,
                "/m/1?answered=%00",
                "/join/" + "%00" * 20,
                "/join/" + "a" * 500,
                "/join/abc",
                "/join/" + "z" * 20,
            ]
            statuses = {}
            for path in odd_gets:
                async with session.get(base + path, allow_redirects=False) as answer:
                    statuses[path] = answer.status
                    if answer.status == 303:
                        assert answer.headers["Location"] == "/", path
            forms = [
                ("vote", {"csrf": csrf, "option": option})
                for option in ("²", "-1", "99", "", "0" * 1000, "1e3")
            ] + [
                ("opinion", {"csrf": csrf, "text": text})
                for text in ("", "   ", "x" * 2001, "\x00", "好\x00好")
            ]
            for route, form in forms:
                async with session.post(
                    f"{base}/t/{topic}/{route}", data=form, allow_redirects=False
                ) as answer:
                    statuses[f"{route} {form!r:.40}"] = answer.status
            async with session.post(
                f"{base}/t/{topic}/opinion", data={"csrf": csrf, "text": "x" * 70_000}
            ) as answer:
                statuses["a 70 kB form"] = answer.status
            async with session.post(
                f"{base}/tg/signin", data={"csrf": csrf, "init_data": "%"}
            ) as answer:
                statuses["garbage initData"] = answer.status
            for answer_text in ("maybe", "", "\x00", "yes" * 1000):
                async with session.post(
                    f"{base}/m/1/rsvp", data={"csrf": csrf, "answer": answer_text}
                ) as answer:
                    statuses[f"rsvp {answer_text!r:.20}"] = answer.status
            for unit in ("", "\x00", "2-502" * 100, "楼上"):
                async with session.post(
                    f"{base}/join/" + "z" * 20, data={"csrf": csrf, "unit": unit}
                ) as answer:
                    statuses[f"join {unit!r:.20}"] = answer.status
        assert all(status < 500 for status in statuses.values()), statuses
        assert await count(h, select(func.count()).select_from(ballots)) == 0
        written = await count(h, select(func.count()).select_from(opinions))
        assert written <= 1, "only the opinion with its NUL taken out, if any"


# A meeting's page and RSVP × who asks, from the same rules: a member of the group it was
# announced in reads and answers; officers above read (they answer in a group they are in);
# anyone else gets the 404 of an unknown id; an answer refused changes nothing.
MEETING_ROUTES = ("page", "rsvp")
MEETING_EXPECTED = {
    "resident": {"page": 200, "rsvp": 303},
    "grid worker (in the group)": {"page": 200, "rsvp": 303},
    "community staff": {"page": 200, "rsvp": 409},
    "super-admin": {"page": 200, "rsvp": 409},
    "another building's resident": dict.fromkeys(MEETING_ROUTES, 404),
    "in no group": dict.fromkeys(MEETING_ROUTES, 404),
    "not signed in": dict.fromkeys(MEETING_ROUTES, 401),
}


async def test_every_meeting_route_answers_each_person_as_the_chat_would(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_running("sqlite", tmp_path, caplog) as h:
        await community(h)
        await another_building(h)
        note = await schedule(h, "2026-12-03 19:00 楼栋议事会")
        meeting = meeting_number(note)
        answered = select(func.count()).select_from(meeting_rsvps)

        wrong = []
        for who, expected in MEETING_EXPECTED.items():
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as session:
                csrf = await http_signed_in(h, session, PEOPLE.get(who))
                before = await count(h, answered)
                url = f"{h.web_url}/m/{meeting}"
                found = await statuses(
                    session,
                    {
                        "page": ("GET", url, None),
                        "rsvp": ("POST", f"{url}/rsvp", {"csrf": csrf, "answer": "yes"}),
                    },
                )
                after = await count(h, answered)
            if found != expected:
                wrong.append((who, found))
            allowed = 1 if expected["rsvp"] == 303 else 0
            if after - before != allowed:
                wrong.append((who, f"{after - before} answers written, {allowed} allowed"))
        assert wrong == []
