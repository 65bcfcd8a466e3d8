"""Work that sends one message per chat, stopped midway by SIGTERM or SIGKILL: a decision
published down the three chats its matter passed through, and a community meeting's
announcement and reminders in its five chats. After the restart each chat has each message
once; a SIGKILL between a message's delivery and its record repeats that one message
(docs/RELIABILITY.md).

One bot process per scenario and database, stopped and restarted at each point in turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from emulators.telegram import EmuMessage
from storage.tables import outbox
from tests.auxil.meetings import reminders
from tests.auxil.process import HANDLERS_STOPPING, STOPPING, ProcessHarness, rows
from tests.auxil.topics import publish, topic_id
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

MORE_BUILDINGS = (-1005, -1006)


@dataclass(frozen=True)
class Stop:
    """Hold ``held`` chats' sends (or, ``after``, only the answer of a send done), then stop."""

    name: str
    graceful: bool  # SIGTERM, else SIGKILL
    held: tuple[int, ...]  # indexes into the scenario's chats
    after: bool = False


async def stop_holding(
    h: ProcessHarness, stop: Stop, chats: Sequence[int], *, stopping: str = STOPPING
) -> None:
    """Wait until the first held chat's send waits at the emulator, then stop the bot (a
    graceful stop releases the sends once the bot logs ``stopping``)."""
    held = [chats[index] for index in stop.held]

    def release() -> None:
        for chat in held:
            h.emu.release("sendMessage", chat_id=chat, after=stop.after)

    await h.held("sendMessage", held[0])
    if stop.graceful:
        await h.stop_bot_holding(release, stopping=stopping)
    else:
        await h.kill_bot()
        release()


def hold(h: ProcessHarness, stop: Stop, chats: Sequence[int]) -> None:
    for index in stop.held:
        h.emu.hold("sendMessage", chat_id=chats[index], after=stop.after)


# A decision published down the chain -------------------------------------------------------

CHAIN = (STAFF_CHAT, GRID_CHAT, BUILDING_CHAT)  # community, grid, building

# The staff chat's copy goes out with the answer to /resolve there; the stops fall on the
# way down: before the grid's and the building's, between them, after the building's.
DECISION_STOPS = [
    Stop("SIGTERM before grid and building", True, (1, 2)),
    Stop("SIGTERM between grid and building", True, (2,)),
    Stop("SIGTERM after the building's", True, (2,), after=True),
    Stop("SIGKILL before grid and building", False, (1, 2)),
    Stop("SIGKILL between grid and building", False, (2,)),
    Stop("SIGKILL after the building's", False, (2,), after=True),
]


def published(h: ProcessHarness, chat: int, text: str) -> int:
    return sum(1 for m in h.emu.bot_messages(chat) if text in (m.text or ""))


async def marked_sent(h: ProcessHarness, chats: list[int]) -> None:
    unsent = rows(outbox).where(outbox.c.chat_id.in_(chats), outbox.c.sent_at.is_(None))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while await h.count(unsent):
        assert loop.time() < deadline, "the chats not held did not get their messages"
        await asyncio.sleep(0.05)


async def restarted(
    h: ProcessHarness, chats: Sequence[int], count: Callable[[int], int], *, twice: int | None
) -> tuple[dict[int, int], dict[int, int]]:
    """Start the bot again and let it catch up: what ``count`` finds in each chat, and what it
    should find: one each, two in ``twice`` (posted, then killed before its id was recorded:
    posted again)."""
    await h.start_bot()
    expected = dict.fromkeys(chats, 1)
    if twice is not None:
        expected[twice] = 2
    await h.emu.wait_until(lambda: all(count(chat) >= n for chat, n in expected.items()))
    await h.settle()
    return {chat: count(chat) for chat in chats}, expected


async def fresh_process(h: ProcessHarness) -> None:
    """Restart (SIGTERM) after building the world: the new process's budget of 20 sends a
    minute per group (channels/telegram/ratelimit.py) is not taken by the set-up's messages."""
    await h.settle()
    await h.stop_bot()
    await h.start_bot()


