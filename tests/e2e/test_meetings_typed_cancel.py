"""/cancelmeeting with its second word on Telegram (the words WeCom uses, where there are no
buttons): ``本次`` cancels the next date of a series, ``全部`` the series; a word that is
neither is answered with the usage and cancels nothing."""

from __future__ import annotations

from tests.auxil.harness import Harness
from tests.auxil.meetings import schedule
from tests.auxil.world import GRID_CHAT, GRID_WORKER, community


async def told(h: Harness, text: str) -> list[str]:
    """What the bot said in the grid's group after the grid worker sent ``text``."""
    sent = h.emu.send_message(GRID_CHAT, GRID_WORKER, text)
    await h.emu.wait_for_bot_message(GRID_CHAT, after=sent.message_id)
    await h.settle()
    return [m.text or "" for m in h.emu.bot_messages(GRID_CHAT) if m.message_id > sent.message_id]


async def test_a_series_is_cancelled_by_typing_which(both: Harness) -> None:
    h = both
    await community(h)
    await schedule(h, "每月15日 19:00 网格议事会", chat=GRID_CHAT, by=GRID_WORKER)

    unclear = await h.say(GRID_CHAT, GRID_WORKER, "/cancelmeeting 1 明天")
    assert "/cancelmeeting 编号 本次" in (unclear.text or "")
    listed = await h.say(GRID_CHAT, GRID_WORKER, "/meetings")
    assert "2026-12-15 19:00" in (listed.text or "")  # nothing was cancelled

    once = "\n".join(await told(h, "/cancelmeeting 1 本次"))
    assert "已取消会议 #1 在 2026-12-15 19:00（周二） 的这一次" in once
    assert "下一次：2027-01-15 19:00（周五）" in once

    series = "\n".join(await told(h, "/cancelmeeting 1 全部"))
    assert "已取消会议 #1 网格议事会，以后不再召开" in series
    listed = await h.say(GRID_CHAT, GRID_WORKER, "/meetings")
    assert "还没有安排会议" in (listed.text or "")
