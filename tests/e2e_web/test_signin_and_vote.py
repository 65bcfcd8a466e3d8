"""A resident takes part from the web page: the /web link from the bot's private chat, the
topic page, a vote changed on the page that is the same ballot as the button press (the
group's ballot message shows it), an opinion; the link used once, an expired one."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.tables import ballots, opinions, web_sessions
from tests.auxil.topics import publish, tally, topic_id
from tests.auxil.world import BUILDING_CHAT, RESIDENT, community, count
from tests.e2e_web.conftest import Browsing, WebHarness, web_link, web_running

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def sessions(h: WebHarness) -> int:
    return await count(h, select(func.count()).select_from(web_sessions))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_a_web_vote_changes_the_chat_ballot_and_the_group_message_shows_it(
    database: str, browsing: Browsing
) -> None:
    async with browsing.running(database) as h:
        await community(h)
        ballot = await publish(h, "楼道加装声控灯")
        topic = topic_id(ballot)
        pressed = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
        assert pressed["text"] == "已记录：同意"
        link = await web_link(h, RESIDENT)

        async with browsing.person() as page:
            await page.goto(link)  # the page posts the code back by itself
            await page.wait_for_url(f"{h.web_url}/me")
            assert "钱阿姨" in await page.inner_text("h1")
            await page.goto(f"{h.web_url}/t/{topic}")
            assert await page.inner_text("#title") == "楼道加装声控灯"
            assert "你的选择：同意" in await page.inner_text("#my-vote")
            assert "同意\n1" in await page.inner_text("#tally")

            await page.click("button.vote:text-is('反对')")
            await page.wait_for_url(re.compile(r".*\?voted=1$"))
            assert await page.inner_text("#notice") == "已记录：反对"
            assert "反对\n1" in await page.inner_text("#tally")
            assert "同意\n0" in await page.inner_text("#tally")

            # The group's ballot message is refreshed as after a press: one ballot, changed.
            await h.emu.wait_until(
                lambda: tally(h.emu.message(BUILDING_CHAT, ballot.message_id)).get("反对") == 1
            )
            assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id)) == {
                "同意": 0,
                "反对": 1,
                "弃权": 0,
            }
            counted = select(func.count()).select_from(ballots)
            assert await count(h, counted.where(ballots.c.topic_id == topic)) == 1

            await page.fill("#opinion-text", "灯要装在每层楼梯口")
            await page.click("#opinion-form button")
            await page.wait_for_url(re.compile(r".*\?said=public$"))
            assert "灯要装在每层楼梯口" in await page.inner_text("#opinions")
            assert await count(h, select(func.count()).select_from(opinions)) == 1
            await browsing.screenshot(page)

        # The link worked once: followed again, it says so and signs nobody in.
        async with browsing.person() as again:
            await again.goto(link)
            await again.wait_for_selector("#message")
            assert "已经用过了" in await again.inner_text("#message")
            answer = await again.goto(f"{h.web_url}/me")
            assert answer is not None and answer.status == 401
            await browsing.screenshot(again, "-used")
        assert await sessions(h) == 1


async def test_an_expired_link_signs_nobody_in(browsing: Browsing) -> None:
    async with browsing.running() as h:
        await community(h)
        link = await web_link(h, RESIDENT)
        h.clock.advance(timedelta(minutes=10, seconds=1))
        async with browsing.person() as page:
            await page.goto(link)
            await page.wait_for_selector("#message")
            assert "已过期" in await page.inner_text("#message")
            await browsing.screenshot(page)
        assert await sessions(h) == 0


async def test_web_in_a_group_is_refused_with_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with web_running("sqlite", tmp_path, caplog) as h:
        await community(h)
        reply = await h.say(BUILDING_CHAT, RESIDENT, "/web")
        assert "私聊" in (reply.text or "")
        assert "signin" not in (reply.text or "")
        assert await sessions(h) == 0
