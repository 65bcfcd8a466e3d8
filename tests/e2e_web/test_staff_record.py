"""The staff pages of participation, the record (居务公开) and the audit log, in a real
browser beside the bot on the emulator: the figures are those /stats says in the chat for the
same node and window; a topic's CSV is /export's, its XLSX is read back with openpyxl; a grid
worker sees their grid only, and another grid's export by URL is a 404."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest

from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.topics import publish, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    code_in,
    community,
)
from tests.e2e_web.conftest import Browsing

pytestmark = pytest.mark.asyncio(loop_scope="session")

SECOND_GRID_CHAT = -1005
TOPICS = re.compile(r"新发布 (\d+) · 进行中 (\d+) · 已结束 (\d+)")
TURNOUT = re.compile(r"参与率：([\d.]+)%（(\d+)/(\d+)，(\d+) 个表决议题）")
RESOLUTION = re.compile(r"解决用时中位数：(\S+)（已解决 (\d+) 件")


async def _a_month_of_consultation(h: Harness) -> tuple[int, int]:
    """A vote that passed, one tied (up to the grid, resolved there, rated), one still open."""
    await community(h)
    passed = await publish(h, "更换楼道窗户 期限=1h")
    await h.press(BUILDING_CHAT, passed.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, passed.message_id, NEIGHBOUR, "同意")
    tied = await publish(h, "是否在东门设置快递柜 期限=1h")
    await h.press(BUILDING_CHAT, tied.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, tied.message_id, NEIGHBOUR, "反对")
    await publish(h, "楼下绿化带改造 期限=3d")
    await h.pass_time(timedelta(hours=1))
    await h.say(GRID_CHAT, GRID_WORKER, f"/resolve {topic_id(tied)} 在西门设置快递柜")
    await h.settle()
    rating = next(
        m
        for m in h.emu.bot_messages(BUILDING_CHAT)
        if "在西门设置快递柜" in (m.text or "") and m.button_texts()
    )
    await h.press(BUILDING_CHAT, rating.message_id, NEIGHBOUR, "满意")
    await h.pass_time(timedelta(hours=2))
    return topic_id(passed), topic_id(tied)


async def _second_grid_topic(h: Harness) -> int:
    """第二网格, bound to a group of its own, with a topic its grid worker publishes."""
    issued = await h.say(STAFF_CHAT, STAFF, "/newgrid 第二网格")
    await h.group(SECOND_GRID_CHAT, "第二网格群", members=[NEIGHBOUR], admins=[STAFF])
    await h.say(SECOND_GRID_CHAT, STAFF, f"/bind {code_in(issued.text)}")
    ballot = await publish(h, "第二网格停车管理", chat=SECOND_GRID_CHAT, by=STAFF)
    return topic_id(ballot)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_participation_is_what_stats_says_and_two_periods_compare(
    database: str, browsing: Browsing
) -> None:
    async with browsing.running(database) as h:
        await _a_month_of_consultation(h)
        said = (await h.say(STAFF_CHAT, STAFF, "/stats")).text or ""
        published, open_now, closed = TOPICS.search(said).groups()  # type: ignore[union-attr]
        percent, cast, eligible, voting = TURNOUT.search(said).groups()  # type: ignore[union-attr]
        median, resolved = RESOLUTION.search(said).groups()  # type: ignore[union-attr]
        async with browsing.signed_in(h, STAFF) as page:
            answer = await page.goto(f"{h.web_url}/staff/participation?preset=30d")
            assert answer is not None and answer.status == 200
            assert "幸福社区" in await page.inner_text("#scope-title")

            async def figure(key: str, column: str = "a") -> str:
                return (await page.inner_text(f"#fig-{key} td.{column}")).strip()

            assert await figure("published") == published == "3"
            assert await figure("open") == open_now == "1"
            assert await figure("closed") == closed == "2"
            assert await figure("turnout") == f"{percent}% ({cast}/{eligible})"
            assert await figure("voting") == voting
            assert await figure("resolved") == resolved == "1"
            assert await figure("median") == median
            assert await figure("outcome-passed") == "1"
            assert await figure("rating-satisfied") == "1"
            assert "第一网格" in await page.inner_text("#grids")
            assert f"{percent}%" in await page.inner_text("#grids")
            assert "1号楼" in await page.inner_text("#buildings")
            chart = page.locator("svg#chart-grids")
            assert await chart.get_attribute("role") == "img"
            assert f"第一网格: {percent}%" in (
                await page.text_content("svg#chart-grids desc") or ""
            )

            # This period beside last month (November: nothing yet): the difference shown.
            await page.select_option("select[name=cpreset]", "last_month")
            await page.click("form.filters button")
            await page.wait_for_url(re.compile(r"cpreset=last_month"))
            assert await figure("published", "b") == "0"
            assert await figure("published", "diff") == "+3"
            assert await figure("turnout", "b") == "— (0/0)"
            assert "11-01 至" in await page.inner_text("#period-b")
            await browsing.screenshot(page)

            refused = await page.goto(
                f"{h.web_url}/staff/participation?from=2026-12-09&to=2026-12-01"
            )
            assert refused is not None and refused.status == 400
            assert "晚于结束日期" in await page.inner_text("#refused")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_the_record_is_searched_and_exported_as_csv_and_xlsx(
    database: str, browsing: Browsing
) -> None:
    async with browsing.running(database) as h:
        passed, tied = await _a_month_of_consultation(h)
        async with browsing.signed_in(h, STAFF) as page:
            await page.goto(f"{h.web_url}/staff/record")
            await page.fill("input[name=q]", "窗户")
            await page.select_option("select[name=state]", "closed")
            await page.click("form.filters button")
            await page.wait_for_url(re.compile(r"q=%E7%AA%97%E6%88%B7"))
            assert "找到 1 个" in await page.inner_text("#topics-found")
            row = await page.inner_text(f"#topic-{passed}")
            assert "更换楼道窗户" in row and "1号楼" in row and "已结束" in row
            assert await page.locator(f"#topic-{tied}").count() == 0
            await browsing.screenshot(page)

            csv_answer = await page.request.get(f"{h.web_url}/staff/record/{passed}.csv")
            assert csv_answer.status == 200
            text = (await csv_answer.body()).decode("utf-8-sig")
            lines = list(csv.reader(io.StringIO(text)))
            assert lines[0][:2] == ["投票人", "选项"] or "投票人" in lines[0]
            voters = {line[0] for line in lines[1:3]}
            assert voters == {"钱阿姨", "孙大爷"}

            xlsx_answer = await page.request.get(f"{h.web_url}/staff/record/{tied}.xlsx")
            assert xlsx_answer.status == 200
            book = openpyxl.load_workbook(io.BytesIO(await xlsx_answer.body()), read_only=True)
            assert book.sheetnames == ["议题", "投票", "意见"]
            topic_sheet = [list(r) for r in book["议题"].iter_rows(values_only=True)]
            assert topic_sheet[0][1] == f"#{tied} 是否在东门设置快递柜"
            ballots = [list(r) for r in book["投票"].iter_rows(values_only=True)]
            assert len(ballots) == 3  # the header and two ballots, as the CSV lists them
            assert {(r[0], r[1]) for r in ballots[1:]} == {("钱阿姨", "同意"), ("孙大爷", "反对")}
            tied_csv = (
                await (await page.request.get(f"{h.web_url}/staff/record/{tied}.csv")).body()
            ).decode("utf-8-sig")
            assert [r[:2] for r in ballots[1:]] == [
                line[:2] for line in list(csv.reader(io.StringIO(tied_csv)))[1:3]
            ]

            found = await page.request.get(f"{h.web_url}/staff/record.xlsx?q=&state=closed")
            sheet = openpyxl.load_workbook(io.BytesIO(await found.body()), read_only=True)
            assert sheet.sheetnames == ["居务公开记录"]
            listed = [list(r) for r in sheet["居务公开记录"].iter_rows(values_only=True)]
            assert [r[0] for r in listed[1:]] == [str(tied), str(passed)]
            assert listed[1][4] == "已结束"
            oldest = await page.request.get(f"{h.web_url}/staff/record.xlsx?state=closed&sort=old")
            book = openpyxl.load_workbook(io.BytesIO(await oldest.body()), read_only=True)
            ordered = [r[0] for r in book["居务公开记录"].iter_rows(values_only=True)]
            assert ordered[1:] == [str(passed), str(tied)]
            found_csv = await page.request.get(f"{h.web_url}/staff/record.csv?state=open")
            rows = list(csv.reader(io.StringIO((await found_csv.body()).decode("utf-8-sig"))))
            assert [r[1] for r in rows[1:]] == ["楼下绿化带改造"]

            meeting = "/meeting 2026-12-15 19:00 窗户维修议事会 地点=活动室"
            await h.say(BUILDING_CHAT, BUILDING_HEAD, meeting)
            await page.goto(f"{h.web_url}/staff/record?q=窗户")
            assert "找到 1 个" in await page.inner_text("#meetings-found")
            meeting = await page.inner_text("#meetings")
            assert "窗户维修议事会" in meeting and "活动室" in meeting and "1号楼" in meeting
            await page.goto(f"{h.web_url}/staff/record?q=窗户&state=closed")
            assert "找到 0 个" in await page.inner_text("#meetings-found")  # meetings have none

            bad = await page.goto(f"{h.web_url}/staff/record?state=maybe&from=12/01")
            assert bad is not None and bad.status == 400
            assert "不是议题状态" in await page.inner_text("#refused")


async def test_a_grid_worker_sees_their_grid_and_no_other_grids_export(browsing: Browsing) -> None:
    async with browsing.running() as h:
        passed, _ = await _a_month_of_consultation(h)
        other = await _second_grid_topic(h)
        async with browsing.signed_in(h, GRID_WORKER) as page:
            await page.goto(f"{h.web_url}/staff/record")
            assert await page.locator(f"#topic-{passed}").count() == 1
            assert await page.locator(f"#topic-{other}").count() == 0
            assert "第二网格" not in await page.inner_text("select[name=node]")
            for kind in ("csv", "xlsx"):
                mine = await page.request.get(f"{h.web_url}/staff/record/{passed}.{kind}")
                assert mine.status == 200
                theirs = await page.request.get(f"{h.web_url}/staff/record/{other}.{kind}")
                assert theirs.status == 404
                assert "第二网格停车管理" not in await theirs.text()
            missing = await page.request.get(f"{h.web_url}/staff/record/999999.csv")
            assert missing.status == 404
            # Their grid's figures, as /stats says them in the grid's group.
            said = (await h.say(GRID_CHAT, GRID_WORKER, "/stats")).text or ""
            published = TOPICS.search(said).group(1)  # type: ignore[union-attr]
            percent, cast, eligible, _ = TURNOUT.search(said).groups()  # type: ignore[union-attr]
            answer = await page.goto(f"{h.web_url}/staff/participation")
            assert answer is not None and answer.status == 200
            assert "第一网格" in await page.inner_text("#scope-title")
            assert await page.inner_text("#fig-published td.a") == published
            turnout = await page.inner_text("#fig-turnout td.a")
            assert turnout == f"{percent}% ({cast}/{eligible})"
            assert "第二网格" not in await page.inner_text("main")
            audit = await page.goto(f"{h.web_url}/staff/audit")
            assert audit is not None and audit.status == 403
            assert "只有社区管理员" in await page.inner_text("#refused")
            await browsing.screenshot(page)
        async with browsing.signed_in(h, RESIDENT) as page:
            answer = await page.goto(f"{h.web_url}/staff/record")
            assert answer is not None and answer.status == 403
            assert "没有管理角色" in await page.inner_text("main")
            export = await page.request.get(f"{h.web_url}/staff/record/{passed}.csv")
            assert export.status == 403


async def test_the_audit_log_is_searched_by_action_person_and_date(browsing: Browsing) -> None:
    async with browsing.running() as h:
        await _a_month_of_consultation(h)
        async with browsing.signed_in(h, SUPERADMIN) as page:
            await page.goto(f"{h.web_url}/staff/audit")
            everything = await page.locator("#audit li").count()
            assert everything > 5
            await page.select_option("select[name=action]", label="发布议题")
            await page.click("form.filters button")
            await page.wait_for_url(re.compile(r"action=topic.published"))
            actions = await page.locator("#audit li").evaluate_all(
                "items => items.map(item => item.dataset.action)"
            )
            assert actions == ["topic.published"] * 3
            assert "楼下绿化带改造" in await page.inner_text("#audit")
            await page.goto(f"{h.web_url}/staff/audit?user={GRID_WORKER}&action=escalation.")
            text = await page.inner_text("#audit")
            assert "张网格" in text
            await page.goto(f"{h.web_url}/staff/audit?from=2026-11-01&to=2026-11-30")
            assert await page.locator("#audit-none").count() == 1
            await page.goto(f"{h.web_url}/staff/audit?node=第一网格")
            assert await page.locator("#audit li").count() > 0
            await browsing.screenshot(page)
            bad = await page.goto(f"{h.web_url}/staff/audit?user=abc")
            assert bad is not None and bad.status == 400


async def test_a_secret_ballots_files_name_no_voter(browsing: Browsing) -> None:
    async with browsing.running() as h:
        await community(h)
        ballot = await publish(h, "物业费调整 匿名=yes 期限=1h")
        await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
        await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
        await h.pass_time(timedelta(hours=1))
        topic = topic_id(ballot)
        async with browsing.signed_in(h, STAFF) as page:
            await page.goto(f"{h.web_url}/staff/record?q=物业费")
            await browsing.screenshot(page)
            answer = await page.request.get(f"{h.web_url}/staff/record/{topic}.xlsx")
            book = openpyxl.load_workbook(io.BytesIO(await answer.body()), read_only=True)
            cells = [
                str(value)
                for sheet in book.worksheets
                for row in sheet.iter_rows(values_only=True)
                for value in row
                if value is not None
            ]
            ballots = [list(r) for r in book["投票"].iter_rows(values_only=True)]
            assert [r[0] for r in ballots[1:]] == ["匿名", "匿名"]
            assert not any("钱阿姨" in cell or "孙大爷" in cell for cell in cells)
            text = await (await page.request.get(f"{h.web_url}/staff/record/{topic}.csv")).body()
            assert "钱阿姨".encode() not in text and "孙大爷".encode() not in text
