"""Floods: 5,000 presses on one topic, 200 commands a second across 100 chats.

Both run with the flood limits `yishi run` keeps (channels/telegram/ratelimit.py) against the
emulator with Telegram's own flood control on (emulators/telegram/floods.py: a 429 when a bot goes
over), and the budget is then read off the emulator's call log (tests/auxil/budget.py).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from emulators.telegram import EmuMessage
from emulators.telegram.floods import FloodLimits
from storage.tables import ballots
from tests.auxil.budget import GROUP_LIMIT, OVERALL_LIMIT, measure
from tests.auxil.harness import Harness
from tests.auxil.process import ProcessHarness
from tests.auxil.topics import publish, tally, topic_id
from tests.auxil.world import GRID_CHAT, GRID_WORKER, code_in, community
from tests.conftest import fresh_postgres_database
from tests.crash.conftest import running as running_process
from tests.e2e.conftest import running

OPTIONS = ("同意", "反对", "弃权")
FLOOD_CHAT = -1009
RESIDENTS = range(10_000, 15_000)
CHANGERS = frozenset(RESIDENTS[::10])  # 500 change their minds once their press is answered
RSS_GROWTH_MB = 50  # measured: 10-11 (at most 500 updates in hand, channels/telegram/inbox.py)


@pytest.fixture(params=["sqlite", "postgresql"])
async def ph(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ProcessHarness]:
    """`yishi run` as a process (with its production limiter), on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        async with running_process(tmp_path) as harness:
            yield harness
    else:
        async with fresh_postgres_database() as url, running_process(tmp_path, url) as harness:
            yield harness


