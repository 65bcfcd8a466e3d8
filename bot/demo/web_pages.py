"""The demo's web part: the resident's pages (a topic, a meeting, "my household", a household
invitation's /join) served beside the bot as ``yishi run`` serves them, their links printed,
and screenshots of them written beside the demo's other output — by Debian's Chromium through
Playwright, as the browser tests use it; without either the demo says so and goes on."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.demo.runner import DemoRun
from bot.services.actors import Actor, ChatKind, Place
from channels.web.channel import WebBeside
from channels.web.security import sign
from channels.web.server import SESSION_COOKIE

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()  # asked once, at import (not in the event loop)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class ResidentPages:
    base: str
    cookie: str  # the resident's signed session cookie
    pages: dict[str, str]  # name -> path, signed in
    join: str  # the household invitation's path (opened signed out)


async def resident_pages(
    run: DemoRun,
    web: WebBeside,
    *,
    resident: int,
    officer: int,
    building_chat: int,
    topic: int,
    meeting: int,
    unit: str,
) -> ResidentPages:
    """A session for ``resident`` (as their /web link would open) and an invitation for
    ``unit`` issued by ``officer``: what the pages show them."""
    assert web.server is not None
    services = run.app.bot_data.services
    opened = await services.web_sessions.open_session(resident)
    _, issued = await services.invitations.issue(
        Actor(officer), Place(building_chat, ChatKind.GROUP), unit
    )
    return ResidentPages(
        base=web.server.url,
        cookie=sign(web.server.web.key, opened.token),
        pages={"topic": f"/t/{topic}", "meeting": f"/m/{meeting}", "me": "/me"},
        join=f"/join/{issued.code}",
    )


async def screenshots(found: ResidentPages, output: Path, stream: TextIO) -> list[Path]:
    """Each page as a phone shows it, as ``web-<name>.png`` in ``output``; none (said why)
    without Chromium or Playwright."""
    if not HAVE_CHROMIUM:
        print(
            f"No screenshots of the pages: {CHROMIUM} is missing (apt-get install chromium).",
            file=stream,
        )
        return []
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        print("No screenshots of the pages: Playwright is not installed.", file=stream)
        return []
    saved = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            signed_in = await browser.new_context(
                viewport={"width": 360, "height": 740}, locale="zh-CN"
            )
            await signed_in.add_cookies(
                [{"name": SESSION_COOKIE, "value": found.cookie, "url": found.base}]
            )
            stranger = await browser.new_context(
                viewport={"width": 360, "height": 740}, locale="zh-CN"
            )
            shots = [(signed_in, name, path) for name, path in found.pages.items()]
            shots.append((stranger, "join", found.join))
            for context, name, path in shots:
                page = await context.new_page()
                await page.goto(found.base + path)
                target = output / f"web-{name}.png"
                await page.screenshot(path=str(target), full_page=True)
                saved.append(target)
        finally:
            await browser.close()
    return saved
