"""The world the fuzz suites attack: a community with a topic, a secret topic, a meeting, a
registration and a proposal, and the (chat, user) pairs that can write in each chat."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from bot.emulator import EmuMessage
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
    recording_refusals,
    sent_to,
    sqlite_path,
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
        fingerprint=Fingerprint(sqlite_path(h)),
        refusals=stack.enter_context(recording_refusals()),
        ballots=[ballot, secret],
    )
    stack.callback(world.fingerprint.close)
    return world


@dataclass
class Outcome:
    answered: list[Any]
    refused: list[str]
    changed: dict[str, Any]
    text: str


async def attempt(world: FuzzWorld, chat: int, send: Any) -> Outcome:
    """Run one hostile input (``send`` enqueues it); check what must hold for every input."""
    h = world.h
    world.examples += 1
    before = world.fingerprint.tables()
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
    after = world.fingerprint.tables()
    changed = world.fingerprint.diff(before, after)
    if refused:
        assert changed == {}, f"{description!r} was refused ({refused}) but changed {changed}"
    check_invariants(world)
    return Outcome(sent_to(made, chat), refused, changed, str(description))


def check_invariants(world: FuzzWorld) -> None:
    """No half-created state, whatever was accepted."""
    tables = world.fingerprint.connection
    orphans = {
        "topic without a post": "SELECT id FROM topics WHERE id NOT IN (SELECT topic_id FROM "
        "topic_posts)",
        "open topic without its close timer": "SELECT id FROM topics WHERE status = 'open' AND "
        "CAST(id AS TEXT) NOT IN (SELECT ref FROM timers WHERE kind = 'topic.close')",
        "topic without its audit row": "SELECT id FROM topics WHERE id NOT IN (SELECT "
        "json_extract(details, '$.topic_id') FROM audit_log WHERE action = 'topic.published')",
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
    found = {
        what: rows for what, sql in orphans.items() if (rows := tables.execute(sql).fetchall())
    }
    assert found == {}, f"half-created or leaking state: {found}"
