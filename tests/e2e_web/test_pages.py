"""The pages as a resident lives with them: the tally refreshing by itself, a page's weight,
the language switch, "my household", and a topic after its close (the outcome, where the
matter went, the decision)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import expect
from sqlalchemy import func, select

from storage.tables import web_sessions
from tests.auxil.topics import publish, register_household, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    community,
    count,
)
from tests.e2e_web.conftest import Browsing

pytestmark = pytest.mark.asyncio(loop_scope="session")

PAGE_BUDGET = 60 * 1024  # bytes of HTML (there are no images)


async def test_the_tally_refreshes_by_itself_and_the_page_is_small_and_bilingual(
    browsing: Browsing,
) -> None:
    async with browsing.running() as h:
        await community(h)
        topic = topic_id(ballot := await publish(h, "小区停车位重新划线"))
        async with browsing.signed_in(h, RESIDENT) as page:
            answer = await page.goto(f"{h.web_url}/t/{topic}")
            assert answer is not None and len(await answer.body()) < PAGE_BUDGET
            assert "同意\n0" in await page.inner_text("#tally")

            await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "同意")
            # No reload: the page's script polls the tally (every 3 s).
            await expect(page.locator("#tally .n").first).to_have_text("1", timeout=10_000)
            assert "已投票 1" in await page.inner_text("#turnout")

            await page.click("#lang")
            await page.wait_for_selector("html[lang=en]")
            assert "Current tally" in await page.inner_text("#results")
            assert await page.inner_text("#lang") == "中文"
            await page.goto(f"{h.web_url}/me")  # the choice stays
            assert "My household" in await page.inner_text("header")
            await browsing.screenshot(page)

            await page.click("header button:text-is('Sign out')")
            await page.wait_for_url(f"{h.web_url}/")
            answer = await page.goto(f"{h.web_url}/t/{topic}")
            assert answer is not None and answer.status == 401
        revoked = select(func.count()).select_from(web_sessions)
        assert await count(h, revoked.where(web_sessions.c.revoked_at.is_not(None))) == 1


async def test_my_household_lists_my_registration_and_my_open_topics(browsing: Browsing) -> None:
    async with browsing.running() as h:
        await community(h)
        await register_household(h, "2-502", "89.5")
        ballot = await publish(h, "更换楼道窗户")
        await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")  # she is a member
        async with browsing.signed_in(h, RESIDENT) as page:
            assert "1号楼 2-502：已通过" in await page.inner_text("#registrations")
            await page.click("#open-topics a:has-text('更换楼道窗户')")
            await page.wait_for_url(f"{h.web_url}/t/{topic_id(ballot)}")
            await page.goto(f"{h.web_url}/me")
            await browsing.screenshot(page)


async def test_after_the_close_the_page_shows_the_outcome_where_it_went_and_the_decision(
    browsing: Browsing,
) -> None:
    async with browsing.running() as h:
        await community(h)
        ballot = await publish(h, "是否在东门设置快递柜 期限=1h")
        topic = topic_id(ballot)
        await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
        await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
        await h.pass_time(timedelta(hours=1))  # a tie: unresolved, up to the grid
        async with browsing.signed_in(h, RESIDENT) as page:
            await page.goto(f"{h.web_url}/t/{topic}")
            assert "平票" in await page.inner_text("#verdict")
            assert "第一网格" in await page.inner_text("#escalated")
            assert await page.locator("button.vote").count() == 0
            assert "最终票数" in await page.inner_text("#results")

            await h.say(GRID_CHAT, GRID_WORKER, f"/resolve {topic} 在西门设置快递柜")
            await h.settle()
            published = next(
                m
                for m in h.emu.bot_messages(BUILDING_CHAT)
                if "在西门设置快递柜" in (m.text or "") and m.button_texts()
            )
            await h.press(BUILDING_CHAT, published.message_id, NEIGHBOUR, "不满意")
            await page.reload()
            assert "在西门设置快递柜" in await page.inner_text("#decision")
            assert "满意 0 · 基本满意 0 · 不满意 1" in await page.inner_text("#ratings")
            await browsing.screenshot(page)


async def test_a_secret_ballot_with_a_hidden_tally_reveals_on_the_page_what_the_chat_does(
    browsing: Browsing,
) -> None:
    async with browsing.running() as h:
        await community(h)
        ballot = await publish(h, "物业费调整 匿名=yes 隐藏结果=yes")
        topic = topic_id(ballot)
        await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
        async with browsing.signed_in(h, RESIDENT) as page:
            await page.goto(f"{h.web_url}/t/{topic}")
            assert await page.locator("#tally").count() == 0
            assert "截止后公布" in await page.inner_text("#results")
            await page.click("button.vote:text-is('同意')")
            await page.wait_for_url(f"{h.web_url}/t/{topic}?voted=0")
            assert await page.inner_text("#notice") == "已记录：同意"  # as a press answers
            await page.goto(f"{h.web_url}/t/{topic}")
            assert await page.locator("#my-vote").count() == 0  # nobody's choice is shown
            assert await page.locator("#tally").count() == 0
            live = await page.request.get(f"{h.web_url}/t/{topic}/live.json")
            assert (await live.json())["tally"] is None
            await browsing.screenshot(page)
