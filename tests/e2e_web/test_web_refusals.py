"""What the web pages refuse, in a real browser: forged and stale Mini App data, a forged
cookie, a form posted without its CSRF token, another building's topic (by changing the id),
and script in a title or an opinion. Each is refused (or shown as text) with nothing changed."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import func, select

from storage.tables import ballots, opinions, web_sessions
from tests.auxil.topics import publish, topic_id
from tests.auxil.world import (
    GRID_CHAT,
    GRID_WORKER,
    OTHER_BUILDING_CHAT,
    OUTSIDER,
    RESIDENT,
    STAFF,
    code_in,
    community,
    count,
)
from tests.e2e_web.conftest import Browsing, WebHarness, web_link

pytestmark = pytest.mark.asyncio(loop_scope="session")


def init_data(
    h: WebHarness, user: int, name: str, *, token: str | None = None, **extra: str
) -> str:
    """A Mini App's initData as Telegram signs it (its documented algorithm)."""
    fields = {
        "auth_date": str(int(h.clock.now().timestamp())),
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user, "first_name": name, "language_code": "zh-hans"}),
        **extra,
    }
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", (token or h.emu.token).encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def mini_app(h: WebHarness, data: str) -> str:
    """The Mini App's URL as Telegram opens it: the data in the fragment."""
    return f"{h.web_url}/tg#tgWebAppData={quote(data)}&tgWebAppVersion=8.0&tgWebAppPlatform=web"


async def rows(h: WebHarness, table: Any) -> int:
    return await count(h, select(func.count()).select_from(table))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_a_mini_app_signs_in_with_telegrams_data_and_not_with_forged_or_stale(
    database: str, browsing: Browsing
) -> None:
    async with browsing.running(database) as h:
        await community(h)
        topic = topic_id(await publish(h, "更换单元门禁"))

        async with browsing.person() as page:
            forged = init_data(h, RESIDENT, "钱阿姨", token="999:forged-token-of-another-bot")
            await page.goto(mini_app(h, forged))
            await page.wait_for_selector("#message.refused")
            assert "无法确认你的 Telegram 身份" in await page.inner_text("#message")
            await browsing.screenshot(page, "-forged")
        async with browsing.person() as page:
            stale = init_data(h, RESIDENT, "钱阿姨", start_param=f"t{topic}")
            h.clock.advance(timedelta(hours=24, minutes=1))
            await page.goto(mini_app(h, stale))
            await page.wait_for_selector("#message.refused")
        assert await rows(h, web_sessions) == 0

        async with browsing.person() as page:
            valid = init_data(h, RESIDENT, "钱阿姨", start_param=f"t{topic}")
            await page.goto(mini_app(h, valid))
            await page.wait_for_url(f"{h.web_url}/t/{topic}")
            assert await page.inner_text("#title") == "更换单元门禁"
            assert await page.locator("button.vote").count() == 3  # she votes: a member
            await browsing.screenshot(page)
        assert await rows(h, web_sessions) == 1


async def test_a_forged_cookie_and_a_post_without_its_csrf_token_change_nothing(
    browsing: Browsing,
) -> None:
    async with browsing.running() as h:
        await community(h)
        topic = topic_id(await publish(h, "楼顶晾晒区划分"))
        async with browsing.person() as page:
            await page.context.add_cookies(
                [{"name": "yishi_session", "value": "made-up-token.0123abcd", "url": h.web_url}]
            )
            answer = await page.goto(f"{h.web_url}/t/{topic}")
            assert answer is not None and answer.status == 401
            assert "还没有登录" in await page.inner_text("#message")
            posted = await page.request.post(
                f"{h.web_url}/t/{topic}/vote", form={"option": "0"}, max_redirects=0
            )
            assert posted.status == 401

        async with browsing.signed_in(h, RESIDENT) as page:
            await page.goto(f"{h.web_url}/t/{topic}")
            for form in ({"option": "0"}, {"option": "0", "csrf": "0" * 64}):
                posted = await page.request.post(
                    f"{h.web_url}/t/{topic}/vote", form=form, max_redirects=0
                )
                assert posted.status == 403
                assert "什么都没有改变" in await posted.text()
            said = await page.request.post(
                f"{h.web_url}/t/{topic}/opinion", form={"text": "伪造的意见"}, max_redirects=0
            )
            assert said.status == 403
            await page.goto(f"{h.web_url}/t/{topic}")
            assert await page.locator("#my-vote").count() == 0
            await browsing.screenshot(page)
        assert await rows(h, ballots) == 0
        assert await rows(h, opinions) == 0