@pytest.fixture
async def h_sqlite(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    """The bot in process on SQLite (limits lifted until the test restores them)."""
    (tmp_path / "sqlite").mkdir()
    async with running(tmp_path / "sqlite", caplog) as harness:
        yield harness


@pytest.fixture
async def h_postgres(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    """The same on PostgreSQL."""
    (tmp_path / "postgres").mkdir()
    async with (
        fresh_postgres_database() as url,
        running(tmp_path / "postgres", caplog, database_url=url) as harness,
    ):
        yield harness


def memory_mb(pid: int, field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (the peak so far) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


async def flooded_building(h: Harness) -> EmuMessage:
    """A building chat of 5,000 residents and a topic the grid worker published there."""
    await community(h)
    issued = await h.say(GRID_CHAT, GRID_WORKER, "/newbuilding 9号楼")
    for resident in RESIDENTS:
        h.user(resident, f"居民{resident}")
    await h.group(FLOOD_CHAT, "9号楼议事群", members=RESIDENTS, admins=[GRID_WORKER])
    await h.say(FLOOD_CHAT, GRID_WORKER, f"/bind {code_in(issued.text)}")
    return await publish(h, "加装电梯", chat=FLOOD_CHAT, by=GRID_WORKER)


def answer_text(h: Harness, query: str) -> str | None:
    answer = h.emu.answer(query)
    return None if answer is None else str(answer.get("text"))


async def test_five_thousand_presses_on_one_topic_are_answered_and_counted_exactly(
    ph: ProcessHarness,
) -> None:
    h = ph
    h.emu.flood_limits = FloodLimits()  # Telegram's 429 if the bot went over
    ballot = await flooded_building(h)
    await h.settle()
    assert h.process is not None
    pid = h.process.popen.pid
    rss_before = memory_mb(pid, "VmRSS")
    started = h.emu.world.clock()
    first: dict[str, int] = {}  # query -> resident
    last: dict[int, int] = {}  # resident -> option
    for n, resident in enumerate(RESIDENTS):  # 5,000 presses within about two seconds
        last[resident] = n % len(OPTIONS)
        query = h.emu.press_button(FLOOD_CHAT, ballot.message_id, resident, OPTIONS[n % 3])
        first[query] = resident
        if n % 500 == 499:
            await asyncio.sleep(0.2)
    # Wait for every answer (looking 4 times a second, not at every change); 500 residents
    # change their minds as soon as their first press is answered.
    changes: dict[str, int] = {}
    pending = set(first)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 240
    while pending:
        assert loop.time() < deadline, f"{len(pending)} presses never answered"
        await asyncio.sleep(0.25)
        for query in [query for query in pending if h.emu.answer(query) is not None]:
            pending.discard(query)
            resident = first.get(query)
            if resident in CHANGERS:
                last[resident] = (last[resident] + 1) % len(OPTIONS)
                change = h.emu.press_button(
                    FLOOD_CHAT, ballot.message_id, resident, OPTIONS[last[resident]]
                )
                changes[change] = resident
                pending.add(change)

    # Every press answered once, saying what it did.
    answers = Counter(
        call.params.get("callback_query_id")
        for call in h.emu.calls
        if call.method == "answerCallbackQuery" and call.time >= started
    )
    assert set(answers) == {*first, *changes} and set(answers.values()) == {1}
    assert {answer_text(h, query)[:4] for query in first} == {"已记录："}
    assert {answer_text(h, query)[:4] for query in changes} == {"已改为："}
    # The tally, stored and shown, is the residents' last choices.
    stored = await h.rows(
        select(ballots.c.user_id, ballots.c.option).where(ballots.c.topic_id == topic_id(ballot))
    )
    assert sorted((row.user_id, row.option) for row in stored) == sorted(last.items())
    expected = dict.fromkeys(OPTIONS, 0) | Counter(OPTIONS[n] for n in last.values())
    await h.emu.wait_until(
        lambda: tally(h.emu.message(FLOOD_CHAT, ballot.message_id)) == expected, timeout=60
    )
    # Within Telegram's limits all along, and no 429.
    assert h.emu.calls[0].time < started  # the call log is whole (it keeps the last 50,000)
    budget = measure(h.emu.calls, since=started)
    assert budget.problems() == []
    assert h.emu.flood_limits.refused == 0
    # Memory: the bot's peak while 5,000 presses were in hand, over what it used before.
    assert memory_mb(pid, "VmHWM") - rss_before < RSS_GROWTH_MB


BUILDINGS = [-3000 - n for n in range(100)]
COMMANDS = ("/help", "/topics")
ROUNDS, PER_TICK, TICK = 4, 20, 0.1  # 20 commands every 0.1 s: 200 a second, for 2 s


async def hundred_buildings(h: Harness) -> dict[int, int]:
    """100 building chats bound under the grid, each with a resident: chat -> resident."""
    await community(h)
    codes = [
        code_in((await h.say(GRID_CHAT, GRID_WORKER, f"/newbuilding {n + 10}号楼")).text)
        for n in range(len(BUILDINGS))
    ]
    residents = {chat: 20_000 + n for n, chat in enumerate(BUILDINGS)}

    async def bind(chat: int, code: str) -> None:
        h.user(residents[chat], f"居民{residents[chat]}")
        await h.group(chat, f"{chat}楼", members=[residents[chat]], admins=[GRID_WORKER])
        await h.say(chat, GRID_WORKER, f"/bind {code}")

    await asyncio.gather(*(bind(chat, code) for chat, code in zip(BUILDINGS, codes, strict=True)))
    return residents


async def commands_across_a_hundred_chats(h: Harness, database: str) -> None:
    residents = await hundred_buildings(h)  # set up without limits, then with them:
    h.production_limits = True
    await h.restart()
    h.emu.flood_limits = FloodLimits()
    started = h.emu.world.clock()
    sent: list[EmuMessage] = []
    for round_ in range(ROUNDS):
        for tick in range(len(BUILDINGS) // PER_TICK):
            for chat in BUILDINGS[tick * PER_TICK : (tick + 1) * PER_TICK]:
                command = COMMANDS[round_ % len(COMMANDS)]
                sent.append(h.emu.send_message(chat, residents[chat], command))
            await asyncio.sleep(TICK)

    commands = {(message.chat_id, message.message_id) for message in sent}

    def answers() -> list[EmuMessage]:
        return [
            message
            for chat in BUILDINGS
            for message in h.emu.bot_messages(chat)
            if (chat, message.reply_to_message_id) in commands
        ]

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while len(answers()) < len(sent):  # at 25 sends a second, 400 replies take 16 s
        assert loop.time() < deadline, f"{database}: {len(sent) - len(answers())} unanswered"
        await asyncio.sleep(0.5)
    await h.settle()
    # Each command answered once, and nothing else sent.
    replied = Counter((m.chat_id, m.reply_to_message_id) for m in answers())
    assert replied == Counter((m.chat_id, m.message_id) for m in sent), database
    budget = measure(h.emu.calls, since=started)
    assert budget.problems() == [], f"{database}: {budget.problems()}"
    assert budget.sends == len(sent), database
    assert budget.overall.count <= OVERALL_LIMIT, database
    assert budget.busiest_group[1].count <= GROUP_LIMIT, database
    assert h.emu.flood_limits.refused == 0, database


async def test_two_hundred_commands_a_second_across_a_hundred_chats_are_all_answered(
    h_sqlite: Harness, h_postgres: Harness
) -> None:
    # At 25 sends a second the replies take their time: both databases wait it out together.
    await asyncio.gather(
        commands_across_a_hundred_chats(h_sqlite, "sqlite"),
        commands_across_a_hundred_chats(h_postgres, "postgresql"),
    )
