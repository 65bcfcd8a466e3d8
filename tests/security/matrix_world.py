"""The world of the permission matrix, built once through the bot, then restored from a copy
after every case that changed it.

The world is built on SQLite or on PostgreSQL (the matrix runs on each); only taking and
restoring the snapshot differs between the two.

Two communities. 幸福社区 (A): grids A1 (buildings A1a, A1b) and A2 (building A2a). 和谐社区 (C):
grid C1 (building C1a). One user per role, each holding it at one node of A; a resident of
A1a; the Telegram administrator of every group (no role); a super-admin. Every bound chat
has the things its commands and buttons act on: an open topic, a passed one, a household
topic, an escalated and a resolved matter, meetings, a proposal, registrations.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.services.organisation.permissions import Rank
from storage.tables import metadata
from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.world import code_in
from tests.security.support import execute, sqlite_path, store

SA, SC = -1001001, -1002001  # community staff groups
GA1, GA2, GC1 = -1001011, -1001012, -1002011
BA1A, BA1B, BA2A, BC1A = -1001021, -1001022, -1001023, -1002021
UNBOUND = -1003001
BOUND = (SA, GA1, GA2, BA1A, BA1B, BA2A, SC, GC1, BC1A)
GROUPS = (*BOUND, UNBOUND)

SU = SUPERADMIN
CA, CS, GH, GW, BH, BO, RESIDENT, ADMIN = 20, 21, 22, 23, 24, 25, 26, 27
TARGET = 40  # a user without a role: whom /role is given to
REGISTRANT, APPLICANT = 41, 42  # an approved and a pending registration in every building
HOLDERS = {chat: 50 + index for index, chat in enumerate(BOUND)}  # hold a role /unrole takes

LEVEL = {
    SA: "community",
    SC: "community",
    GA1: "grid",
    GA2: "grid",
    GC1: "grid",
    BA1A: "building",
    BA1B: "building",
    BA2A: "building",
    BC1A: "building",
    UNBOUND: "unbound",
}
PARENT = {GA1: SA, GA2: SA, GC1: SC, BA1A: GA1, BA1B: GA1, BA2A: GA2, BC1A: GC1}
NAMES = {
    SA: "幸福社区",
    SC: "和谐社区",
    GA1: "网格A1",
    GA2: "网格A2",
    GC1: "网格C1",
    BA1A: "楼A1a",
    BA1B: "楼A1b",
    BA2A: "楼A2a",
    BC1A: "楼C1a",
    UNBOUND: "新群",
}
# Who holds which role where (all in community A).
ROLES = {
    CA: ("community_admin", SA),
    CS: ("community_staff", SA),
    GH: ("grid_head", GA1),
    GW: ("grid_worker", GA1),
    BH: ("building_head", BA1A),
    BO: ("building_officer", BA1A),
}
LOWEST_ROLE = {
    "community": "community_staff",
    "grid": "grid_worker",
    "building": "building_officer",
}
ACTORS = {
    "resident": RESIDENT,
    "building_officer": BO,
    "building_head": BH,
    "grid_worker": GW,
    "grid_head": GH,
    "community_staff": CS,
    "community_admin": CA,
    "super_admin": SU,
    "group_admin": ADMIN,
}
HOME = {RESIDENT: BA1A, BO: BA1A, BH: BA1A, ADMIN: BA1A, GW: GA1, GH: GA1, CS: SA, CA: SA, SU: SA}


def ancestry(chat: int) -> list[int]:
    chain = [chat]
    while chain[-1] in PARENT:
        chain.append(PARENT[chain[-1]])
    return chain


def rank_at(user: int, chat: int) -> Rank:
    """The rank the rules of PRODUCT.md give ``user`` in ``chat`` (computed here, not asked)."""
    if user == SU:
        return Rank.SUPERADMIN
    held = ROLES.get(user)
    if held is None or chat not in LEVEL or held[1] not in ancestry(chat):
        return Rank.RESIDENT
    return Rank.of_role(held[0])


def places(user: int) -> dict[str, int]:
    """Where ``user`` acts, relative to the node of their role (their building, if none).

    A group not bound yet refuses everything but /setup, /bind, /lang, /start and /help,
    whatever the rank: it is tried with the lowest and the highest ranks and the group's
    Telegram admin. The group admin's rank is a resident's: tried where adminship matters.
    """
    home = HOME[user]
    level = LEVEL[home]
    chosen = {"own": home}
    if level == "building":
        chosen |= {"ancestor:grid": GA1, "ancestor:community": SA}
        if user != ADMIN:
            chosen |= {"sibling": BA1B, "another community": BC1A}
    elif level == "grid":
        chosen |= {"descendant": BA1A, "ancestor": SA, "sibling": GA2, "another community": GC1}
    else:
        chosen |= {"descendant:grid": GA1, "descendant:building": BA1A, "another community": SC}
    chosen["private"] = user
    if user in (RESIDENT, ADMIN, SU):
        chosen["unbound group"] = UNBOUND
    return chosen


@dataclass
class Objects:
    """What a chat's commands and buttons act on (ids in the database)."""

    topic: int = 0  # open
    passed: int = 0  # closed, passed, not escalated
    household: int = 0  # open, one ballot per household (buildings)
    escalated: int = 0  # a matter waiting for this chat's node (or, in a building, its grid)
    resolved: int = 0  # a matter resolved there, not yet done
    held: int = 0  # a one-off meeting held an hour ago
    meeting: int = 0  # a one-off meeting to come
    occurrence: int = 0
    series: int = 0  # recurring, with a "cancel which?" question waiting
    series_occurrence: int = 0
    proposal: int = 0
    registration: int = 0  # pending (buildings)
    card: int = 0  # the escalation id of the card in this chat (grids, communities)


