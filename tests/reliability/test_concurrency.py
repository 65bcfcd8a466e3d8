"""Concurrency (issue #7, item 8): presses, officers and timers on one matter at once.

The bot handles updates concurrently (``CONCURRENT_UPDATES``), each chat's in order
(channels/telegram/ordering.py), so what races is what happens in different chats and in the
due-work timers: residents pressing in several building chats while the grid's and the community's
officers close, extend, cancel, resolve or send up the same matter from their own chats, and
deadlines and SLAs falling due meanwhile. Whoever wins, nobody is shown an error; every press
answered "recorded" is counted and no other; a topic ends once, a matter is resolved once.
Each scenario runs on SQLite and on PostgreSQL; on SQLite every statement the database ran
is traced, and every write must be in a transaction begun with BEGIN IMMEDIATE.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

import storage.database
from emulators.telegram import EmuMessage
from storage.database import Database
from storage.tables import escalations, resolutions
from tests.auxil.harness import Harness
from tests.auxil.topics import publish, tally, topic_id
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
from tests.conftest import open_sqlite

BUILDINGS = (-1101, -1102, -1103, -1104)
RESIDENTS_PER_BUILDING = 8
OPTIONS = ("同意", "反对", "弃权")
APOLOGY = "抱歉，处理时出了问题"  # refusals.internal_error: what a user sees when a handler fails
CLOSED = "已经结束"  # refusals.topics.closed


@pytest.fixture
def traced(both: Harness) -> Any:
    """On SQLite: after the test, no write ran outside a BEGIN IMMEDIATE transaction."""
    if "sqlite" not in both.database_url:
        yield None
        return
    with SqlTrace(both.services.database) as trace:
        yield trace
    trace.assert_writes_begin_immediate(at_least=100)


# What users were told -----------------------------------------------------------------------


def replies_to(h: Harness, message: EmuMessage) -> list[str]:
    replies = h.emu.bot_messages(message.chat_id)
    return [m.text or "" for m in replies if m.reply_to_message_id == message.message_id]


def send_side_by_side(h: Harness, lanes: list[tuple[int, int, list[str]]]) -> list[EmuMessage]:
    """Each lane's commands in its own chat, the lanes' n-th commands sent together."""
    steps = max(len(texts) for _, _, texts in lanes)
    return [
        h.emu.send_message(chat, user, texts[step])
        for step in range(steps)
        for chat, user, texts in lanes
        if step < len(texts)
    ]


async def audited(h: Harness, actions: tuple[str, ...], topic: int) -> int:
    """How many audit rows of these actions name this topic."""
    async with h.services.database.transaction() as repos:
        entries = await repos.audit.recent(limit=10_000)
    return sum(1 for e in entries if e.action in actions and e.details.get("topic_id") == topic)


def no_user_saw_an_error(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """No message, no button answer says a handler failed or the database was locked (the
    harness also fails the test if the bot logged an ERROR)."""
    texts = [m.text or "" for chat in h.emu.world.messages for m in h.emu.bot_messages(chat)]
    texts += [str((r.answer or {}).get("text", "")) for r in h.emu.world.callbacks.values()]
    for text in texts:
        assert APOLOGY not in text and "database is locked" not in text, text
    assert "database is locked" not in caplog.text


# Presses racing /close, /extend and /cancel -------------------------------------------------


@dataclass(frozen=True)
class Ballot:
    message_id: int
    buttons: dict[str, str]  # as first posted: a late press is made on a stale keyboard


@dataclass(frozen=True)
class Press:
    query: str
    chat: int
    user: int
    topic: int
    option: str


async def grid_of_buildings(h: Harness) -> dict[int, list[int]]:
    """community() plus four buildings of residents; each building's residents."""
    await community(h)
    residents: dict[int, list[int]] = {}
    for index, chat in enumerate(BUILDINGS):
        issued = await h.say(GRID_CHAT, GRID_WORKER, f"/newbuilding {index + 2}号楼")
        people = [
            h.user(2000 + 100 * index + n, f"居民{index}-{n}")
            for n in range(RESIDENTS_PER_BUILDING)
        ]
        await h.group(chat, f"{index + 2}号楼议事群", members=people, admins=[GRID_WORKER])
        await h.say(chat, GRID_WORKER, f"/bind {code_in(issued.text)}")
        residents[chat] = people
    return residents