async def test_a_decision_published_to_three_chats_stopped_at_each_point(
    ph_both: ProcessHarness,
) -> None:
    h = ph_both
    await community(h)
    ballots = [await publish(h, f"议题{n} 期限=1h") for n in range(2)]
    for ballot in ballots:  # ties: each goes up to the grid at the deadline
        await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
        await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    await h.pass_time(timedelta(hours=1))
    await h.pass_time(timedelta(days=3))  # the grid's SLA runs out: up to the community
    await h.emu.wait_until(
        lambda: sum("⬆️ 上报 #" in (m.text or "") for m in h.emu.bot_messages(STAFF_CHAT)) == 2
    )
    await fresh_process(h)
    # Each matter: its decision (/resolve), then two progress reports (/progress), published
    # down the same three chats the same way; the first matter's under SIGTERM, the second's
    # under SIGKILL, each at the three points.
    for step, stop in enumerate(DECISION_STOPS):
        number = topic_id(ballots[step // 3])
        text = f"第{step}步：西门设快递柜"
        command = "/resolve" if step % 3 == 0 else "/progress"
        hold(h, stop, CHAIN)
        h.emu.send_message(STAFF_CHAT, STAFF, f"{command} {number} {text}")
        # The chats not held get theirs at once; a kill before their "sent" marks commit
        # would send them again (the one repeat per chat a SIGKILL may cause): wait for them.
        await h.held("sendMessage", CHAIN[stop.held[0]])
        await marked_sent(h, [chat for i, chat in enumerate(CHAIN) if i not in stop.held])
        await stop_holding(h, stop, CHAIN)
        await h.start_bot()
        expected = dict.fromkeys(CHAIN, 1)
        if not stop.graceful and stop.after:
            expected[BUILDING_CHAT] = 2  # delivered, killed before its record: sent again

        def arrived(text: str = text, expected: dict[int, int] = expected) -> bool:
            return all(published(h, chat, text) >= n for chat, n in expected.items())

        await h.emu.wait_until(arrived)
        await h.settle()
        assert {chat: published(h, chat, text) for chat in CHAIN} == expected, stop.name


# A community meeting's reminders in five chats ---------------------------------------------

# Chats in the order the bot posts to them (read from the announcement); a stop before the
# first chat's reminder, between the second's and the third's, after the last one's.
MEETING_STOPS = [
    Stop("SIGTERM before the first chat", True, (0,)),
    Stop("SIGTERM between chats", True, (2,)),
    Stop("SIGTERM after the last chat", True, (4,), after=True),
    Stop("SIGKILL before the first chat", False, (0,)),
    Stop("SIGKILL between chats", False, (2,)),
    Stop("SIGKILL after the last chat", False, (4,), after=True),
]


async def five_chats(h: ProcessHarness) -> None:
    """Two more buildings under the grid: community, grid and three buildings."""
    await community(h)
    for number, chat in enumerate(MORE_BUILDINGS, start=2):
        issued = await h.say(GRID_CHAT, GRID_WORKER, f"/newbuilding {number}号楼")
        await h.group(chat, f"{number}号楼议事群", members=[], admins=[GRID_WORKER])
        await h.say(chat, GRID_WORKER, f"/bind {code_in(issued.text)}")


async def five_chats_in_order(
    h: ProcessHarness, chat: int, by: int, command: str, title: str
) -> list[int]:
    """The five chats built, ``command`` (posting ``title``) said once to learn the order the
    bot posts in, then a fresh process: the chats in that order."""
    await five_chats(h)
    await h.say(chat, by, command)
    await h.settle()
    chats = posting_order(h, title)
    await fresh_process(h)
    return chats


def posting_order(h: ProcessHarness, announcement: str) -> list[int]:
    order: list[int] = []
    for call in h.emu.calls:
        if call.method == "sendMessage" and announcement in str(call.params.get("text", "")):
            chat = int(call.params["chat_id"])
            if chat not in order:
                order.append(chat)
    return order


def count_reminders(h: ProcessHarness, chat: int, before: dict[int, int]) -> int:
    mine: list[EmuMessage] = reminders(h, chat)
    return len(mine) - before[chat]


async def test_a_meeting_reminded_in_five_chats_stopped_at_each_point(
    ph_both: ProcessHarness,
) -> None:
    h = ph_both
    await five_chats(h)
    # Two meetings (19:00 local on 20 and 27 December), reminded 3, 2 and 1 days before: the
    # first's reminders stopped by SIGTERM, the second's by SIGKILL.
    meetings = [
        ("协商议事日", datetime(2026, 12, 20, 11, 0, tzinfo=UTC)),
        ("年终议事会", datetime(2026, 12, 27, 11, 0, tzinfo=UTC)),
    ]
    for title, when in meetings:
        local = when + timedelta(hours=8)
        h.emu.send_message(
            STAFF_CHAT,
            STAFF,
            f"/meeting {local:%Y-%m-%d %H:%M} {title} 范围=all 提醒=3d,2d,1d",
        )
        await h.emu.wait_until(lambda t=title: len(posting_order(h, t)) == 5)
    chats = posting_order(h, meetings[0][0])
    assert set(chats) == {STAFF_CHAT, GRID_CHAT, BUILDING_CHAT, *MORE_BUILDINGS}
    await fresh_process(h)
    for step, stop in enumerate(MEETING_STOPS):
        title, when = meetings[step // 3]
        before = {chat: len(reminders(h, chat)) for chat in chats}
        hold(h, stop, chats)
        h.set_time(when - timedelta(days=3 - step % 3) + timedelta(minutes=1))
        await stop_holding(h, stop, chats)
        twice = chats[4] if not stop.graceful and stop.after else None

        def counted(chat: int, before: dict[int, int] = before) -> int:
            return count_reminders(h, chat, before)

        got, expected = await restarted(h, chats, counted, twice=twice)
        assert got == expected, stop.name
        assert all(title in (reminders(h, chat)[-1].text or "") for chat in chats)


# A community meeting announced in five chats ------------------------------------------------

# /meeting posts the announcements itself (the handler), one chat after another, each
# message's id recorded as it is posted. A graceful stop waits for the running handler, so the
# stopping bot posts them all; a kill leaves the rest to the restarted bot, which posts only
# the chats without a recorded message. Indexes are into the posting order.
ANNOUNCEMENT_STOPS = [
    Stop("SIGTERM before the first chat", True, (0,)),
    *(Stop(f"SIGTERM after {n} of 5 chats", True, (n,)) for n in range(1, 5)),
    Stop("SIGTERM after the fifth chat", True, (4,), after=True),
    Stop("SIGKILL after 2 of 5 chats", False, (2,)),
    Stop("SIGKILL after the fifth chat", False, (4,), after=True),
]


def schedule_in_ten_days(h: ProcessHarness, title: str) -> None:
    """The community's staff schedule a meeting for its five chats (no reminders)."""
    day = h.clock.now() + timedelta(days=10)
    h.emu.send_message(STAFF_CHAT, STAFF, f"/meeting {day:%Y-%m-%d} 19:00 {title} 范围=all 提醒=无")


async def announcement_stopped(h: ProcessHarness, stop: Stop, chats: list[int], title: str) -> None:
    hold(h, stop, chats)
    schedule_in_ten_days(h, title)
    await stop_holding(h, stop, chats, stopping=HANDLERS_STOPPING)


async def note_held_then_killed(h: ProcessHarness, chats: list[int], title: str) -> None:
    """Every chat's announcement posted and recorded; killed while the handler's last reply
    (📣 announced in 5 chats) is on its way: the /meeting update is not handled to the end."""
    h.emu.hold("sendMessage", chat_id=STAFF_CHAT)
    schedule_in_ten_days(h, title)

    def note_held() -> bool:
        return any(str(call.params.get("text", "")).startswith("📣") for call in h.emu.held_calls)

    # The staff chat's announcement comes first: let it through, and hold what follows.
    await h.held("sendMessage", STAFF_CHAT)
    assert not note_held()
    h.emu.release("sendMessage", chat_id=STAFF_CHAT)
    h.emu.hold("sendMessage", chat_id=STAFF_CHAT)  # a new gate: the note waits at it
    await h.emu.wait_until(note_held)
    assert {chat: announced(h, chat, title) for chat in chats} == dict.fromkeys(chats, 1)
    await h.kill_bot()
    h.emu.release("sendMessage", chat_id=STAFF_CHAT)


def posts_of(h: ProcessHarness, chat: int, title: str, *, mark: str) -> int:
    """How many of the bot's messages in the chat start with ``mark`` and name ``title``."""
    return sum(
        1 for m in h.emu.bot_messages(chat) if (m.text or "").startswith(mark) and title in m.text
    )


def announced(h: ProcessHarness, chat: int, title: str) -> int:
    return posts_of(h, chat, title, mark="📅")


async def test_a_meeting_announced_in_five_chats_stopped_at_each_point(
    ph_both: ProcessHarness,
) -> None:
    h = ph_both
    meeting = "/meeting 2026-12-20 19:00 协商议事日 范围=all 提醒=无"
    chats = await five_chats_in_order(h, STAFF_CHAT, STAFF, meeting, "协商议事日")
    assert set(chats) == {STAFF_CHAT, GRID_CHAT, BUILDING_CHAT, *MORE_BUILDINGS}
    cases: list[Stop | None] = [*ANNOUNCEMENT_STOPS, None]  # None: the reply held, then SIGKILL
    for step, stop in enumerate(cases):
        title = f"第{step + 1}次议事会"
        if stop is None:
            await note_held_then_killed(h, chats, title)
        else:
            await announcement_stopped(h, stop, chats, title)
        posted = {chat: announced(h, chat, title) for chat in chats}
        if stop is not None and stop.graceful:
            assert posted == dict.fromkeys(chats, 1), stop.name  # the stopping bot posted all
        elif stop is not None:
            first_held = stop.held[0] + (1 if stop.after else 0)
            assert posted == {c: int(i < first_held) for i, c in enumerate(chats)}, stop.name
        twice = chats[4] if stop is not None and not stop.graceful and stop.after else None
        got, expected = await restarted(h, chats, partial(announced, h, title=title), twice=twice)
        assert got == expected, stop.name if stop else "SIGKILL with the reply held"


# A topic for every building (范围=all) -----------------------------------------------------

# The grid's notice and the three buildings' ballots, posted one by one after /topic commits.
TOPIC_STOPS = [
    Stop("SIGTERM after 2 of 4 chats", True, (2,)),
    Stop("SIGKILL after 2 of 4 chats", False, (2,)),
    Stop("SIGKILL after the last chat", False, (3,), after=True),
]


def ballots(h: ProcessHarness, chat: int, title: str) -> int:
    return posts_of(h, chat, title, mark="📋 #")


async def test_a_topic_for_every_building_stopped_midway_is_one_topic_posted_once(
    ph_both: ProcessHarness,
) -> None:
    h = ph_both
    topic = "/topic 统一更换路灯 范围=all 期限=3d"
    chats = await five_chats_in_order(h, GRID_CHAT, GRID_WORKER, topic, "统一更换路灯")
    assert set(chats) == {GRID_CHAT, BUILDING_CHAT, *MORE_BUILDINGS}
    for step, stop in enumerate(TOPIC_STOPS):
        title = f"第{step + 1}批路灯"
        hold(h, stop, chats)
        h.emu.send_message(GRID_CHAT, GRID_WORKER, f"/topic {title} 范围=all 期限=3d")
        await stop_holding(h, stop, chats, stopping=HANDLERS_STOPPING)
        twice = chats[3] if not stop.graceful and stop.after else None
        got, expected = await restarted(h, chats, partial(ballots, h, title=title), twice=twice)
        # One topic (the request was not run again), its ballot once in every chat.
        assert got == expected, stop.name
        numbers = {
            m.text.split()[1]
            for chat in chats
            for m in h.emu.bot_messages(chat)
            if (m.text or "").startswith("📋 #") and title in m.text
        }
        assert len(numbers) == 1, (stop.name, numbers)
