"""A WeChat household on the web page, and meetings there: a household invitation scanned
from the link the bot sent (the unit confirmed, a vote that is the household's one ballot,
the group's ballot message following it), a used code, a wrong unit, /revoke signing the
browser out; an RSVP on the meeting page that the chat's meeting message shows; a Mini App
opened on a topic or a meeting; another building's meeting by its id is a 404."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.tables import ballots, registrations, users, web_sessions
from tests.auxil.meetings import answers, meeting_number, schedule
from tests.auxil.topics import publish, register_household, tally, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_WORKER,
    OTHER_BUILDING_CHAT,
    RESIDENT,
    community,
    count,
)
from tests.e2e_web.conftest import (
    Browsing,
    WebHarness,
    another_building,
)
from tests.e2e_web.test_web_refusals import init_data, mini_app

pytestmark = pytest.mark.asyncio(loop_scope="session")

JOIN = re.compile(r"(http://\S+/join/[a-z0-9]+)")


async def invitation(h: WebHarness, unit: str) -> str:
    """``/invite <unit>`` by the 楼栋长 in the building group: the link the bot sent."""
    answer = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/invite {unit}")
    match = JOIN.search(answer.text or "")
    assert match, answer.text
    assert match.group(1).startswith(h.web_url)
    await h.settle()
    return match.group(1)


async def web_people(h: WebHarness) -> int:
    return await count(h, select(func.count()).select_from(users).where(users.c.platform == "web"))


async def join(page: Any, link: str, unit: str) -> None:
    await page.goto(link)
    assert "1号楼" in await page.inner_text("#building")
    await page.fill("#unit", unit)
    await page.click("#join-form button")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_a_scanned_invitation_votes_the_households_one_ballot(
    database: str, browsing: Browsing
) -> None:
    async with browsing.running(database) as h:
        await community(h)
        await register_household(h, "2-502", "89.5")  # 钱阿姨, in the group, same household
        ballot = await publish(h, "更换电梯 按户=yes")
        topic = topic_id(ballot)
        link = await invitation(h, "2-502")

        async with browsing.person() as page:
            await join(page, link, "2-502")
            await page.wait_for_url(f"{h.web_url}/me?joined=1")
            assert "已确认住户" in await page.inner_text("#notice")
            assert "1号楼 2-502：已通过" in await page.inner_text("#registrations")
            listed = await page.inner_text("#open-topics")
            assert f"#{topic} 更换电梯" in listed and "还没有投票" in listed
            await browsing.screenshot(page, "-me")

            await page.goto(f"{h.web_url}/t/{topic}")
            await page.click("button.vote:text-is('同意')")
            await page.wait_for_url(re.compile(r".*\?voted=0$"))
            await h.emu.wait_until(
                lambda: tally(h.emu.message(BUILDING_CHAT, ballot.message_id)).get("同意") == 1
            )
            # 钱阿姨 presses in the group: the same household's ballot, changed, still one.
            pressed = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "反对")
            assert pressed["text"] == "已改为：反对"  # the household had voted
            await h.emu.wait_until(
                lambda: tally(h.emu.message(BUILDING_CHAT, ballot.message_id)).get("反对") == 1
            )
            assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id)) == {
                "同意": 0,
                "反对": 1,
                "弃权": 0,
            }
            counted = select(func.count()).select_from(ballots).where(ballots.c.topic_id == topic)
            assert await count(h, counted) == 1
            await page.goto(f"{h.web_url}/me")
            assert "你家已投票" in await page.inner_text("#open-topics")
            await page.goto(f"{h.web_url}/t/{topic}")
            assert "你的选择：反对" in await page.inner_text("#my-vote")
            await browsing.screenshot(page)

        # Signed in for half a year, not the month of a /web link: no chat to ask again.
        async with h.services.database.transaction() as repos:
            session = (
                await repos.connection.execute(
                    select(web_sessions.c.created_at, web_sessions.c.expires_at)
                )
            ).one()
        assert (session.expires_at - session.created_at).days == 180
        assert await web_people(h) == 1


async def test_a_wrong_unit_changes_nothing_and_a_used_code_says_so(browsing: Browsing) -> None:
    async with browsing.running() as h:
        await community(h)
        link = await invitation(h, "2-502")
        async with browsing.person() as page:
            await join(page, link, "2-503")  # a neighbour's code scanned by mistake
            await page.wait_for_selector("#refused")
            assert "与这个邀请码的住户不符" in await page.inner_text("#refused")
            assert await page.input_value("#unit") == "2-503"
            await browsing.screenshot(page, "-wrong-unit")
            assert await web_people(h) == 0
            assert await count(h, select(func.count()).select_from(web_sessions)) == 0

            await page.fill("#unit", "２－５０２")  # as a phone may type it
            await page.click("#join-form button")
            await page.wait_for_url(f"{h.web_url}/me?joined=1")
        assert await web_people(h) == 1

        async with browsing.person() as again:
            answer = await again.goto(link)
            assert answer is not None and answer.status == 410
            assert "已经用过了" in await again.inner_text("#message")
            await browsing.screenshot(again, "-used")
            me = await again.goto(f"{h.web_url}/me")
            assert me is not None and me.status == 401
        assert await web_people(h) == 1
        assert await count(h, select(func.count()).select_from(registrations)) == 1


async def test_revoke_signs_the_households_browser_out_at_its_next_request(
    browsing: Browsing,
) -> None:
    async with browsing.running() as h:
        await community(h)
        link = await invitation(h, "2-502")
        async with browsing.person() as page:
            await join(page, link, "2-502")
            await page.wait_for_url(f"{h.web_url}/me?joined=1")
            answer = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/revoke 2-502")
            assert "1 位网页住户" in (answer.text or "")
            me = await page.goto(f"{h.web_url}/me")
            assert me is not None and me.status == 401
            assert "还没有登录" in await page.inner_text("#message")
            await browsing.screenshot(page)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_an_rsvp_on_the_meeting_page_is_the_chats_answer(
    database: str, browsing: Browsing
) -> None:
    async with browsing.running(database) as h:
        await community(h)
        note = await schedule(h, "2026-12-03 19:00 楼栋议事会 地点=一楼大厅")
        meeting = meeting_number(note)
        async with browsing.signed_in(h, RESIDENT) as page:
            await page.goto(f"{h.web_url}/m/{meeting}")
            assert await page.inner_text("#title") == "楼栋议事会"
            facts = await page.inner_text("#facts")
            assert "2026-12-03 19:00" in facts and "一楼大厅" in facts
            await page.click("button.vote:text-is('参加')")
            await page.wait_for_url(re.compile(r".*\?answered=yes$"))
            assert await page.inner_text("#notice") == "已记录：参加"
            await h.emu.wait_until(
                lambda: answers(h.emu.message(BUILDING_CHAT, note.message_id)) == (1, 0)
            )
            await page.click("button.vote:text-is('请假')")  # changeable, as in the chat
            await page.wait_for_url(re.compile(r".*\?answered=no$"))
            await h.emu.wait_until(
                lambda: answers(h.emu.message(BUILDING_CHAT, note.message_id)) == (0, 1)
            )
            assert "请假" in await page.inner_text("#my-answer")
            await browsing.screenshot(page)
            # "My household" lists the meetings of the groups she is known to be in.
            await page.goto(f"{h.web_url}/me")
            listed = await page.inner_text("#meetings")
            assert f"#{meeting} 楼栋议事会" in listed and "你的回复：请假" in listed


async def test_a_mini_app_opened_on_a_meeting_or_a_topic_lands_there(browsing: Browsing) -> None:
    async with browsing.running() as h:
        await community(h)
        topic = topic_id(await publish(h, "更换单元门禁"))
        meeting = meeting_number(await schedule(h, "2026-12-03 19:00 楼栋议事会"))
        async with browsing.person() as page:
            await page.goto(
                mini_app(h, init_data(h, RESIDENT, "钱阿姨", start_param=f"m{meeting}"))
            )
            await page.wait_for_url(f"{h.web_url}/m/{meeting}")
            assert await page.inner_text("#title") == "楼栋议事会"
            await browsing.screenshot(page, "-meeting")
        async with browsing.person() as page:
            await page.goto(mini_app(h, init_data(h, RESIDENT, "钱阿姨", start_param=f"t{topic}")))
            await page.wait_for_url(f"{h.web_url}/t/{topic}")
            assert await page.inner_text("#title") == "更换单元门禁"
        async with browsing.person() as page:
            await page.goto(mini_app(h, init_data(h, RESIDENT, "钱阿姨", start_param="t1;/x")))
            await page.wait_for_url(f"{h.web_url}/me")


async def test_another_buildings_meeting_by_its_id_is_not_found(browsing: Browsing) -> None:
    async with browsing.running() as h:
        await community(h)
        await another_building(h)
        theirs = meeting_number(
            await schedule(
                h, "2026-12-03 19:00 二号楼议事会", chat=OTHER_BUILDING_CHAT, by=GRID_WORKER
            )
        )
        async with browsing.signed_in(h, RESIDENT) as page:
            answer = await page.goto(f"{h.web_url}/m/{theirs}")
            assert answer is not None and answer.status == 404
            unknown = await page.goto(f"{h.web_url}/m/{theirs + 100}")
            assert unknown is not None and unknown.status == 404
            assert "找不到这个页面" in await page.inner_text("#message")
            await browsing.screenshot(page)


async def test_a_web_only_household_sees_and_answers_its_buildings_meeting(
    browsing: Browsing,
) -> None:
    async with browsing.running() as h:
        await community(h)
        note = await schedule(h, "2026-12-03 19:00 楼栋议事会 地点=一楼大厅")
        meeting = meeting_number(note)
        link = await invitation(h, "3-301")
        async with browsing.person() as page:
            await join(page, link, "3-301")
            await page.wait_for_url(f"{h.web_url}/me?joined=1")
            assert "通过楼栋长发放的住户邀请码" in await page.inner_text("#web-only")
            listed = await page.inner_text("#meetings")
            assert f"#{meeting} 楼栋议事会" in listed and "还没有回复" in listed
            await page.click(f"#meetings a[href='/m/{meeting}']")
            await page.click("button.vote:text-is('参加')")
            await page.wait_for_url(re.compile(r".*\?answered=yes$"))
            await h.emu.wait_until(
                lambda: answers(h.emu.message(BUILDING_CHAT, note.message_id)) == (1, 0)
            )
            await browsing.screenshot(page)
            await page.click("#lang")  # the same page in English
            await page.wait_for_url(f"{h.web_url}/m/{meeting}")
            assert "Your answer: Attend" in await page.inner_text("#my-answer")
            assert await page.locator("button.vote").all_inner_texts() == ["Attend", "Can't come"]
            await browsing.screenshot(page, "-en")


async def test_join_attempts_are_limited_per_code(browsing: Browsing) -> None:
    async with browsing.running() as h:
        await community(h)
        link = await invitation(h, "2-502")
        async with browsing.person() as page:
            statuses = []
            for _ in range(6):  # someone trying units on a code found in the hallway
                await page.goto(link)
                await page.fill("#unit", "9-909")
                async with page.expect_navigation() as sent:
                    await page.click("#join-form button")
                answer = await sent.value
                statuses.append(answer.status if answer else None)
            assert statuses == [409] * 5 + [429]
            assert "尝试太多次" in await page.inner_text("#message")
        assert await web_people(h) == 0