async def grid_topic(h: Harness, title: str) -> tuple[int, dict[int, Ballot]]:
    """A grid-wide vote (one tally for all buildings); its id and its ballot in each chat."""
    sent = h.emu.send_message(GRID_CHAT, GRID_WORKER, f"/topic {title} 范围=all 期限=1d")
    await h.emu.wait_for_bot_message(
        GRID_CHAT, after=sent.message_id, predicate=lambda m: "已发布" in (m.text or "")
    )
    await h.settle()
    posted = {
        chat: next(m for m in h.emu.bot_messages(chat) if title in (m.text or ""))
        for chat in (*BUILDINGS, BUILDING_CHAT, GRID_CHAT)
    }
    ballots = {}
    for chat, message in posted.items():
        buttons = [button for row in message.button_rows() for button in row]
        data = {str(b["text"]): str(b["callback_data"]) for b in buttons if "callback_data" in b}
        ballots[chat] = Ballot(message.message_id, data)
    return topic_id(posted[GRID_CHAT]), ballots


def press_all(
    h: Harness, residents: dict[int, list[int]], ballots: dict[int, dict[int, Ballot]], shift: int
) -> list[Press]:
    """Every resident presses a button of every topic; the chats' presses interleaved."""
    presses: list[Press] = []
    for n in range(RESIDENTS_PER_BUILDING):
        for chat in BUILDINGS:
            for topic, posted in ballots.items():
                option = OPTIONS[(n + shift + topic) % len(OPTIONS)]
                ballot, user = posted[chat], residents[chat][n]
                query = h.emu.press_callback(chat, ballot.message_id, user, ballot.buttons[option])
                presses.append(Press(query, chat, user, topic, option))
    return presses


def recorded(h: Harness, press: Press) -> bool:
    """True if the press was answered as counted, False if refused as closed; else fails."""
    answer = h.emu.answer(press.query)
    assert answer is not None, f"{press} was never answered"
    text = str(answer.get("text"))
    if text in (f"已记录：{press.option}", f"已改为：{press.option}", f"你已选择：{press.option}"):
        return True
    assert CLOSED in text and answer.get("show_alert"), f"unexpected answer {text!r}"
    return False


async def test_presses_racing_close_extend_and_cancel(
    both: Harness, traced: Any, caplog: pytest.LogCaptureFixture
) -> None:
    h = both
    residents = await grid_of_buildings(h)
    first, first_ballots = await grid_topic(h, "小区东门改造方案")
    second, second_ballots = await grid_topic(h, "增设电动车充电桩")
    ballots = {first: first_ballots, second: second_ballots}

    presses = press_all(h, residents, ballots, shift=0)
    await h.emu.wait_until(
        lambda: sum(h.emu.answer(p.query) is not None for p in presses) >= len(presses) // 3,
        timeout=30,
    )
    # With presses still coming, officers in two chats at once: the grid worker and community
    # staff (a close races an extension, then a cancel a close).
    grid = [f"/close {first}", f"/cancel #{second}", f"/extend {first} 2h"]
    staff = [f"/extend #{first} 1d", f"/close #{first}", f"/close {second}"]
    commands = send_side_by_side(h, [(GRID_CHAT, GRID_WORKER, grid), (STAFF_CHAT, STAFF, staff)])
    presses += press_all(h, residents, ballots, shift=1)  # everyone changes their mind
    await h.emu.wait_until(lambda: all(h.emu.answer(p.query) for p in presses), timeout=60)
    await h.settle()
    late = press_all(h, residents, ballots, shift=2)
    await h.emu.wait_until(lambda: all(h.emu.answer(p.query) for p in late), timeout=60)
    await h.settle()
    assert not any(recorded(h, press) for press in late)

    # Once a press in a chat is refused, every later one there is (a chat's updates in order).
    for chat in BUILDINGS:
        for topic in ballots:
            answers = [recorded(h, p) for p in presses if p.chat == chat and p.topic == topic]
            assert answers == sorted(answers, reverse=True), (chat, topic, answers)
    for topic, posted in ballots.items():
        async with h.services.database.transaction() as repos:
            stored = await repos.topics.get(topic)
        assert stored is not None and stored.status in ("closed", "cancelled")
        assert await audited(h, ("topic.closed", "topic.cancelled"), topic) == 1
        for chat in posted:  # announced once in every chat it was posted in
            announced = [
                m.text or ""
                for m in h.emu.bot_messages(chat)
                if re.match(rf"(🔒|🚫) #{topic} ", m.text or "")
            ]
            assert len(announced) == 1, announced
            assert ("已取消" if stored.status == "cancelled" else "已结束") in announced[0]
        if stored.status == "cancelled":
            continue
        last = {p.user: p.option for p in presses if p.topic == topic and recorded(h, p)}
        expected = {option: Counter(last.values())[option] for option in OPTIONS}
        assert stored.outcome is not None
        assert stored.outcome["counts"] == list(expected.values()), (stored.outcome, expected)
        announcement = next(
            m.text or "" for m in h.emu.bot_messages(GRID_CHAT) if f"🔒 #{topic} " in (m.text or "")
        )
        assert " · ".join(f"{o}：{n}" for o, n in expected.items()) in announcement
        for chat in BUILDINGS:
            assert tally(h.emu.message(chat, posted[chat].message_id)) == expected

    # One close or cancel of each topic won (the announcement answers it); the others, and
    # the extensions that came too late, were told the topic had ended.
    for topic in ballots:
        ending = [
            replies_to(h, c)
            for c in commands
            if re.match(rf"/(close|cancel) #?{topic}$", c.text or "")
        ]
        assert sorted(len(replies) for replies in ending) == [0, 1], ending
        assert all(CLOSED in text for replies in ending for text in replies), ending
    for extension in (c for c in commands if (c.text or "").startswith("/extend")):
        (answer,) = replies_to(h, extension)
        assert "已延期" in answer or CLOSED in answer, answer
    no_user_saw_an_error(h, caplog)


