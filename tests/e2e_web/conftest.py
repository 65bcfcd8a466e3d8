"""The web pages end to end: the real bot on the Telegram emulator with the web server beside
it (as ``yishi run`` starts it), and a real Chromium (Debian's, through Playwright's Python
API) per worker process, a fresh browser context (its own cookies) per person.

Without /usr/bin/chromium these tests skip, saying why; under CI (YISHI_REQUIRE_BROWSER=1,
set by .ci/run) they fail instead. Each test saves a screenshot of the page it checked under
test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from channels.web.channel import WebBeside
from locales import Translator
from tests.auxil.harness import Harness
from tests.auxil.world import GRID_CHAT, GRID_WORKER, OTHER_BUILDING_CHAT, code_in
from tests.conftest import migrated_postgres_database, migrated_sqlite_copy
from tests.e2e.conftest import _no_handler_errors

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()  # asked once, at import (not in the event loop)
REQUIRE_BROWSER = os.environ.get("YISHI_REQUIRE_BROWSER", "") not in ("", "0", "false")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
OTHER_RESIDENT = 8  # a resident of 2号楼 (another_building)
# One request of a route matrix: the method, the URL, the form posted (or None).
Asked = tuple[str, str, Mapping[str, str] | None]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """One Chromium for the worker process."""
    if not HAVE_CHROMIUM:
        message = f"{CHROMIUM} is missing (Debian's chromium package)"
        if REQUIRE_BROWSER:
            pytest.fail(f"{message}; YISHI_REQUIRE_BROWSER is set")
        pytest.skip(f"{message}: the browser tests need it (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        await chromium.close()


class WebHarness(Harness):
    """The harness with the web pages on a port of their own (YISHI_PUBLIC_URL points at it)."""

    def __init__(self, tmp_path: Path, *, public_url: str | None = None, **options: Any) -> None:
        """``public_url``: the address links name (a proxy's), else the server's own."""
        port = _free_port()
        self.web_url = f"http://127.0.0.1:{port}"  # where the server listens
        settings = {
            "YISHI_PUBLIC_URL": public_url or self.web_url,
            "YISHI_WEB_LISTEN": f"127.0.0.1:{port}",
        }
        super().__init__(
            tmp_path,
            settings=settings,
            companions=lambda s: [
                WebBeside(
                    s,
                    Translator(s.locale),
                    membership=lambda: self._membership(),
                )
            ],
            **options,
        )

    def _membership(self) -> Any:
        assert self.app is not None
        return self.app.bot_data.runtime.membership


@asynccontextmanager
async def web_running(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[WebHarness]:
    """The bot and its web pages on ``database`` ("sqlite" or "postgresql")."""
    if database == "sqlite":
        harness = WebHarness(tmp_path)
        await migrated_sqlite_copy(tmp_path / "yishi.db")
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()
    else:
        async with migrated_postgres_database() as url:
            harness = WebHarness(tmp_path, database_url=url)
            await harness.start()
            try:
                yield harness
            finally:
                await harness.stop()
    _no_handler_errors(caplog)


@asynccontextmanager
async def person(browser: Any, *, javascript: bool = True) -> AsyncIterator[Any]:
    """A phone-sized browser context of its own (its own cookies): one person's page."""
    context = await browser.new_context(
        viewport=PHONE, locale="zh-CN", java_script_enabled=javascript
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        await context.close()


LINK = re.compile(r"(http://\S+/signin/\S+)")


def _pages_url(h: Harness) -> str:
    return h.extra_settings["YISHI_PUBLIC_URL"]


async def web_link(h: Harness, user: int) -> str:
    """``/web`` in the bot's private chat; the link it answers with."""
    reply = await h.say(user, user, "/web")
    match = LINK.search(reply.text or "")
    assert match, reply.text
    assert match.group(1).startswith(_pages_url(h))
    return match.group(1)


async def signed_in(page: Any, h: Harness, user: int) -> None:
    """``user`` signed in on ``page`` through the link /web gave them."""
    await page.goto(await web_link(h, user))
    await page.wait_for_url(f"{_pages_url(h)}/me")


async def csrf_on(http: aiohttp.ClientSession, url: str) -> str:
    """The CSRF token of the forms on the page at ``url``."""
    async with http.get(url) as page:
        match = CSRF.search(await page.text())
    assert match
    return match.group(1)


async def http_signed_in(h: WebHarness, http: aiohttp.ClientSession, user: int | None) -> str:
    """``user`` signed in over plain HTTP by their /web link (None: nobody, a browser that
    only opened pages); the CSRF token of this browser's forms."""
    if user is None:
        async with http.get(h.web_url + "/") as home:
            await home.text()
        return await csrf_on(http, h.web_url + "/signin/" + "A" * 32)
    link = await web_link(h, user)
    csrf = await csrf_on(http, link)
    async with http.post(link, data={"csrf": csrf}, allow_redirects=False) as done:
        assert done.status == 303, await done.text()
    return await csrf_on(http, h.web_url + "/me")


async def statuses(http: aiohttp.ClientSession, asked: Mapping[str, Asked]) -> dict[str, int]:
    """The status of each request (``asked`` by route), redirects not followed."""
    found = {}
    for route, (method, url, form) in asked.items():
        async with http.request(method, url, data=form, allow_redirects=False) as answer:
            await answer.read()
            found[route] = answer.status
    return found


async def another_building(h: Harness) -> None:
    """2号楼 under the grid, bound to a group of its own with ``OTHER_RESIDENT`` in it."""
    h.user(OTHER_RESIDENT, "吴邻楼")
    issued = await h.say(GRID_CHAT, GRID_WORKER, "/newbuilding 2号楼")
    await h.group(
        OTHER_BUILDING_CHAT, "2号楼议事群", members=[OTHER_RESIDENT], admins=[GRID_WORKER]
    )
    await h.say(OTHER_BUILDING_CHAT, GRID_WORKER, f"/bind {code_in(issued.text)}")


async def screenshot(page: Any, request: pytest.FixtureRequest, suffix: str = "") -> Path:
    """The page as checked, kept for the record (CI lists them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name) + suffix
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


@dataclass(frozen=True, slots=True)
class Browsing:
    """What a browser test works with: the bot and its pages to start (on ``database``), a
    person's browser, the screenshots it keeps."""

    browser: Any
    tmp_path: Path
    caplog: pytest.LogCaptureFixture
    request: pytest.FixtureRequest

    def running(self, database: str = "sqlite") -> AbstractAsyncContextManager[WebHarness]:
        return web_running(database, self.tmp_path, self.caplog)

    def person(self, *, javascript: bool = True) -> AbstractAsyncContextManager[Any]:
        return person(self.browser, javascript=javascript)

    @asynccontextmanager
    async def signed_in(self, h: Harness, user: int) -> AsyncIterator[Any]:
        """A person's browser, ``user`` signed in through the link /web gave them."""
        async with self.person() as page:
            await signed_in(page, h, user)
            yield page

    async def screenshot(self, page: Any, suffix: str = "") -> Path:
        return await screenshot(page, self.request, suffix)


@pytest.fixture
def browsing(
    browser: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> Browsing:
    return Browsing(browser, tmp_path, caplog, request)
