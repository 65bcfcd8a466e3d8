"""Staff at their desk: the staff home, the escalation board and a matter's page, in a real
browser beside the real bot on the Telegram emulator. Community staff filter the board, open
a matter and resolve it, and the decision reaches the building's group; a grid worker sees
their grid alone and another grid's matter is a 404 by URL; a resident is refused, saying why."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from emulators.telegram import EmuMessage
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
from tests.e2e_web.conftest import Browsing, WebHarness

pytestmark = pytest.mark.asyncio(loop_scope="session")

DOCS_BOARD = Path(__file__).resolve().parents[2] / "docs" / "staff-board.png"
# YISHI_UPDATE_DOCS_SCREENSHOTS=1 writes the README's screenshot of the board anew (off by
# default: a run does not change a file in git).
UPDATE_DOCS = os.environ.get("YISHI_UPDATE_DOCS_SCREENSHOTS", "") not in ("", "0")
SECOND_GRID_CHAT, SECOND_BUILDING_CHAT = -1012, -1013
SECOND_WORKER, SECOND_RESIDENT, SECOND_HEAD = 12, 13, 14


async def tied(
    h: WebHarness, title: str, *, chat: int = BUILDING_CHAT, by: int = BUILDING_HEAD
) -> int:
    """A building vote that ends in a tie: it goes up to the grid; the card is posted."""
    voters = (RESIDENT, NEIGHBOUR) if chat == BUILDING_CHAT else (SECOND_RESIDENT, SECOND_HEAD)
    ballot = await publish(h, f"{title} 期限=1h 类别=public_affairs", chat=chat, by=by)
    await h.press(chat, ballot.message_id, voters[0], "同意")
    await h.press(chat, ballot.message_id, voters[1], "反对")
    h.emu.send_message(chat, voters[1], f"{title}：先听听大家意见", reply_to=ballot.message_id)
    await h.settle()
    return topic_id(ballot)


async def second_grid(h: WebHarness) -> None:
    """第二网格 with its own worker and building (1 号楼 stays in 第一网格)."""
    h.user(SECOND_WORKER, "吴网格")
    h.user(SECOND_RESIDENT, "郑先生")
    h.user(SECOND_HEAD, "冯楼长")
    issued = await h.say(STAFF_CHAT, STAFF, "/newgrid 第二网格")
    await h.group(SECOND_GRID_CHAT, "第二网格群", members=[SECOND_WORKER], admins=[STAFF])
    await h.say(SECOND_GRID_CHAT, STAFF, f"/bind {code_in(issued.text)}")
    hello = h.emu.send_message(SECOND_GRID_CHAT, SECOND_WORKER, "我是第二网格的网格员")
    await h.say(SECOND_GRID_CHAT, STAFF, "/role grid_worker", reply_to=hello.message_id)
    issued = await h.say(SECOND_GRID_CHAT, SECOND_WORKER, "/newbuilding 8号楼")
    await h.group(
        SECOND_BUILDING_CHAT,
        "8号楼议事群",
        members=[SECOND_HEAD, SECOND_RESIDENT],
        admins=[SECOND_WORKER],
    )
    await h.say(SECOND_BUILDING_CHAT, SECOND_WORKER, f"/bind {code_in(issued.text)}")
    hello = h.emu.send_message(SECOND_BUILDING_CHAT, SECOND_HEAD, "我是楼栋长")
    await h.say(
        SECOND_BUILDING_CHAT, SECOND_WORKER, "/role building_head", reply_to=hello.message_id
    )


async def two_grids_with_matters(h: WebHarness) -> tuple[int, int, int]:
    """One matter the grid let pass its SLA (so at the community, and past the community's
    SLA too: overdue), one fresh at 第一网格, one at 第二网格."""
    await community(h)
    await second_grid(h)
    old = await tied(h, "东门快递柜")
    await h.pass_time(timedelta(hours=1))  # the tie: up to 第一网格
    await h.pass_time(timedelta(days=3))  # 第一网格 did nothing: up to the community
    await h.pass_time(timedelta(days=3, hours=1))  # the community's SLA passed: overdue
    fresh = await tied(h, "楼道堆物清理")
    # Telegram did not count 8号楼's group as its topic was published: its roll is not known
    h.emu.fail_next("getChatMemberCount", 400, "Bad Request: try again later")
    other = await tied(h, "8号楼停车位", chat=SECOND_BUILDING_CHAT, by=SECOND_HEAD)
    await h.pass_time(timedelta(hours=1))
    return old, fresh, other


def decision_in(h: WebHarness, chat: int, text: str) -> EmuMessage | None:
    return next((m for m in h.emu.bot_messages(chat) if text in (m.text or "")), None)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_staff_filter_the_board_open_a_matter_and_resolve_it_down_to_the_building(
    database: str, browsing: Browsing
) -> None:
    async with browsing.running(database) as h:
        old, fresh, other = await two_grids_with_matters(h)
        async with browsing.signed_in(h, STAFF) as page:
            await page.goto(f"{h.web_url}/staff")
            assert "李社工" in await page.inner_text("#hello")
            assert "社区工作人员 · 社区 幸福社区" in await page.inner_text("#roles")
            await page.click("#pages a:text-is('上报看板')")
            await page.wait_for_url(f"{h.web_url}/staff/board")
            board = await page.inner_text("#board")
            assert all(f"#{n}" in board for n in (old, fresh, other))
            assert "共 3 件待处理" in await page.inner_text("#summary")
            # Overdue first, saying how long past the SLA.
            first = await page.inner_text("#board tbody tr:first-child")
            assert f"#{fresh}" not in first and "超时" in first, first
            await browsing.screenshot(page, "-board")
            if database == "sqlite" and UPDATE_DOCS:  # the README's picture, on demand
                DOCS_BOARD.parent.mkdir(exist_ok=True)
                await page.set_viewport_size({"width": 1100, "height": 700})
                await page.screenshot(path=str(DOCS_BOARD), full_page=True)

            await page.select_option("#grid", label="第二网格")
            await page.click("#apply")
            await page.wait_for_url(re.compile(r".*grid=\d+"))
            rows = await page.inner_text("#board")
            assert f"#{other}" in rows and f"#{old}" not in rows and f"#{fresh}" not in rows
            await page.goto(f"{h.web_url}/staff/board?age=3")
            rows = await page.inner_text("#board")
            assert f"#{old}" in rows and f"#{fresh}" not in rows
            await page.goto(f"{h.web_url}/staff/board?category=nonsense")
            assert await page.inner_text("#empty") == "没有符合条件的待处理事项。"

            await page.goto(f"{h.web_url}/staff/matters/{other}")  # the votes, no share
            assert await page.inner_text("#turnout") == "参与：2 人（群人数未知，不计参与率）"
            await page.goto(f"{h.web_url}/staff/board")
            await page.click(f"#board a[href='/staff/matters/{old}']")
            await page.wait_for_url(f"{h.web_url}/staff/matters/{old}")
            assert "同意\n1" in await page.inner_text("#tally")
            assert "参与：2 / 4" in await page.inner_text("#turnout")
            assert "平票" in await page.inner_text("#outcome")
            assert "东门快递柜：先听听大家意见" in await page.inner_text("#opinions")
            path = await page.inner_text("#path")
            assert "楼栋 1号楼 → 网格 第一网格（平票）" in path
            assert "网格 第一网格 → 社区 幸福社区（超过处理时限）" in path
            assert "超过处理时限，系统自动上报" in path and "待受理" in path
            assert "卡片发在：幸福社区工作群" in path

            await page.click("#accept-form button")
            await page.wait_for_url(re.compile(r".*done=accepted$"))
            assert await page.inner_text("#notice") == f"已受理 #{old}。"
            assert "受理：李社工" in await page.inner_text("#path")
            await h.emu.wait_until(  # the card in the staff group says so, as after a press
                lambda: any(
                    "已受理（李社工）" in (m.text or "") for m in h.emu.bot_messages(STAFF_CHAT)
                )
            )

            await page.fill("#decision-text", "东门不设快递柜，改在北门旁设置")
            await page.click("#resolve-form button")
            await page.wait_for_url(re.compile(r".*done=resolved$"))
            assert "东门不设快递柜，改在北门旁设置" in await page.inner_text("#decision")
            assert await page.inner_text("#no-actions")
            await h.emu.wait_until(
                lambda: decision_in(h, BUILDING_CHAT, "东门不设快递柜，改在北门旁设置") is not None
            )
            for chat in (GRID_CHAT, STAFF_CHAT):
                assert decision_in(h, chat, "东门不设快递柜，改在北门旁设置") is not None
            await browsing.screenshot(page, "-matter")

            await page.goto(f"{h.web_url}/staff/board")
            assert f"#{old}" not in await page.inner_text("#board")


async def test_a_grid_worker_sees_their_grid_alone_and_another_grids_matter_is_404(
    browsing: Browsing,
) -> None:
    async with browsing.running() as h:
        old, fresh, other = await two_grids_with_matters(h)
        async with browsing.signed_in(h, GRID_WORKER) as page:
            await page.goto(f"{h.web_url}/staff/board")
            rows = await page.inner_text("#board")
            assert f"#{fresh}" in rows and f"#{other}" not in rows
            assert f"#{old}" not in rows  # it waits at the community now, not at their grid
            options = await page.inner_text("#grid")
            assert "第一网格" in options and "第二网格" not in options
            await browsing.screenshot(page)
            answer = await page.goto(f"{h.web_url}/staff/matters/{other}")
            assert answer is not None and answer.status == 404
            answer = await page.goto(f"{h.web_url}/staff/matters/{old}")
            assert answer is not None and answer.status == 200  # it passed through their grid
            assert await page.inner_text("#no-actions")  # but waits at the community
            await page.goto(f"{h.web_url}/staff/matters/{fresh}")
            # Acting on another grid's matter by a forged form: 404, nothing changed.
            csrf = await page.get_attribute("#accept-form input[name=csrf]", "value")
            answer = await page.request.post(
                f"{h.web_url}/staff/matters/{other}",
                form={"csrf": csrf or "", "action": "resolve", "text": "越权"},
            )
            assert answer.status == 404
            assert decision_in(h, SECOND_BUILDING_CHAT, "越权") is None
            # The grid vote from the page: a new topic posted in the grid's group.
            await page.click("#vote-form button[value=vote_here]")
            await page.wait_for_url(re.compile(r".*done=vote&new=\d+$"))
            assert "已就" in await page.inner_text("#notice")
            await h.emu.wait_until(
                lambda: any(
                    "📋 #" in (m.text or "") and "楼道堆物清理" in (m.text or "")
                    for m in h.emu.bot_messages(GRID_CHAT)
                )
            )
            assert "进行中" in await page.inner_text("#path")
            await page.goto(f"{h.web_url}/staff/board?state=voting")
            assert f"#{fresh}" in await page.inner_text("#board")
            await page.goto(f"{h.web_url}/staff/board?state=waiting")
            assert await page.inner_text("#empty")


async def test_a_resident_is_refused_the_staff_pages_saying_why(browsing: Browsing) -> None:
    async with browsing.running() as h:
        await community(h)
        number = await tied(h, "东门快递柜")
        await h.pass_time(timedelta(hours=1))
        async with browsing.signed_in(h, RESIDENT) as page:
            for url in ("/staff", "/staff/board"):
                answer = await page.goto(f"{h.web_url}{url}")
                assert answer is not None and answer.status == 403
                assert "/role" in await page.inner_text("#message")
            answer = await page.goto(f"{h.web_url}/staff/matters/{number}")
            assert answer is not None and answer.status == 404
            await page.goto(f"{h.web_url}/staff")
            await browsing.screenshot(page)
        async with browsing.person() as page:
            answer = await page.goto(f"{h.web_url}/staff/board")
            assert answer is not None and answer.status == 401
