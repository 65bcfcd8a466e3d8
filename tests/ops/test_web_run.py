"""``yishi run`` with the web pages on: served beside Telegram by the real process; a taken
YISHI_WEB_LISTEN stops it with a message naming the variable and what to do; a malformed
YISHI_PUBLIC_URL is refused before anything starts."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import aiohttp

from tests.auxil.process import ProcessHarness
from tests.auxil.webhook import free_port
from tests.auxil.world import RESIDENT
from tests.channel_wecom.test_run import CALLBACK
from tests.unit.test_cli import yishi


def test_a_taken_web_address_stops_it_naming_the_variable(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        result = yishi(
            "run",
            "--channel",
            "wecom",
            "--wecom-callback",
            cwd=tmp_path,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'yishi.db'}",
            YISHI_WECOM_LISTEN="127.0.0.1:0",
            YISHI_HEALTH_LISTEN="off",
            YISHI_PUBLIC_URL="https://yishi.example.org",
            YISHI_WEB_LISTEN=listen,
            **CALLBACK,
        )
    assert result.returncode == 2, result.stderr
    assert f"YISHI_WEB_LISTEN={listen}: the web server cannot listen" in result.stderr


def test_a_malformed_public_url_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = yishi(
        "run",
        cwd=tmp_path,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'untouched.db'}",
        TELEGRAM_BOT_TOKEN="1:x",
        YISHI_PUBLIC_URL="yishi.example.org",
    )
    assert result.returncode == 2
    assert "YISHI_PUBLIC_URL='yishi.example.org' is not valid" in result.stderr, result.stderr
    assert not (tmp_path / "untouched.db").exists()


async def test_yishi_run_serves_the_pages_beside_telegram(tmp_path: Path) -> None:
    """The real process: `yishi run` with YISHI_PUBLIC_URL starts the pages beside Telegram,
    and a /web link from the bot signs its person in there."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    h = ProcessHarness(tmp_path)
    await h.emu.start()
    try:
        await h.start_bot(YISHI_PUBLIC_URL=url, YISHI_WEB_LISTEN=f"127.0.0.1:{port}")
        h.user(RESIDENT, "钱阿姨")
        sent = h.emu.send_message(RESIDENT, RESIDENT, "/web")
        reply = await h.emu.wait_for_bot_message(RESIDENT, after=sent.message_id, timeout=30)
        link = re.search(r"(http://\S+/signin/\S+)", reply.text or "")
        assert link and link.group(1).startswith(url), reply.text
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            async with session.get(link.group(1)) as page:
                csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', await page.text())
            assert csrf
            async with session.post(link.group(1), data={"csrf": csrf.group(1)}) as me:
                assert me.status == 200 and str(me.url) == f"{url}/me"
                assert "钱阿姨" in await me.text()
    finally:
        await h.stop()