# What the emulator shows of a message, put back with the database so the two agree.
SHOWN = ("text", "caption", "entities", "reply_markup", "edit_date", "deleted")


@dataclass
class MatrixWorld:
    h: Harness
    snapshot: Path  # SQLite: a copy of the file; PostgreSQL: a schema in the same database
    code: str = ""
    objects: dict[int, Objects] = field(default_factory=dict)
    shown: dict[tuple[int, int], tuple[Any, ...]] = field(default_factory=dict)
    restores: int = 0

    async def take_snapshot(self) -> None:
        if store(self.h) == "sqlite":
            _sqlite_copy(sqlite_path(self.h), self.snapshot)
        else:
            await _postgres_snapshot(self.h)
        self.shown = {
            (chat, message_id): tuple(getattr(message, name) for name in SHOWN)
            for chat, messages in self.h.emu.world.messages.items()
            for message_id, message in messages.items()
        }

    async def restore(self) -> None:
        """Put the database back as it was when the world was built (the bot keeps running:
        it is written in one transaction), and the messages as Telegram showed them then."""
        for (chat, message_id), shown in self.shown.items():
            message = self.h.emu.world.messages[chat][message_id]
            for name, value in zip(SHOWN, shown, strict=True):
                setattr(message, name, value)
        if store(self.h) == "sqlite":
            _sqlite_copy(self.snapshot, sqlite_path(self.h))  # the backup API: one transaction
        else:
            await execute(self.h, text(f"SELECT {SNAPSHOT}.restore()"))
        self.restores += 1


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(target_path, timeout=10)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


SNAPSHOT = "matrix_snapshot"
# The bot's heartbeat renews its lease row all along: not part of the world, left as it is.
NOT_RESTORED = frozenset({"instance_lease"})