# Officers extending topics as their deadlines pass --------------------------------------------


async def test_deadlines_racing_extensions(
    both: Harness, traced: Any, caplog: pytest.LogCaptureFixture
) -> None:
    h = both
    await community(h)
    numbers = [topic_id(await publish(h, f"议题{n} 期限=1h")) for n in range(4)]
    await h.settle()
    h.clock.advance(timedelta(hours=1))
    building = [f"/extend {numbers[0]} 1d", f"/extend {numbers[3]} 2h"]
    commands = send_side_by_side(
        h,
        [
            (BUILDING_CHAT, BUILDING_HEAD, building),
            (GRID_CHAT, GRID_WORKER, [f"/extend {numbers[1]} 1d"]),
            (STAFF_CHAT, STAFF, [f"/extend {numbers[2]} 1d"]),
        ],
    )
    await h.emu.wait_until(lambda: not h.emu.pending_updates)  # fetched: being handled
    await h.services.timers.run_due()  # the deadlines, meanwhile
    await h.settle()
    await h.services.timers.run_due()
    await h.settle()

    for command in commands:
        number = int((command.text or "").split()[1])
        (answer,) = replies_to(h, command)
        async with h.services.database.transaction() as repos:
            topic = await repos.topics.get(number)
        assert topic is not None
        messages = h.emu.bot_messages(BUILDING_CHAT)
        announced = [m for m in messages if (m.text or "").startswith(f"🔒 #{number} ")]
        if "已延期" in answer:  # the officer was told it is extended: it is, and still open
            assert topic.status == "open" and topic.deadline > h.clock.now(), topic
            assert announced == [] and await audited(h, ("topic.closed",), number) == 0
        else:  # the deadline came first: closed once, and the officer told so
            assert CLOSED in answer, answer
            assert topic.status == "closed" and len(announced) == 1
            assert await audited(h, ("topic.closed",), number) == 1
    no_user_saw_an_error(h, caplog)


# Officers and the SLA racing on escalated matters ------------------------------------------


async def tied_matters(h: Harness, titles: list[str]) -> list[int]:
    """Building votes that end in a tie, so each goes up to the grid with a card."""
    numbers = []
    for title in titles:
        ballot = await publish(h, f"{title} 期限=1h")
        await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
        await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
        numbers.append(topic_id(ballot))
    await h.pass_time(timedelta(hours=1))
    return numbers


def cards_of(h: Harness, chat: int, number: int) -> list[EmuMessage]:
    return [
        m
        for m in h.emu.bot_messages(chat)
        if "⬆️ 上报" in (m.text or "") and f"#{number} " in (m.text or "")
    ]


