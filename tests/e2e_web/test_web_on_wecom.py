"""The web pages beside WeCom: /web in a WeCom one-to-one chat signs the WeCom person in (a
group refuses, saying why); a topic posted in a WeCom group is visible on the web to those
recorded in that group, and to nobody else (a browser is not a group member)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from channels.web.channel import WebBeside
from channels.wecom.channel import WeComBeside
from emulators.wecom.server import WeComEmulator
from emulators.wecom.world import Place as WeComPlace
from locales import Translator
from tests.auxil.harness import Harness
from tests.auxil.world import OUTSIDER
from tests.e2e_mixed.conftest import (
    BOT_ID,
    SECRET,
    WECOM_BUILDING,
    WECOM_GROUP,
    a_grid_topic_card,
    answered,
    started_wecom,
)
from tests.e2e_web.conftest import _free_port, person, screenshot, signed_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


@asynccontextmanager
async def beside_wecom(tmp_path: Path) -> AsyncIterator[tuple[Harness, WeComEmulator, str]]:
    """Telegram, WeCom and the web pages in one process; the pages' address."""
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
            WebBeside(s, Translator(s.locale), membership=lambda: membership()),
        ],
    )

    def membership() -> Any:
        assert h.app is not None
        return h.app.bot_data.runtime.membership

    await h.start()
    try:
        yield h, wecom, url
    finally:
        await h.stop()
        await wecom.stop()


async def wecom_link(wecom: WeComEmulator, userid: str) -> str:
    issued = await wecom.write(userid, "/web")
    await answered(wecom, issued.req_id, "aibot_respond_msg")
    said = wecom.world.seen_by(userid, WeComPlace("single", userid, BOT_ID))[-1].text or ""
    match = re.search(r"(http://\S+/signin/\S+)", said)
    assert match, said
    return match.group(1)


async def test_web_in_a_wecom_private_chat_gives_a_link_that_signs_the_person_in(
    tmp_path: Path, browser: Any, request: pytest.FixtureRequest
) -> None:
    async with beside_wecom(tmp_path) as (_, wecom, url):
        link = await wecom_link(wecom, "lisi")
        async with person(browser) as page:
            await page.goto(link)
            await page.wait_for_url(f"{url}/me")
            assert "lisi" in await page.inner_text("h1")  # WeCom names a person by account
            await screenshot(page, request)

        refused = await wecom.mention("lisi", WECOM_BUILDING, "/web")
        await answered(wecom, refused.req_id, "aibot_respond_msg")
        group = wecom.world.seen_by("lisi", WECOM_GROUP)[-1].text or ""
        assert "私聊" in group and "signin" not in group, group


async def test_a_topic_in_a_wecom_group_is_seen_on_the_web_by_its_members_only(
    tmp_path: Path, browser: Any, request: pytest.FixtureRequest
) -> None:
    async with beside_wecom(tmp_path) as (h, wecom, url):
        card = await a_grid_topic_card(h, wecom)  # the grid's topic, in every building's group
        options = {option["text"]: option["id"] for option in card["checkbox"]["option_list"]}
        pressed = await wecom.submit_vote("lisi", card["task_id"], [options["同意"]])
        await answered(wecom, pressed.req_id, "aibot_respond_update_msg")
        topic = 1

        async with person(browser) as page:  # lisi voted in the WeCom group: recorded there
            await page.goto(await wecom_link(wecom, "lisi"))
            await page.wait_for_url(f"{url}/me")
            await page.goto(f"{url}/t/{topic}")
            assert await page.inner_text("#title") == "统一更换门禁"
            assert "你的选择：同意" in await page.inner_text("#my-vote")
            # a WeCom group's size is not known: the votes are counted, not a share of a roll
            assert await page.inner_text("#turnout") == "已投票 1"
            await screenshot(page, request)

        async with person(browser) as page:  # in no group at all
            await signed_in(page, h, OUTSIDER)
            answer = await page.goto(f"{url}/t/{topic}")
            assert answer is not None and answer.status == 404
