"""The demo's screenshots of the staff pages: the escalation board while building B's tie
waits at the grid, and the matter's page once it is resolved (its whole path), taken by a
real Chromium (Debian's /usr/bin/chromium through Playwright) signed in as community staff.
Without Chromium or Playwright the demo says so and goes on without them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.demo.web_pages import CHROMIUM
from channels.web.channel import WebBeside
from channels.web.security import sign
from channels.web.server import SESSION_COOKIE

DESK: Any = {"width": 1100, "height": 720}


class StaffShots:
    """Screenshots of the web pages the demo's process serves (``web``)."""

    def __init__(self, web: WebBeside, output: Path, user_id: int) -> None:
        self._web, self._output, self._user_id = web, output, user_id
        self.missing: str | None = None
        if not CHROMIUM.exists():
            self.missing = f"{CHROMIUM} is missing (Debian's chromium package)"
        else:
            try:
                import playwright.async_api  # noqa: F401
            except ImportError:
                self.missing = "Playwright is not installed (pip install playwright)"
        self.taken: list[Path] = []

    async def take(self, path: str, name: str) -> Path | None:
        """``path`` (a page of the site) as ``name``.png in the output folder; None, saying
        nothing more, when the browser is missing (said once, by the demo)."""
        server = self._web.server
        if self.missing is not None or server is None:
            return None
        from playwright.async_api import async_playwright

        services = server.web.services
        opened = await services.web_sessions.open_session(self._user_id)
        cookie: Any = {
            "name": SESSION_COOKIE,
            "value": sign(server.web.key, opened.token),
            "url": server.url,
        }
        target = self._output / f"{name}.png"
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                context = await browser.new_context(viewport=DESK, locale="zh-CN")
                await context.add_cookies([cookie])
                page = await context.new_page()
                await page.goto(server.url + path)
                await page.screenshot(path=str(target), full_page=True)
            finally:
                await browser.close()
        self.taken.append(target)
        return target
