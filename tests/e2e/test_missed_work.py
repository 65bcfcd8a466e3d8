"""Due work that fell due while the bot was down is done once at start-up and says it is
late (docs/RELIABILITY.md, "Missed work"): a digest, and an SLA's send-up."""

from __future__ import annotations

from datetime import timedelta

from tests.auxil.harness import Harness
from tests.auxil.topics import publish
from tests.auxil.world import (
    BUILDING_CHAT,
    GRID_CHAT,
    NEIGHBOUR,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    community,
)


def digests(h: Harness) -> list[str]:
    return [m.text or "" for m in h.emu.bot_messages(STAFF_CHAT) if (m.text or "").startswith("📊")]


async def down_for(h: Harness, delta: timedelta) -> None:
    """The bot is stopped, time passes, and it starts again (catching up at start-up)."""
    await h.stop_bot()
    h.clock.advance(delta)
    await h.start_bot()
    await h.settle()


async def test_digests_missed_while_down_are_one_late_digest(both: Harness) -> None:
    h = both
    await community(h)
    await h.say(STAFF_CHAT, STAFF, "/subscribe")  # 09:00 on Tuesday 1 December
    # Down from then until 10:00 on Friday: the digests of 08:30 on 2, 3 and 4 December.
    await down_for(h, timedelta(days=3, hours=1))
    (late,) = digests(h)
    assert "这份汇总迟发了：本应在 2026-12-02 08:30 发出，当时机器人不在线" in late
    assert "上一份汇总以来的全部变化" in late
    await h.pass_time(timedelta(hours=22, minutes=31))  # Saturday 08:31, the bot up
    assert len(digests(h)) == 2
    assert "迟发" not in digests(h)[1]


async def test_an_sla_run_out_while_down_goes_up_once_and_says_so(both: Harness) -> None:
    h = both
    await community(h)
    ballot = await publish(h, "是否在东门设置快递柜 期限=1h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    await h.pass_time(timedelta(hours=1))  # a tie: up to the grid, 3 days to act (SLA)
    # Down for four days: the halfway reminder and the SLA both fell due meanwhile.
    await down_for(h, timedelta(days=4))
    told = [
        m.text or "" for m in h.emu.bot_messages(GRID_CHAT) if "未能在本级解决" in (m.text or "")
    ]
    assert len(told) == 1
    assert "处理期限（2026-12-04 10:00）到时机器人不在线，恢复后才自动上报" in told[0]
    # The halfway reminder would say "handle it by ..." of a time gone: it is not sent.
    assert not [m for m in h.emu.bot_messages(GRID_CHAT) if "处理时限的一半" in (m.text or "")]
    cards = [m for m in h.emu.bot_messages(STAFF_CHAT) if "⬆️ 上报 #" in (m.text or "")]
    assert len(cards) == 1
