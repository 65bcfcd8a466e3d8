"""The staff's meetings in a real browser: the monthly 协商议事日 on the calendar (its later
dates as the rule plans them, a cancelled one marked), its RSVP list as the chat's buttons
recorded it, the community's .ics feed parsed back (icalendar) before and after a
cancellation, its link renewed (the old one 404), a grid worker kept to their grid; and the
community's public record (/publish on|off) without any personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select

from storage.tables import calendar_feeds
from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.meetings import answers, meeting_number, schedule
from tests.auxil.topics import publish, register_household, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    code_in,
    community,
)
from tests.e2e_web.conftest import Browsing, signed_in

pytestmark = pytest.mark.asyncio(loop_scope="session")

OTHER_GRID_CHAT, OTHER_WORKER = -1005, 9
NAMES = ("王主任", "李社工", "张网格", "赵楼长", "钱阿姨", "孙大爷", "周路人")


def _events(body: bytes) -> dict[datetime, Any]:
    """The feed's events by start (UTC)."""
    parsed = icalendar.Calendar.from_ical(body)
    found = {}
    for event in parsed.walk("VEVENT"):
        start = event.decoded("dtstart")
        assert start.tzinfo is not None  # a time, not a floating one
        found[start.astimezone(UTC)] = event
    return found


