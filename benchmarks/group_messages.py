"""Group messages per flow: the sends and edits the emulator received in each group chat.

Telegram allows a bot 20 messages (sends + edits) a minute in a group, so how many a flow
costs is how long the people in that group may wait behind it. Each flow is played through
the real bot and the emulator (tests/auxil/harness.py) on a fresh SQLite database, with the
production tally interval (3 s); a burst of presses or requests is sent at once. The count is
read off the emulator's call log (``emulators.telegram.floods.is_message``), private chats apart.

The script uses only what the code before issue 13 also had (it presses the ✅ button of
whatever message names the household), so it measures both: from the project root for
"after", and from an export of the older commit for "before" (docs/PERFORMANCE.md).

    .venv/bin/python -m benchmarks.group_messages [--households 6] [--voters 20]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from emulators.telegram import EmuMessage
from emulators.telegram.floods import is_message
from tests.auxil.harness import Harness
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    NEIGHBOUR,
    RESIDENT,
    community,
)

FIRST_RESIDENT = 300


def group_messages(h: Harness, since: int, chat: int) -> int:
    return sum(
        1
        for call in h.emu.calls[since:]
        if is_message(call.method) and int(call.params.get("chat_id", 0)) == chat
    )


def private_messages(h: Harness, since: int) -> int:
    return sum(
        1
        for call in h.emu.calls[since:]
        if is_message(call.method) and int(call.params.get("chat_id", 0)) > 0
    )


def approve_button(h: Harness, unit: str) -> tuple[EmuMessage, str] | None:
    """The message and text of the ✅ button that approves ``unit``, old card or new."""
    for message in reversed(h.emu.bot_messages(BUILDING_CHAT)):
        for text in message.button_texts():
            old_card = text == "✅ 通过" and unit in (message.text or "")  # one per request
            if old_card or (text.startswith("✅") and unit in text):
                return message, text
    return None


async def residents(h: Harness, count: int, *, started: int) -> list[int]:
    people = list(range(FIRST_RESIDENT, FIRST_RESIDENT + count))
    for n, user in enumerate(people):
        h.user(user, f"居民{user}")
        h.emu.add_member(BUILDING_CHAT, user)
        if n < started:
            await h.say(user, user, "/start")
    await h.settle()
    return people


async def registration(h: Harness, households: int) -> str:
    people = await residents(h, households, started=households // 2)
    since = len(h.emu.calls)
    for n, user in enumerate(people):
        h.emu.send_message(BUILDING_CHAT, user, f"/register 4-{101 + n} 80")
    await h.settle()
    for n in range(households):
        unit = f"4-{101 + n}"
        await h.emu.wait_until(lambda unit=unit: approve_button(h, unit) is not None, timeout=30)
        found = approve_button(h, unit)
        assert found is not None
        message, text = found
        await h.press(BUILDING_CHAT, message.message_id, BUILDING_HEAD, text)  # one after another
    await h.settle()
    await h.emu.wait_idle(quiet=0.5)  # the last private notices
    return (
        f"registration of {households} households (half started the bot), all approved | "
        f"{group_messages(h, since, BUILDING_CHAT)} | private {private_messages(h, since)}"
    )


async def mistakes(h: Harness, households: int) -> str:
    people = await residents(h, 3, started=2)
    since = len(h.emu.calls)
    for user in people:
        h.emu.send_message(BUILDING_CHAT, user, "/register 4-101 大概九十")
    await h.settle()
    return (
        f"3 mistyped /register (2 by residents who started the bot) | "
        f"{group_messages(h, since, BUILDING_CHAT)} | private {private_messages(h, since)}"
    )


async def vote(h: Harness, voters: int) -> str:
    people = await residents(h, voters, started=0)
    since = len(h.emu.calls)
    ballot = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic 楼道加装声控灯 期限=1h")
    queries = [
        h.emu.press_button(BUILDING_CHAT, ballot.message_id, user, ("同意", "反对")[n % 3 == 0])
        for n, user in enumerate(people)
    ]
    for query in queries:
        await h.emu.wait_for_answer(query, timeout=30)
    await h.settle()
    await h.pass_time(timedelta(hours=1))
    return (
        f"a vote of {voters} residents (published, pressed at once, closed at the deadline) | "
        f"{group_messages(h, since, BUILDING_CHAT)} | private {private_messages(h, since)}"
    )


async def escalation(h: Harness, _: int) -> str:
    since = len(h.emu.calls)
    ballot = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic 车棚改造 期限=1h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    await h.settle()
    await h.pass_time(timedelta(hours=1))  # a tie: unresolved, sent up to the grid
    return (
        f"an escalation (a tied vote of 2 closes and goes up) | building "
        f"{group_messages(h, since, BUILDING_CHAT)}, grid {group_messages(h, since, GRID_CHAT)}"
        f" | private {private_messages(h, since)}"
    )


async def meeting(h: Harness, _: int) -> str:
    since = len(h.emu.calls)
    await h.say(BUILDING_CHAT, BUILDING_HEAD, "/meeting 2026-12-02 19:00 楼栋议事会 提醒=24h,1h")
    await h.pass_time(timedelta(hours=10))  # 1 Dec 19:00 local: the 24 h reminder is due
    await h.pass_time(timedelta(hours=23))  # 2 Dec 18:00 local: the 1 h reminder
    return (
        f"a meeting (announced, reminded 24 h and 1 h before) | "
        f"{group_messages(h, since, BUILDING_CHAT)} | private {private_messages(h, since)}"
    )


async def play(flow: Callable[[Harness, int], Awaitable[str]], size: int) -> str:
    with tempfile.TemporaryDirectory() as directory:
        h = Harness(Path(directory), tally_interval=3.0)
        await h.start()
        try:
            await community(h)
            await h.settle()
            return await flow(h, size)
        finally:
            await h.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=6)
    parser.add_argument("--voters", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print("| flow | group messages | other |")
    print("| --- | --- | --- |")
    for flow, size in (
        (registration, args.households),
        (mistakes, 3),
        (vote, args.voters),
        (escalation, 0),
        (meeting, 0),
    ):
        print(f"| {await play(flow, size)} |")


if __name__ == "__main__":
    asyncio.run(main())
