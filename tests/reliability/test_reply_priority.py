"""Within a group's budget, a reply goes before the bot's notices and refreshes (issue 13.2).

A building whose budget is spent (scaled down: 5 messages per 4 s) when two topics close at
their deadline: their outcomes, the "sent up" notices and the closed ballots' edits wait for
places. A resident then asks `/topics`: the reply is the first message the group gets, before
everything that was queued ahead of it. Without priorities it waited behind them (first come,
first served). Runs with the limiter `yishi run` uses, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

import channels.telegram.ratelimit as ratelimit
from channels.telegram.ratelimit import SendRateLimiter
from emulators.telegram import EmuMessage
from emulators.telegram.floods import is_message
from tests.auxil.harness import Harness
from tests.auxil.topics import publish
from tests.auxil.world import BUILDING_CHAT, NEIGHBOUR, RESIDENT, community

PATIENCE = 30.0


async def reply_to(h: Harness, command: EmuMessage) -> EmuMessage:
    return await h.emu.wait_for_bot_message(
        BUILDING_CHAT,
        after=command.message_id,
        predicate=lambda m: m.reply_to_message_id == command.message_id,
        timeout=PATIENCE,
    )


async def test_a_reply_goes_before_the_notices_and_edits_queued_ahead_of_it(
    both: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = both
    await community(h)
    await publish(h, "东门加装快递柜 期限=1h")
    await publish(h, "楼道堆物清理 期限=1h")
    await h.settle()
    monkeypatch.setattr(ratelimit, "GROUP", (5, 4.0, 4, 1.0))
    h.production_limits = True
    await h.restart()
    assert h.app is not None
    limiter = h.app.bot.rate_limiter
    assert isinstance(limiter, SendRateLimiter)

    asks = [h.emu.send_message(BUILDING_CHAT, NEIGHBOUR, "/help") for _ in range(5)]
    for ask in asks:
        await reply_to(h, ask)  # the group's 5 places are taken for the next 4 s
    h.clock.advance(timedelta(hours=1))
    await h.services.timers.run_due()  # both topics close: their messages queue
    await h.emu.wait_until(lambda: limiter.waiting >= 2, timeout=PATIENCE)
    start = len(h.emu.calls)
    asked = h.emu.send_message(BUILDING_CHAT, RESIDENT, "/topics")
    listing = await reply_to(h, asked)
    await h.settle()

    to_building = [
        call
        for call in h.emu.calls[start:]
        if is_message(call.method) and int(call.params.get("chat_id", 0)) == BUILDING_CHAT
    ]
    assert len(to_building) >= 3  # the reply, and what was queued before it
    first = to_building[0]
    assert first.method == "sendMessage" and first.result["message_id"] == listing.message_id
    outcomes = [m for m in h.emu.bot_messages(BUILDING_CHAT) if (m.text or "").startswith("🔒")]
    assert len(outcomes) == 2  # nothing was lost, only ordered