async def _postgres_snapshot(h: Harness) -> None:
    """Copy every table into a schema of its own, and write a function that puts the rows back
    in one transaction: those added since deleted (children first), those deleted or changed
    put back (parents first), the id sequences reset. Only rows that differ are written, so a
    restore costs little (a whole-row text comparison finds them, JSON columns included)."""
    tables = [t for t in metadata.sorted_tables if t.name not in NOT_RESTORED]
    await execute(h, text(f"DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE"))
    await execute(h, text(f"CREATE SCHEMA {SNAPSHOT}"))
    body = []
    for table in tables:
        name, copy = f'"{table.name}"', f'{SNAPSHOT}."{table.name}"'
        await execute(h, text(f"CREATE TABLE {copy} AS TABLE {name}"))
        key = ", ".join(f'"{column.name}"' for column in table.primary_key.columns)
        body.insert(0, f"DELETE FROM {name} WHERE ({key}) NOT IN (SELECT {key} FROM {copy});")
        changes = ", ".join(
            f'"{column.name}" = EXCLUDED."{column.name}"'
            for column in table.columns
            if not column.primary_key
        )
        body.append(
            f"INSERT INTO {name} SELECT * FROM {copy} s WHERE s::text NOT IN (SELECT l::text "
            f"FROM {name} l) ON CONFLICT ({key}) "
            + (f"DO UPDATE SET {changes};" if changes else "DO NOTHING;")
        )
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        found = await execute(
            h, text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
        )
        sequence = found[0][0]
        value, called = (await execute(h, text(f"SELECT last_value, is_called FROM {sequence}")))[0]
        body.append(f"PERFORM setval('{sequence}', {value}, {called});")
    await execute(
        h,
        text(
            f"CREATE FUNCTION {SNAPSHOT}.restore() RETURNS void LANGUAGE plpgsql AS "
            f"$$ BEGIN {' '.join(body)} END $$"
        ),
    )


def _users(h: Harness) -> list[int]:
    named = {SU: "王主任", CA: "社区书记", CS: "李社工", GH: "网格长", GW: "张网格"}
    named |= {BH: "赵楼长", BO: "卫生员", RESIDENT: "钱阿姨", ADMIN: "群主", TARGET: "新志愿者"}
    named |= {REGISTRANT: "孙大爷", APPLICANT: "周阿姨"}
    named |= {user: f"干部{index}" for index, user in enumerate(HOLDERS.values())}
    for user, name in named.items():
        h.user(user, name)
    return list(named)


async def _topic(h: Harness, chat: int, text: str) -> int:
    sent = h.emu.send_message(chat, SU, f"/topic {text}")
    ballot = await h.emu.wait_for_bot_message(
        chat, after=sent.message_id, predicate=lambda m: (m.text or "").startswith("📋 #")
    )
    assert ballot.text
    return int(ballot.text.split()[1].lstrip("#"))


async def build(h: Harness, tmp: Path) -> MatrixWorld:
    everyone = _users(h)
    for chat in GROUPS:
        await h.group(chat, NAMES[chat] + "群", members=everyone, admins=[ADMIN])
    for user in everyone:
        h.emu.send_message(SA, user, "大家好")  # the bot knows everyone (targets of /role)
        if user in HOME:
            await h.say(user, user, "/start")
    for community in (SA, SC):
        await h.say(community, SU, f"/setup {NAMES[community]}")
    for chat, parent in PARENT.items():
        command = "/newgrid" if LEVEL[chat] == "grid" else "/newbuilding"
        issued = await h.say(parent, SU, f"{command} {NAMES[chat]}")
        await h.say(chat, ADMIN, f"/bind {code_in(issued.text)}")
    for user, (role, chat) in ROLES.items():
        await h.say(chat, SU, f"/role {user} {role}")
    for chat, holder in HOLDERS.items():
        await h.say(chat, SU, f"/role {holder} {LOWEST_ROLE[LEVEL[chat]]}")
    world = MatrixWorld(h, tmp / "snapshot.db")
    world.code = code_in((await h.say(GA1, SU, "/newbuilding 新楼")).text)
    for chat in (SA, SC):
        await h.say(chat, SU, "/subscribe")
    for chat in BOUND:
        world.objects[chat] = await _objects(h, chat)
    # Matters held by grids and communities come from below; buildings hand theirs up.
    for chat in BOUND:
        below = next((child for child, parent in PARENT.items() if parent == chat), None)
        if LEVEL[chat] == "community":
            topic = await _topic(h, below, "网格待议")  # type: ignore[arg-type]
            await h.say(below, SU, f"/close {topic}")  # type: ignore[arg-type]
            done = await _topic(h, below, "网格已议")  # type: ignore[arg-type]
            await h.say(below, SU, f"/close {done}")  # type: ignore[arg-type]
            await h.say(chat, SU, f"/resolve {done} 社区协调解决")
            world.objects[chat].escalated, world.objects[chat].resolved = topic, done
    for chat in BOUND:
        if LEVEL[chat] == "grid":
            child = next(c for c, parent in PARENT.items() if parent == chat)
            world.objects[chat].escalated = world.objects[child].escalated
            world.objects[chat].resolved = world.objects[child].resolved
    await h.pass_time(timedelta(hours=2))  # the one-off meeting has been held: minutes
    await _read_ids(world)
    for chat, found in world.objects.items():  # a "cancel which?" question waits in each
        await h.say(chat, SU, f"/cancelmeeting {found.series}")
    await h.settle()
    await world.take_snapshot()
    return world