async def test_officers_and_the_sla_racing_on_escalated_matters(
    both: Harness, traced: Any, caplog: pytest.LogCaptureFixture
) -> None:
    h = both
    await community(h)
    a, b, c = await tied_matters(h, ["东门设置快递柜", "楼道堆物清理", "更换单元门禁"])
    (card,) = cards_of(h, GRID_CHAT, a)

    # The grid worker takes a card, resolves and sends up matters from the grid chat while
    # community staff resolve the same ones from the staff group; the grid's time to act
    # (SLA) has run out, so the timer sends up, meanwhile, whatever is still at the grid.
    h.clock.advance(timedelta(days=3, minutes=1))
    accept = h.emu.press_button(GRID_CHAT, card.message_id, GRID_WORKER, "受理")
    staff = [f"/resolve {a} 决定甲", f"/resolve {b} 决定丁", f"/resolve {c} 决定戊"]
    grid = [f"/resolve {b} 决定乙", f"/escalate {c} 协调", f"/resolve {a} 决定丙"]
    commands = send_side_by_side(h, [(STAFF_CHAT, STAFF, staff), (GRID_CHAT, GRID_WORKER, grid)])
    await h.emu.wait_until(lambda: h.emu.answer(accept) is not None)
    await h.services.timers.run_due()
    await h.settle()
    await h.services.timers.run_due()  # nothing may be left to do
    await h.settle()

    offered: dict[int, set[str]] = {}
    for command in commands:
        if match := re.match(r"/resolve (\d+) (\S+)", command.text or ""):
            offered.setdefault(int(match[1]), set()).add(match[2])
    assert await count(h, rows(resolutions)) == 3
    assert await audited(h, ("escalation.accepted",), a) <= 1
    hops_in_all = 0
    for number in (a, b, c):
        assert await audited(h, ("escalation.resolved",), number) == 1
        async with h.services.database.transaction() as repos:
            hops = await repos.escalations.of_topic(number)
            decision = await repos.escalations.resolution(number)
        assert decision is not None
        hops_in_all += len(hops)
        # One chain of hops that ends where the matter was resolved: nothing went up later.
        assert [hop.state for hop in hops] == ["escalated"] * (len(hops) - 1) + ["resolved"]
        assert hops[-1].to_node_id == decision.node_id and len(hops) <= 2, hops
        for earlier, later in itertools.pairwise(hops):
            assert later.from_node_id == earlier.to_node_id
        chats = {BUILDING_CHAT}
        for hop in hops:  # one card per hop
            assert hop.card_chat_id is not None
            chats.add(hop.card_chat_id)
            cards = cards_of(h, hop.card_chat_id, number)
            assert [m.message_id for m in cards] == [hop.card_message_id]
        # The decision, published once in every chat the matter passed through; the ones
        # that lost the race nowhere.
        everywhere = [
            m.text or "" for chat in h.emu.world.messages for m in h.emu.bot_messages(chat)
        ]
        for chat in chats:
            texts = [m.text or "" for m in h.emu.bot_messages(chat)]
            assert sum(decision.decision in text for text in texts) == 1, (chat, number)
        for lost in offered.get(number, set()) - {decision.decision}:
            assert not [text for text in everywhere if lost in text], lost
    assert await count(h, rows(escalations)) == hops_in_all

    # Every officer heard back once: a confirmation or a refusal.
    answer = h.emu.answer(accept) or {}
    assert answer.get("text") == "已受理" or answer.get("show_alert"), answer
    for command in commands:
        assert len(replies_to(h, command)) == 1, command.text
    no_user_saw_an_error(h, caplog)


# SQLite: every transaction that writes takes the write lock first ---------------------------

WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


class SqlTrace:
    """Every statement SQLite runs on the bot's connections (sqlite3's trace callback).

    A deferred transaction (plain BEGIN) that reads and then writes cannot take the write lock
    once another connection wrote since its read: it fails with "database is locked" at once,
    whatever the busy timeout (see tests/storage/test_group_commit.py)."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine.sync_engine
        self.statements: list[str] = []
        self._connections: list[sqlite3.Connection] = []

    def __enter__(self) -> SqlTrace:
        event.listen(self._engine, "checkout", self._on_checkout)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self._engine, "checkout", self._on_checkout)
        for connection in self._connections:
            connection.set_trace_callback(None)

    def _on_checkout(self, dbapi_connection: Any, *_: Any) -> None:
        raw: sqlite3.Connection = dbapi_connection.driver_connection._conn
        if raw not in self._connections:
            raw.set_trace_callback(self.statements.append)
            self._connections.append(raw)

    def assert_writes_begin_immediate(self, *, at_least: int) -> None:
        began: str | None = None
        writes = 0
        for statement in self.statements:
            word = " ".join(statement.split()).upper()
            if word.startswith("BEGIN"):
                assert began is None, f"{statement!r} inside a transaction"
                began = word
            elif word.startswith(("COMMIT", "END")) or (
                word.startswith("ROLLBACK") and " TO " not in word
            ):
                began = None
            elif WRITE.match(statement):
                writes += 1
                assert began == "BEGIN IMMEDIATE", f"{statement[:80]!r} ran after {began!r}"
        assert writes >= at_least, f"only {writes} writes were traced"


async def test_the_trace_finds_a_write_in_a_deferred_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_sqlite(tmp_path / "yishi.db") as database:
        monkeypatch.setattr(storage.database, "BEGIN_STATEMENT", "BEGIN")
        with SqlTrace(database) as trace:
            async with database.transaction() as repos:
                await repos.inbox.receive(1, "{}", datetime(2026, 12, 1, tzinfo=UTC))
        with pytest.raises(AssertionError, match="ran after 'BEGIN'"):
            trace.assert_writes_begin_immediate(at_least=1)