def _at(year: int, month: int, day: int) -> datetime:
    """19:00 in Shanghai, in UTC."""
    return datetime(year, month, day, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_the_monthly_consultation_day_on_the_calendar_its_rsvps_and_its_feed(
    database: str, browsing: Browsing
) -> None:
    async with browsing.running(database) as h:
        await community(h)
        note = await schedule(h, "每月15日 19:00 协商议事日 范围=全部", chat=STAFF_CHAT, by=STAFF)
        number = meeting_number(note)
        (announced,) = [
            m for m in h.emu.bot_messages(BUILDING_CHAT) if (m.text or "").startswith("📅")
        ]
        await h.press(BUILDING_CHAT, announced.message_id, RESIDENT, "参加")
        await h.press(BUILDING_CHAT, announced.message_id, NEIGHBOUR, "请假")
        await h.settle()
        in_chat = answers(h.emu.message(BUILDING_CHAT, announced.message_id))
        assert in_chat == (1, 1)

        async with browsing.signed_in(h, STAFF) as page:
            await page.goto(f"{h.web_url}/staff/meetings")
            assert await page.inner_text("#month-label") == "2026 年 12 月"
            day = page.locator("td[data-date='2026-12-15'] .meeting")
            assert "协商议事日" in await day.inner_text()
            assert "参加 1 · 请假 1" in await day.inner_text()
            for month, date in (("2027-01", "2027-01-15"), ("2027-02", "2027-02-15")):
                await page.click("#next")
                await page.wait_for_url(f"**/staff/meetings?month={month}*")
                later = page.locator(f"td[data-date='{date}'] .meeting")
                assert "协商议事日" in await later.inner_text()  # the series, as planned
            await page.click("#list-view")
            await page.wait_for_url("**view=list*")
            assert "协商议事日" in await page.inner_text("#meeting-list")

            # The RSVP list: who answered what, as the chat's buttons recorded it.
            await page.goto(f"{h.web_url}/staff/meetings?month=2026-12")
            await page.click("td[data-date='2026-12-15'] .meeting a")
            await page.wait_for_url("**/staff/meetings/o/*")
            assert await page.inner_text("#attending") == "钱阿姨"
            assert await page.inner_text("#excused") == "孙大爷"
            assert await page.inner_text("#rsvp-counts") == "参加 {} · 请假 {}".format(*in_chat)
            await browsing.screenshot(page, "_rsvp")

            # The community's feed: a link made once, the series' dates in it.
            await page.goto(f"{h.web_url}/staff/meetings")
            await page.click("#feeds li:has-text('幸福社区') button")
            webcal = await page.inner_text("#feed-webcal")
            url = await page.inner_text("#feed-https")
            assert url.startswith(f"{h.web_url}/cal/") and url.endswith(".ics")
            assert webcal == "webcal://" + url.split("://", 1)[1]
            answer = await page.request.get(url)
            assert answer.status == 200
            assert answer.headers["content-type"].startswith("text/calendar")
            events = _events(await answer.body())
            assert len(events) == 12  # December to November: the year ahead
            first, january = events[_at(2026, 12, 15)], events[_at(2027, 1, 15)]
            assert str(first["summary"]) == f"协商议事日 #{number}"
            assert str(first["status"]) == "CONFIRMED"
            assert len({str(event["uid"]) for event in events.values()}) == 12
            january_uid = str(january["uid"])

            # Cancelled in the chat: marked on the calendar, STATUS:CANCELLED in the feed.
            asked = await h.say(STAFF_CHAT, STAFF, f"/cancelmeeting {number}")
            await h.press(
                STAFF_CHAT, asked.message_id, STAFF, "只取消 2026-12-15 19:00（周二） 这一次"
            )
            await h.settle()
            events = _events(await (await page.request.get(url)).body())
            assert str(events[_at(2026, 12, 15)]["status"]) == "CANCELLED"
            assert str(events[_at(2027, 1, 15)]["status"]) == "CONFIRMED"
            assert str(events[_at(2027, 1, 15)]["uid"]) == january_uid  # planned now: same UID
            await page.goto(f"{h.web_url}/staff/meetings?month=2026-12")
            cancelled = page.locator("td[data-date='2026-12-15'] .meeting.cancelled")
            assert "已取消" in await cancelled.inner_text()
            await browsing.screenshot(page, "_calendar")
            await page.click("#list-view")
            await page.click("#state-cancelled")  # filtered on the server, by the query
            await page.wait_for_url("**state=cancelled*")
            assert "2026-12-15" in await page.inner_text("#meeting-list")
            await page.click("#state-ahead")
            await page.wait_for_url("**state=ahead*")
            assert await page.locator("#no-meetings").count() == 1

            # A new link: the old one is 404 from now on, as is a made-up one.
            await page.click("#feeds li:has-text('幸福社区') button")
            renewed = await page.inner_text("#feed-https")
            assert renewed != url
            assert (await page.request.get(url)).status == 404
            assert (await page.request.get(renewed)).status == 200
            made_up = f"{h.web_url}/cal/{'A' * 32}.ics"
            assert (await page.request.get(made_up)).status == 404
            await page.goto(f"{h.web_url}/staff/meetings")  # shown once: not on a later visit
            assert await page.locator("#feed-https").count() == 0
            assert "李社工" in await page.inner_text("#feeds")


async def _second_grid(h: Harness) -> None:
    h.user(OTHER_WORKER, "吴网格")
    issued = await h.say(STAFF_CHAT, STAFF, "/newgrid 第二网格")
    await h.group(OTHER_GRID_CHAT, "第二网格群", members=[OTHER_WORKER], admins=[STAFF])
    await h.say(OTHER_GRID_CHAT, STAFF, f"/bind {code_in(issued.text)}")
    hello = h.emu.send_message(OTHER_GRID_CHAT, OTHER_WORKER, "我是网格员")
    await h.say(OTHER_GRID_CHAT, STAFF, "/role grid_worker", reply_to=hello.message_id)


async def test_a_grid_worker_sees_their_grid_s_meetings_only(browsing: Browsing) -> None:
    async with browsing.running() as h:
        await community(h)
        await _second_grid(h)
        await schedule(h, "2026-12-20 19:00 一网格例会", chat=GRID_CHAT, by=GRID_WORKER)
        await schedule(h, "2026-12-21 19:00 二网格例会", chat=OTHER_GRID_CHAT, by=OTHER_WORKER)
        async with h.services.database.transaction() as repos:
            other_grid = await repos.orgs.node_of_chat(OTHER_GRID_CHAT)
            other = await repos.meetings.scheduled(2)
        assert other_grid is not None and other is not None

        async with browsing.signed_in(h, GRID_WORKER) as page:
            await page.goto(f"{h.web_url}/staff/meetings?node={other_grid.id}")
            shown = await page.inner_text("#calendar")
            assert "一网格例会" in shown and "二网格例会" not in shown
            assert "第二网格" not in await page.inner_text("#node-filter")
            await page.click("#lang")
            await page.wait_for_selector("html[lang=en]")
            assert await page.inner_text("#month-label") == "12/2026"
            assert "Meetings calendar" in await page.inner_text("main")
            await page.click("#lang")
            await page.wait_for_selector("html[lang=zh-CN]")
            answer = await page.goto(f"{h.web_url}/staff/meetings/o/{other.id}")
            assert answer is not None and answer.status == 403
            assert "回复名单" in await page.inner_text("main")
            await page.goto(f"{h.web_url}/staff/meetings")
            csrf = await page.get_attribute("input[name=csrf]", "value")
            assert csrf is not None
            refused = await page.request.post(
                f"{h.web_url}/staff/meetings/feed/{other_grid.id}", form={"csrf": csrf}
            )
            assert refused.status == 403
            async with h.services.database.transaction() as repos:
                made = await repos.connection.execute(select(calendar_feeds.c.node_id))
                assert made.all() == []
            await browsing.screenshot(page)

        async with browsing.person() as page:  # the community's staff see both grids
            await signed_in(page, h, STAFF)
            await page.goto(f"{h.web_url}/staff/meetings")
            shown = await page.inner_text("#calendar")
            assert "一网格例会" in shown and "二网格例会" in shown

        async with browsing.person() as page:  # a resident is told what the page is for
            await signed_in(page, h, RESIDENT)
            answer = await page.goto(f"{h.web_url}/staff/meetings")
            assert answer is not None and answer.status == 403
            assert "/role" in await page.inner_text("main")

        async with browsing.person() as page:
            answer = await page.goto(f"{h.web_url}/staff/meetings")
            assert answer is not None and answer.status == 401


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_the_public_record_lists_decided_matters_without_any_personal_data(
    database: str, browsing: Browsing
) -> None:
    async with browsing.running(database) as h:
        await community(h)
        await register_household(h, "2-502", "89.5")
        async with h.services.database.transaction() as repos:
            node = await repos.orgs.node_of_chat(STAFF_CHAT)
        assert node is not None
        public = f"{h.web_url}/p/{node.id}"

        tie = await publish(h, "是否在东门设置快递柜 期限=1h 类别=public_affairs")
        passed = await publish(h, "更换楼道窗户 期限=1h")
        h.emu.send_message(BUILDING_CHAT, RESIDENT, "东门人太多了", reply_to=tie.message_id)
        await h.press(BUILDING_CHAT, tie.message_id, RESIDENT, "同意")
        await h.press(BUILDING_CHAT, tie.message_id, NEIGHBOUR, "反对")
        await h.press(BUILDING_CHAT, passed.message_id, RESIDENT, "同意")
        await h.pass_time(timedelta(hours=1))
        await h.say(GRID_CHAT, GRID_WORKER, f"/resolve {topic_id(tie)} 在西门设置快递柜")
        await h.settle()
        decided = next(
            m
            for m in h.emu.bot_messages(BUILDING_CHAT)
            if "在西门设置快递柜" in (m.text or "") and m.button_texts()
        )
        await h.press(BUILDING_CHAT, decided.message_id, NEIGHBOUR, "不满意")
        still_open = await publish(h, "楼顶晾衣架")

        async with browsing.person() as page:  # nobody signed in
            answer = await page.goto(public)
            assert answer is not None and answer.status == 404  # not published yet

            refused = await h.say(GRID_CHAT, GRID_WORKER, "/publish on")
            assert "社区工作群" in (refused.text or "")
            usage = await h.say(STAFF_CHAT, STAFF, "/publish maybe")
            assert "/publish on" in (usage.text or "")
            answer = await page.goto(public)
            assert answer is not None and answer.status == 404  # nothing changed

            said = await h.say(STAFF_CHAT, STAFF, "/publish on")
            assert public in (said.text or "")
            answer = await page.goto(public)
            assert answer is not None and answer.status == 200
            text = await page.inner_text("main")
            html = await page.content()
            assert "幸福社区" in text
            assert "是否在东门设置快递柜" in text and "更换楼道窗户" in text
            assert "楼顶晾衣架" not in text  # still open: not decided
            assert "类别：居民公共事务和公益事业" in text
            assert "决定：在西门设置快递柜" in text
            assert "满意 0 · 基本满意 0 · 不满意 1" in text
            assert "结果：通过" in text
            for private in (*NAMES, "2-502", "东门人太多了"):
                assert private not in html, private
            for user in (SUPERADMIN, STAFF, GRID_WORKER, RESIDENT, NEIGHBOUR):
                assert f"user={user}" not in html and f"id={user}" not in html
            await browsing.screenshot(page)

            assert "已停止公开" in ((await h.say(STAFF_CHAT, STAFF, "/publish off")).text or "")
            answer = await page.goto(public)
            assert answer is not None and answer.status == 404
        assert topic_id(still_open) > 0