async def _objects(h: Harness, chat: int) -> Objects:
    found = Objects()
    found.topic = await _topic(h, chat, "公共议题")
    found.passed = await _topic(h, chat, "已通过议题")
    vote = f"v:{found.passed}:0"
    ballot = next(m for m in h.emu.bot_messages(chat) if vote in str(m.reply_markup))
    await h.emu.wait_for_answer(h.emu.press_callback(chat, ballot.message_id, SU, vote))
    await h.say(chat, SU, f"/close {found.passed}")
    if LEVEL[chat] == "building":
        card = await h.say(chat, REGISTRANT, "/register 1-101 90")  # the card, posted
        await h.press(chat, card.message_id, SU, "✅ 1-101 通过")
        h.emu.send_message(chat, APPLICANT, "/register 1-102 80")  # the card, edited
        await h.settle()
        found.household = await _topic(h, chat, "户议题 按户=yes")
        found.escalated = await _topic(h, chat, "楼栋待议")
        await h.say(chat, SU, f"/close {found.escalated}")
        found.resolved = await _topic(h, chat, "楼栋已议")
        await h.say(chat, SU, f"/close {found.resolved}")
        await h.say(PARENT[chat], SU, f"/resolve {found.resolved} 网格协调解决")
    await h.say(chat, SU, "/meeting 2026-12-01 10:00 碰头会 提醒=10m")
    await h.say(chat, SU, "/meeting 2026-12-20 19:00 议事会")
    await h.say(chat, SU, "/meeting 每月15日 19:00 月度议事会")
    await h.say(chat, RESIDENT, "/propose 在车棚装充电桩")
    return found


async def _one(h: Harness, sql: str, **parameters: Any) -> Any:
    rows = await execute(h, text(sql), parameters)
    return rows[0] if rows else None


async def _read_ids(world: MatrixWorld) -> None:
    h = world.h
    for chat, found in world.objects.items():
        node = (await _one(h, "SELECT node_id FROM chat_bindings WHERE chat_id = :c", c=chat))[0]
        meetings = await execute(
            h,
            text(
                "SELECT m.id, m.repeat, o.id FROM meetings m JOIN meeting_occurrences o ON "
                "o.meeting_id = m.id WHERE m.node_id = :node ORDER BY m.id, o.id"
            ),
            {"node": node},
        )
        found.held = meetings[0][0]
        found.meeting, _, found.occurrence = meetings[1]
        found.series, _, found.series_occurrence = meetings[2]
        found.proposal = (await _one(h, "SELECT id FROM proposals WHERE chat_id = :c", c=chat))[0]
        pending = await _one(
            h, "SELECT id FROM registrations WHERE node_id = :n AND status = 'pending'", n=node
        )
        found.registration = pending[0] if pending else 0
        card = await _one(
            h, "SELECT id FROM escalations WHERE card_chat_id = :c AND state = 'open'", c=chat
        )
        found.card = card[0] if card else 0


def button_message(h: Harness, chat: int, data: str) -> int | None:
    """The bot's message in ``chat`` carrying a button with this callback data, if any."""
    for message in reversed(h.emu.bot_messages(chat)):
        for row in message.button_rows():
            if any(button.get("callback_data") == data for button in row):
                return message.message_id
    return None