async def test_another_buildings_resident_gets_404_whatever_the_id(browsing: Browsing) -> None:
    async with browsing.running() as h:
        await community(h)
        issued = await h.say(GRID_CHAT, GRID_WORKER, "/newbuilding 2号楼")
        await h.group(OTHER_BUILDING_CHAT, "2号楼议事群", members=[OUTSIDER], admins=[GRID_WORKER])
        await h.say(OTHER_BUILDING_CHAT, GRID_WORKER, f"/bind {code_in(issued.text)}")
        topic = topic_id(await publish(h, "1号楼电梯维修"))

        async with browsing.signed_in(h, OUTSIDER) as page:
            for wanted in (f"/t/{topic}", f"/t/{topic + 1}", f"/t/{topic}/live.json"):
                answer = await page.goto(f"{h.web_url}{wanted}")
                assert answer is not None and answer.status == 404, wanted
            await page.goto(f"{h.web_url}/t/{topic}")
            assert "找不到这个页面" in await page.inner_text("h1")
            assert "1号楼电梯维修" not in await page.content()
            csrf = await page.locator("input[name=csrf]").first.get_attribute("value")
            posted = await page.request.post(
                f"{h.web_url}/t/{topic}/vote", form={"option": "0", "csrf": csrf or ""}
            )
            assert posted.status == 404
            await browsing.screenshot(page)
        assert await rows(h, ballots) == 0

        # Community staff, officers above the building and not in its group, read it (and do
        # not vote).
        async with browsing.signed_in(h, STAFF) as page:
            answer = await page.goto(f"{h.web_url}/t/{topic}")
            assert answer is not None and answer.status == 200
            assert await page.locator("button.vote").count() == 0


async def test_script_in_a_title_or_an_opinion_is_shown_as_text_and_never_runs(
    browsing: Browsing,
) -> None:
    title = '"<script>window.xss=1</script><img src=x onerror=window.xss=2>"'
    opinion = '<img src=x onerror="window.xss=3"><script>window.xss=4</script>'
    async with browsing.running() as h:
        await community(h)
        topic = topic_id(await publish(h, title))
        async with browsing.signed_in(h, RESIDENT) as page:
            await page.goto(f"{h.web_url}/t/{topic}")
            await page.fill("#opinion-text", opinion)
            await page.click("#opinion-form button")
            await page.wait_for_url(re.compile(r".*\?said=public$"))
            assert await page.inner_text("#title") == title
            assert opinion in await page.inner_text("#opinions")
            assert await page.evaluate("window.xss") is None
            assert await page.locator("main img").count() == 0
            assert await page.locator("main script").count() == 0
            await browsing.screenshot(page)
            await page.goto(f"{h.web_url}/me")
            assert title in await page.inner_text("#open-topics")
            assert await page.evaluate("window.xss") is None


async def test_without_javascript_the_link_and_the_vote_work_and_guessing_codes_is_limited(
    browsing: Browsing,
) -> None:
    async with browsing.running() as h:
        await community(h)
        topic = topic_id(await publish(h, "垃圾分类投放点调整"))
        async with browsing.person(javascript=False) as page:
            # Guessing: each code is tried at most five times (and each address twenty).
            guess = f"{h.web_url}/signin/{'A' * 32}"
            await page.goto(guess)
            csrf = await page.locator("input[name=csrf]").get_attribute("value")
            statuses = []
            for _ in range(6):
                tried = await page.request.post(guess, form={"csrf": csrf or ""})
                statuses.append(tried.status)
            assert statuses == [410, 410, 410, 410, 410, 429]
            assert "尝试太多次" in await tried.text()

            await page.goto(await web_link(h, RESIDENT))  # no script: a button to press
            await page.click("#signin button")
            await page.wait_for_url(f"{h.web_url}/me")
            await page.goto(f"{h.web_url}/t/{topic}")
            await page.click("button.vote:text-is('同意')")
            await page.wait_for_url(f"{h.web_url}/t/{topic}?voted=0")
            assert "同意\n1" in await page.inner_text("#tally")
            await browsing.screenshot(page)
        assert await rows(h, ballots) == 1
