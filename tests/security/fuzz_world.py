"""The world the fuzz suites attack: a community with a topic, a secret topic, a meeting, a
registration and a proposal, and the (chat, user) pairs that can write in each chat."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select, text

from emulators.telegram import EmuMessage
from storage.tables import audit_log, topics
from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.topics import publish
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    OUTSIDER,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    community,
)
from tests.security.support import (
    Fingerprint,
    Refusals,
    errors_logged,
    failed_sends,
    handled,
    last_update_id,
    read,
    recording_refusals,
    sent_to,
)

# In CI the same examples every run; YISHI_FUZZ_EXAMPLES=2000 explores new ones for longer.
EXPLORE = int(os.environ.get("YISHI_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=EXPLORE or 150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=not EXPLORE,
    database=None,
)
# PostgreSQL gets a third of the examples: the bot makes more round trips per update there and
# the suite has a time budget (tests/security in about two minutes); the permission matrix
# already runs every command on PostgreSQL. YISHI_FUZZ_EXAMPLES sets both.
EXAMPLES = {"sqlite": EXPLORE or 150, "postgresql": EXPLORE or 50}


def on_each_store(**strategies: Any) -> Callable[[Callable[..., Any]], tuple[Any, Any]]:
    """A property as two tests, on SQLite and on PostgreSQL (the ``both`` fixture, each with a
    bot and a world of its own), with ``EXAMPLES`` examples each. Name both ``test_...``."""

    def tests(body: Callable[..., Any]) -> tuple[Any, Any]:
        sqlite, postgresql = (
            pytest.mark.parametrize("both", [store], indirect=True)(
                settings(FUZZ, max_examples=examples)(given(**strategies)(body))
            )
            for store, examples in EXAMPLES.items()
        )
        return sqlite, postgresql

    return tests


# Who may write where (the emulator refuses messages from non-members, as Telegram does).
WRITERS: dict[int, tuple[int, ...]] = {
    BUILDING_CHAT: (RESIDENT, NEIGHBOUR, BUILDING_HEAD, GRID_WORKER),
    GRID_CHAT: (GRID_WORKER, STAFF),
    STAFF_CHAT: (STAFF, SUPERADMIN),
}
PRIVATE_USERS = (RESIDENT, BUILDING_HEAD, STAFF, SUPERADMIN, OUTSIDER)


@dataclass(repr=False)
class FuzzWorld:
    h: Harness
    caplog: pytest.LogCaptureFixture
    fingerprint: Fingerprint
    refusals: Refusals
    ballots: list[EmuMessage] = field(default_factory=list)
    examples: int = 0
    now: dict[str, Any] = field(default_factory=dict)  # the database after the last input

    def __repr__(self) -> str:
        return f"FuzzWorld({self.examples} examples)"

    def with_buttons(self) -> list[EmuMessage]:
        """Every bot message with inline buttons in the three groups."""
        return [
            message
            for chat in WRITERS
            for message in self.h.emu.bot_messages(chat)
            if message.button_texts()
        ]


async def build(h: Harness, caplog: pytest.LogCaptureFixture, stack: ExitStack) -> FuzzWorld:
    await community(h)
    h.user(OUTSIDER, "周路人")
    ballot = await publish(h, "加装电梯 期限=3d")
    secret = await publish(h, "更换物业 匿名=yes 选项=甲,乙,丙")
    await h.say(BUILDING_CHAT, BUILDING_HEAD, "/meeting 2026-12-15 19:00 楼栋议事会")
    await h.say(BUILDING_CHAT, RESIDENT, "/register 2-502 89.5")
    await h.say(BUILDING_CHAT, NEIGHBOUR, "/propose 在车棚装充电桩")
    await h.settle()
    world = FuzzWorld(
        h=h,
        caplog=caplog,
        fingerprint=Fingerprint(h),
        refusals=stack.enter_context(recording_refusals()),
        ballots=[ballot, secret],
    )
    await world.fingerprint.check_schema()
    world.now = await world.fingerprint.tables()
    return world


@dataclass
class Outcome:
    answered: list[Any]
    refused: list[str]
    changed: dict[str, Any]
    text: str
    privately: list[Any]  # a refusal in a group is told to its sender privately when it can be


async def attempt(world: FuzzWorld, chat: int, send: Any, user: int | None = None) -> Outcome:
    """Run one hostile input (``send`` enqueues it); check what must hold for every input."""
    h = world.h
    world.examples += 1
    # Nothing runs between two inputs: the last one's reading will do (unless it failed).
    before = world.now or await world.fingerprint.tables()
    world.now = {}
    calls, refusals = len(h.emu.calls), len(world.refusals.keys)
    logs = len(world.caplog.get_records("call"))
    description = send()
    await handled(h, last_update_id(h))
    assert h.app is not None
    await h.app.bot_data.runtime.settle()
    made = h.emu.calls[calls:]
    assert failed_sends(made) == [], f"Telegram refused what the bot sent for {description!r}"
    assert errors_logged(world.caplog, logs) == [], f"a handler failed on {description!r}"
    refused = world.refusals.since(refusals)
    after = world.now = await world.fingerprint.tables()
    changed = world.fingerprint.diff(before, after)
    if refused:
        assert changed == {}, f"{description!r} was refused ({refused}) but changed {changed}"
    await check_invariants(world.h)
    privately = sent_to(made, user) if user is not None and user != chat else []
    return Outcome(sent_to(made, chat), refused, changed, str(description), privately)


# Each query names the rows that break one invariant (SQL both stores accept).
ORPHANS = {
    "topic without a post": "SELECT id FROM topics WHERE id NOT IN (SELECT topic_id FROM "
    "topic_posts)",
    "open topic without its close timer": "SELECT id FROM topics WHERE status = 'open' AND "
    "CAST(id AS TEXT) NOT IN (SELECT ref FROM timers WHERE kind = 'topic.close')",
    "meeting without an occurrence": "SELECT id FROM meetings WHERE id NOT IN (SELECT "
    "meeting_id FROM meeting_occurrences)",
    "registration without a household": "SELECT id FROM registrations WHERE household_id "
    "NOT IN (SELECT id FROM households)",
    "secret ballot naming its voter": "SELECT b.topic_id FROM ballots b JOIN topics t ON "
    "t.id = b.topic_id WHERE t.secret AND (b.user_id IS NOT NULL OR b.household_id IS NOT "
    "NULL OR b.voter_key LIKE 'u:%' OR b.voter_key LIKE 'h:%')",
    "closed secret topic keeping its salt": "SELECT id FROM topics WHERE status != 'open' "
    "AND ballot_salt IS NOT NULL",
}
# JSON differs between the stores (json_extract, ->>): SQLAlchemy writes it for each.
_PUBLISHED = (
    select(audit_log.c.details["topic_id"].as_integer())
    .where(audit_log.c.action == "topic.published")
    .where(audit_log.c.details["topic_id"].as_integer().is_not(None))
)
UNAUDITED = select(topics.c.id).where(topics.c.id.not_in(_PUBLISHED))


async def check_invariants(h: Harness) -> None:
    """No half-created state, whatever was accepted."""
    queries: dict[str, Any] = {what: text(sql) for what, sql in ORPHANS.items()}
    queries["topic without its audit row"] = UNAUDITED
    found = {what: rows for what, query in queries.items() if (rows := await read(h, query))}
    assert found == {}, f"half-created or leaking state: {found}"
