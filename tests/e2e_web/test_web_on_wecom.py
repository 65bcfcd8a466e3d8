"""/web on WeCom: a one-to-one chat with the bot gives the link, which signs the WeCom person
in (a group refuses, saying why)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from channels.web.channel import WebBeside
from channels.wecom.channel import WeComBeside
from emulators.wecom.world import Place as WeComPlace
from locales import Translator
from tests.auxil.harness import Harness
from tests.e2e_mixed.conftest import (
    BOT_ID,
    SECRET,
    WECOM_BUILDING,
    WECOM_GROUP,
    answered,
    started_wecom,
)
from tests.e2e_web.conftest import _free_port, person, screenshot

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_web_in_a_wecom_private_chat_gives_a_link_that_signs_the_person_in(
    tmp_path: Path, browser: Any, request: pytest.FixtureRequest
) -> None:
    wecom = await started_wecom()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = {
        "YISHI_WECOM_BOT_ID": BOT_ID,
        "YISHI_WECOM_SECRET": SECRET,
        "YISHI_WECOM_WS_URL": wecom.ws_url,
        "YISHI_PUBLIC_URL": url,
        "YISHI_WEB_LISTEN": f"127.0.0.1:{port}",
    }
    h = Harness(
        tmp_path,
        settings=settings,
        companions=lambda s: [
            WeComBeside(s, Translator(s.locale)),
            WebBeside(s, Translator(s.locale)),
        ],
    )
    await h.start()
    try:
        issued = await wecom.write("lisi", "/web")
        await answered(wecom, issued.req_id, "aibot_respond_msg")
        said = wecom.world.seen_by("lisi", WeComPlace("single", "lisi", BOT_ID))[-1].text or ""
        match = re.search(r"(http://\S+/signin/[A-Za-z0-9_-]+)", said)
        assert match, said
        async with person(browser) as page:
            await page.goto(match.group(1))
            await page.wait_for_url(f"{url}/me")
            assert "lisi" in await page.inner_text("h1")  # WeCom names a person by account
            await screenshot(page, request)

        refused = await wecom.mention("lisi", WECOM_BUILDING, "/web")
        await answered(wecom, refused.req_id, "aibot_respond_msg")
        group = wecom.world.seen_by("lisi", WECOM_GROUP)[-1].text or ""
        assert "私聊" in group and "signin" not in group, group
    finally:
        await h.stop()
        await wecom.stop()
