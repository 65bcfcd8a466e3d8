"""The bot's own chatter does not starve the answers people wait for (issue 13.2).

One building group within a few seconds: six residents `/register`, the 楼栋长 approves the
six, three residents mistype their area, a topic is published, the 楼栋长 asks `/result #1`,
then sends `/close #1`. The bot used to spend the group's 20 messages of the rolling minute on
its own notices (6 registration requests, 6 approval edits, 3 refusals, the ballot, the
result), so the answer to `/close` came about 50 s later. Now the requests are one card
edited, decisions and mistakes are told privately to whoever started the bot, and what is
left waits behind the replies: `/close` is answered within 3 s, and the group still never sees
more than 20 sends+edits in any rolling 60 s (Telegram's flood control is on in the emulator).
The limiter and the tally interval are production's; SQLite and PostgreSQL side by side.
"""

from __future__ import annotations

import asyncio

from emulators.telegram import EmuMessage
from emulators.telegram.floods import FloodLimits, is_message
from tests.auxil.budget import chat_of, measure
from tests.auxil.harness import Harness
from tests.auxil.starvation import Starvation
from tests.auxil.topics import pending_card, topic_id
from tests.auxil.world import BUILDING_CHAT, BUILDING_HEAD, community

RESIDENTS = range(200, 206)
STARTED = frozenset(RESIDENTS[:4])  # two never started the bot
MISTYPERS = (RESIDENTS[1], RESIDENTS[2], RESIDENTS[4])  # the last one never started it
ANSWER_WITHIN = 3.0  # s, what the issue asks of /close (plus what a loaded machine withheld)
PATIENCE = 30.0


def unit_of(resident: int) -> str:
    return f"3-{resident}"


async def approve_all(h: Harness) -> None:
    """The 楼栋长 presses ✅ for every household as soon as the card offers it."""
    waiting = {unit_of(resident) for resident in RESIDENTS}
    while waiting:
        await h.emu.wait_until(
            lambda: any(pending_card(h, unit) is not None for unit in waiting), timeout=PATIENCE
        )
        for unit in sorted(waiting):
            card = pending_card(h, unit)
            if card is None:
                continue
            answer = await h.press(BUILDING_CHAT, card.message_id, BUILDING_HEAD, f"✅ {unit} 通过")
            assert answer["text"] == "已通过", answer
            waiting.discard(unit)


async def crowded_seconds(h: Harness, database: str) -> None:
    h.emu.flood_limits = FloodLimits()  # Telegram's 429s, from the first call
    await community(h)
    for resident in RESIDENTS:
        h.user(resident, f"居民{resident}")
        h.emu.add_member(BUILDING_CHAT, resident)
        if resident in STARTED:
            await h.say(resident, resident, "/start")
    await h.settle()
    started = h.emu.world.clock()

    for resident in RESIDENTS:
        h.emu.send_message(BUILDING_CHAT, resident, f"/register {unit_of(resident)} 88")
    await approve_all(h)
    mistakes = [
        h.emu.send_message(BUILDING_CHAT, resident, "/register 3-999 大概九十")
        for resident in MISTYPERS
    ]
    publishing = h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, "/topic 楼道加装声控灯")
    ballot = await h.emu.wait_for_bot_message(
        BUILDING_CHAT,
        after=publishing.message_id,
        predicate=lambda m: (m.text or "").startswith("📋 #"),
        timeout=PATIENCE,
    )
    number = topic_id(ballot)
    asking = h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, f"/result #{number}")
    result = await h.emu.wait_for_bot_message(
        BUILDING_CHAT,
        after=asking.message_id,
        predicate=lambda m: m.reply_to_message_id == asking.message_id,
        timeout=PATIENCE,
    )
    assert f"#{number}" in (result.text or ""), database

    def closed(message: EmuMessage) -> bool:
        return f"#{number}" in (message.text or "") and "结果：" in (message.text or "")

    async with Starvation() as starved:
        closing = h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, f"/close #{number}")
        asked_at = h.emu.world.clock()
        answer = await h.emu.wait_for_bot_message(
            BUILDING_CHAT, after=closing.message_id, predicate=closed, timeout=PATIENCE
        )
        waited = h.emu.world.clock() - asked_at
    assert waited <= ANSWER_WITHIN + starved.seconds, (
        f"{database}: /close answered after {waited:.1f} s ({starved.seconds:.1f} s starved)"
    )
    assert answer.message_id > closing.message_id

    await h.settle()
    # Everyone heard what concerns them: privately if they started the bot, else in the group.
    for resident in STARTED:
        assert any("已通过" in (m.text or "") for m in h.emu.bot_messages(resident)), database
    explained_in_group = [
        m
        for m in h.emu.bot_messages(BUILDING_CHAT)
        if m.reply_to_message_id in {mistake.message_id for mistake in mistakes}
    ]
    assert len(explained_in_group) == 1, database  # the one who never started the bot
    for resident in set(MISTYPERS) & STARTED:
        assert any("不是有效的面积" in (m.text or "") for m in h.emu.bot_messages(resident))

    budget = measure(h.emu.calls, since=started)
    assert budget.problems() == [], f"{database}: {budget.problems()}"
    assert h.emu.flood_limits.refused == 0, database
    to_building = [
        call
        for call in h.emu.calls
        if call.time >= started and is_message(call.method) and chat_of(call) == BUILDING_CHAT
    ]
    print(f"{database}: {len(to_building)} group messages; /close answered in {waited:.2f} s")


async def test_close_is_answered_at_once_after_a_crowded_minute(
    paced_sqlite: Harness, paced_postgres: Harness
) -> None:
    await asyncio.gather(
        crowded_seconds(paced_sqlite, "sqlite"), crowded_seconds(paced_postgres, "postgresql")
    )
