"""Flow 7: the community staff digest — on demand, daily at 08:30, once per period."""

from __future__ import annotations

from datetime import timedelta

from storage.tables import audit_log, digests_sent, subscriptions
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
    count,
    rows,
)


async def escalated_matter(h: Harness, title: str = "东门快递柜") -> int:
    ballot = await publish(h, f"{title} 期限=1h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    await h.pass_time(timedelta(hours=1))
    return topic_id(ballot)


def digests(h: Harness) -> list[str]:
    return [m.text or "" for m in h.emu.bot_messages(STAFF_CHAT) if (m.text or "").startswith("📊")]


async def test_the_digest_on_demand_shows_new_and_open_matters(h: Harness) -> None:
    await community(h)
    number = await escalated_matter(h)
    digest = await h.say(STAFF_CHAT, STAFF, "/digest")
    text = digest.text or ""
    assert "幸福社区 议事汇总" in text
    assert "新上报（1）" in text and f"#{number} 东门快递柜 — 1号楼 → 第一网格（平票）" in text
    assert "待办（1，超期在前）" in text and "待受理" in text
    assert "第一网格：50.0%（1 个议题）" in text
    assert "居民公共事务和公益事业：1" in text


async def test_subscribe_daily_once_per_period_across_restarts(h: Harness) -> None:
    await community(h)
    refused = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/subscribe")
    assert "社区工作群" in (refused.text or "")
    h.emu.add_member(STAFF_CHAT, RESIDENT)
    resident = await h.say(STAFF_CHAT, RESIDENT, "/subscribe")
    assert "只有社区工作人员" in (resident.text or "")
    done = await h.say(STAFF_CHAT, STAFF, "/subscribe")
    assert "每天 08:30" in (done.text or "")
    again = await h.say(STAFF_CHAT, STAFF, "/subscribe")
    assert "已经订阅" in (again.text or "")
    number = await escalated_matter(h)  # the clock is at 10:00 local, 1 Dec
    assert digests(h) == []
    await h.pass_time(timedelta(hours=22, minutes=29))  # 08:29 on 2 Dec
    assert digests(h) == []
    await h.pass_time(timedelta(minutes=2))  # 08:31
    assert len(digests(h)) == 1 and f"#{number}" in digests(h)[0]
    await h.restart()
    await h.pass_time(timedelta(hours=1))
    assert len(digests(h)) == 1
    await h.say(GRID_CHAT, GRID_WORKER, f"/resolve {number} 在西门设置快递柜")
    await h.pass_time(timedelta(days=1))  # 09:31 on 3 Dec: the next daily digest
    assert len(digests(h)) == 2
    latest = digests(h)[-1]
    assert "已解决（1）" in latest and "在西门设置快递柜" in latest and "新上报" not in latest
    assert await count(h, rows(digests_sent)) == 2
    await h.say(STAFF_CHAT, SUPERADMIN, "/unsubscribe")
    await h.pass_time(timedelta(days=1))
    assert len(digests(h)) == 2


async def test_an_empty_digest_says_so_briefly(h: Harness) -> None:
    await community(h)
    digest = await h.say(STAFF_CHAT, STAFF, "/digest")
    assert "本期没有新的上报" in (digest.text or "")
    assert (digest.text or "").count("\n") <= 1


async def test_overdue_matters_come_first(h: Harness) -> None:
    await community(h)
    new = await escalated_matter(h, "楼道堆物")
    old = await escalated_matter(h, "楼顶漏水")
    # Both reach the community when the grid's SLA runs out; then the community's own SLA
    # runs out for both. A newer matter arrives at the grid meanwhile.
    await h.pass_time(timedelta(days=3, hours=1))  # the grid's SLA: up to the community
    await h.pass_time(timedelta(days=3, hours=1))  # the community's SLA passes too
    newest = await escalated_matter(h, "门禁损坏")
    text = (await h.say(STAFF_CHAT, STAFF, "/digest")).text or ""
    open_lines = [
        line for line in text.split("待办")[1].split("\n\n")[0].split("\n") if "#" in line
    ]
    assert [line.startswith("• ⚠️ 超期") for line in open_lines] == [True, True, False]
    assert f"#{newest}" in open_lines[-1]
    assert {f"#{new}", f"#{old}"} == {line.split()[3] for line in open_lines[:2]}


async def test_a_chat_that_removed_the_bot_is_unsubscribed(h: Harness) -> None:
    await community(h)
    await h.say(STAFF_CHAT, STAFF, "/subscribe")
    await escalated_matter(h)
    h.emu.remove_bot(STAFF_CHAT, SUPERADMIN)
    await h.pass_time(timedelta(days=1))
    assert await count(h, rows(subscriptions)) == 0
    assert (
        await count(h, rows(audit_log).where(audit_log.c.action == "digest.unsubscribed_gone")) == 1
    )


async def test_the_monday_digest_carries_the_weekly_chart(h: Harness) -> None:
    await community(h)
    await h.say(STAFF_CHAT, STAFF, "/subscribe")
    await escalated_matter(h)  # Tuesday 1 December 2026, 10:00 local
    for _ in range(6):  # the daily digests of Wednesday to Monday 7 December
        await h.pass_time(timedelta(days=1))
    assert len(digests(h)) == 6
    photos = [m for m in h.emu.bot_messages(STAFF_CHAT) if m.photo]
    assert len(photos) == 1 and "近 8 周" in (photos[0].caption or "")


async def test_a_community_of_thirty_grids_gets_its_weekly_chart_in_five_pictures(
    both: Harness,
) -> None:
    h = both
    await community(h)  # 第一网格 and its building, plus 29 grids more
    for number in range(2, 31):
        issued = await h.say(STAFF_CHAT, STAFF, f"/newgrid 网格{number:02d}")
        chat = -3000 - number
        await h.group(chat, f"网格{number:02d}群", admins=[STAFF])
        bound = await h.say(chat, STAFF, f"/bind {code_in(issued.text)}")
        assert f"网格{number:02d}" in (bound.text or "")
    await h.say(STAFF_CHAT, STAFF, "/subscribe")
    await escalated_matter(h)  # Tuesday 1 December 2026, 10:00 local
    for _ in range(6):  # the daily digests of Wednesday to Monday 7 December
        await h.pass_time(timedelta(days=1))
    photos = [m for m in h.emu.bot_messages(STAFF_CHAT) if m.photo]
    assert [m.caption for m in photos] == [
        f"近 8 周各网格上报、解决与参与率（第 {page}/5 张）" for page in range(1, 6)
    ]
    for message in photos:
        assert message.photo is not None
        size = message.photo[-1]
        data = h.emu.world.files[size["file_id"]].data
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert (size["width"], size["height"]) == (800, 1400)  # six rows, phone-readable
