"""The permission matrix: every command and button × every role × every place.

``RULES`` below is the one table: for each command (and button), the lowest rank that may
use it in each kind of place (PRODUCT.md's rules, written down independently of the code).
It is generated into one test per (command or button, role); each test runs it in every place
of that role (own node, descendant, ancestor, sibling, another community, a private chat,
a group not bound yet). Allowed ones must work (no refusal, an answer, the database changed
where they change something); every other one must be refused with a reason, answered, and
change nothing (the whole database is compared, audit log included). After an allowed case
that changed something the database is restored from the snapshot taken when the world was
built, so every case starts from the same world.

The world is built twice, once on SQLite and once on PostgreSQL (a fresh database), and every
case runs on both.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio

from bot.services.organisation.permissions import Rank
from channels.telegram.command_menu import COMMANDS
from channels.telegram.handlers import COMMAND_CALLBACKS
from tests.auxil.harness import Harness
from tests.conftest import fresh_postgres_database
from tests.security import matrix_world as w
from tests.security.support import (
    Fingerprint,
    errors_logged_in,
    failed_sends,
    handled,
    last_update_id,
    recording_refusals,
    sent_to,
)

B, G, C, P, U = "building", "grid", "community", "private", "unbound"
R = Rank
BOUND = (B, G, C)
OFFICER = {B: R.BUILDING_OFFICER, G: R.GRID_WORKER, C: R.COMMUNITY_STAFF}
HOME_OFFICER = "an officer of the node the command names"  # private chats: /result 12, ...
# Private chats: /invite 2-502 is for the one building where the person holds a role.
OWN_BUILDING = "an officer holding a role at a building"
ANYONE = R.RESIDENT


@dataclass(frozen=True)
class Rule:
    line: str  # the command line, or "press <callback data>"; {placeholders} from Objects
    where: dict[str, Rank | str]  # kind of place -> lowest rank (absent: nobody)
    group_admin: frozenset[str] = frozenset()  # places where a Telegram group admin may too
    state: dict[str, str] = field(default_factory=dict)  # refused there even when permitted
    changes: bool = True  # an allowed use changes the database


def everywhere(rank: Rank | str) -> dict[str, Rank | str]:
    return dict.fromkeys((*BOUND, P, U), rank)


# fmt: off
RULES: dict[str, Rule] = {
    "start": Rule("/start", everywhere(ANYONE), changes=False),
    "help": Rule("/help", everywhere(ANYONE), changes=False),
    "lang": Rule("/lang en", {**OFFICER, P: ANYONE, U: R.SUPERADMIN},
                 group_admin=frozenset({*BOUND, U})),
    "link": Rule("/link", {P: ANYONE}),  # a one-time code for the other platform
    "web": Rule("/web", {P: ANYONE}),  # a one-time sign-in link for the web pages
    "setup": Rule("/setup 新社区", {U: R.SUPERADMIN}),
    "newgrid": Rule("/newgrid 新网格", {C: R.COMMUNITY_STAFF}),
    "newbuilding": Rule("/newbuilding 新楼栋", {G: R.GRID_WORKER}),
    "bind": Rule("/bind {code}", {U: R.SUPERADMIN}, group_admin=frozenset({U})),
    "unbind": Rule("/unbind", {B: R.GRID_WORKER, G: R.COMMUNITY_STAFF, C: R.SUPERADMIN}),
    "role": Rule("/role {target} {lowest_role}",
                 {B: R.BUILDING_HEAD, G: R.GRID_HEAD, C: R.COMMUNITY_ADMIN}),
    "unrole": Rule("/unrole {holder}", {B: R.BUILDING_HEAD, G: R.GRID_HEAD, C: R.COMMUNITY_ADMIN}),
    "roles": Rule("/roles", dict.fromkeys(BOUND, ANYONE), changes=False),
    "register": Rule("/register 9-909 70", {B: ANYONE}),
    "members": Rule("/members", {B: R.BUILDING_OFFICER}, changes=False),
    "topic": Rule("/topic 新议题", OFFICER),
    "topics": Rule("/topics", dict.fromkeys(BOUND, ANYONE), changes=False),
    "close": Rule("/close {topic}", OFFICER),
    "extend": Rule("/extend {topic} 1d", OFFICER),
    "cancel": Rule("/cancel {topic}", OFFICER),
    "nudge": Rule("/nudge {topic}", OFFICER),
    "result": Rule("/result {topic}", {**dict.fromkeys(BOUND, ANYONE), P: HOME_OFFICER},
                   changes=False),
    "export": Rule("/export {topic}", {**OFFICER, P: HOME_OFFICER}, changes=False),
    "opinion": Rule("/opinion {topic} 我同意", {**dict.fromkeys(BOUND, ANYONE), P: ANYONE}),
    "ballot": Rule("/ballot {household} 1-101 同意", {B: R.BUILDING_OFFICER}),
    "propose": Rule("/propose 修缮车棚", dict.fromkeys(BOUND, ANYONE)),
    # A community is the top here: permitted officers are told there is nowhere to go.
    "escalate": Rule("/escalate {passed} 需要上级协调", OFFICER,
                     state={C: "escalation.at_the_top"}),
    # A building's matter is held by its grid once escalated: the grid's officers act on it.
    "resolve": Rule("/resolve {escalated} 决定维修", {**OFFICER, B: R.GRID_WORKER}),
    "progress": Rule("/progress {resolved} 已开工", {**OFFICER, B: R.GRID_WORKER}),
    "sla": Rule("/sla 5d", {C: R.COMMUNITY_STAFF}),
    "meeting": Rule("/meeting 2026-12-25 19:00 新会议", OFFICER),
    "meetings": Rule("/meetings", dict.fromkeys(BOUND, ANYONE), changes=False),
    "cancelmeeting": Rule("/cancelmeeting {meeting}", OFFICER),
    "agenda": Rule("/agenda {meeting} 讨论停车", OFFICER),
    "minutes": Rule("/minutes {held} 会议纪要", OFFICER),
    "stats": Rule("/stats", OFFICER, changes=False),
    "audit": Rule("/audit", {C: R.COMMUNITY_ADMIN, P: R.COMMUNITY_ADMIN}, changes=False),
    "subscribe": Rule("/subscribe", {C: R.COMMUNITY_STAFF}, changes=False),  # already is
    "unsubscribe": Rule("/unsubscribe", {C: R.COMMUNITY_STAFF}),
    "digest": Rule("/digest", {C: R.COMMUNITY_STAFF}, changes=False),
    # The page's link and QR code (web on in this world): as /export, officers of its node.
    "share": Rule("/share {topic}", {**OFFICER, P: HOME_OFFICER}, changes=False),
    # The community's public record page (web on in this world): its staff, in its group.
    "publish": Rule("/publish on", {C: R.COMMUNITY_STAFF}),
    "invite": Rule("/invite 9-909", {B: R.BUILDING_OFFICER, P: OWN_BUILDING}),
    # No invitation of 9-909 to end: whoever may revoke is told that, the others why not.
    "revoke": Rule("/revoke 9-909", {B: R.BUILDING_OFFICER, P: OWN_BUILDING},
                   state={B: "invitations.nothing_to_revoke", P: "invitations.nothing_to_revoke"}),
}
BUTTONS: dict[str, Rule] = {
    "vote": Rule("press v:{topic}:0", dict.fromkeys(BOUND, ANYONE)),
    "approve registration": Rule("press rg:{registration}:1", {B: R.BUILDING_OFFICER}),
    "accept proposal": Rule("press pp:{proposal}:c:0", OFFICER),
    "decline proposal": Rule("press pp:{proposal}:r:0", OFFICER),
    "take on escalation": Rule("press e:{card}:a", {G: R.GRID_WORKER, C: R.COMMUNITY_STAFF}),
    "rate resolution": Rule("press rt:{resolved}:0", {B: ANYONE}),
    "attend meeting": Rule("press ma:{occurrence}:y", dict.fromkeys(BOUND, ANYONE)),
    "who attends": Rule("press mw:{occurrence}", OFFICER, changes=False),
    "cancel one occurrence": Rule("press mc:{series}:{series_occurrence}:o", OFFICER),
}
# fmt: on
# Where /help (channels/telegram/command_menu.COMMANDS) offers a command though it cannot work
# there.
HELP_OFFERS_MORE = {
    ("lang", B): "any member is offered /lang; group admins and officers may use it",
    ("lang", G): "as above",
    ("lang", C): "as above",
    ("lang", U): "as above",
    ("bind", U): "any member is offered /bind; only group admins may use it",
    ("result", P): "offered to all privately; only officers of the topic's node may",
    ("invite", P): "offered to officers privately; those above a building are sent to its group",
    ("revoke", P): "as above",
}


@dataclass
class Matrix:
    world: w.MatrixWorld
    fingerprint: Fingerprint
    refusals: list[str]
    records: list[logging.LogRecord]
    pristine: dict[str, Any] = field(default_factory=dict)  # the database as built
    now: dict[str, Any] = field(default_factory=dict)  # as it is (read after every case)


class _Keep(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest_asyncio.fixture(loop_scope="module", scope="module", params=["sqlite", "postgresql"])
async def matrix(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Matrix]:
    tmp = tmp_path_factory.mktemp("matrix")
    records: list[logging.LogRecord] = []
    keep = _Keep(records)
    logging.getLogger().addHandler(keep)
    try:
        async with AsyncExitStack() as stack:
            url = None
            if request.param == "postgresql":
                url = await stack.enter_async_context(fresh_postgres_database())
            # The web pages' address, for /web's links (the pages themselves: tests/e2e_web).
            web = {"YISHI_PUBLIC_URL": "https://yishi.example.org"}
            h = Harness(tmp, database_url=url, settings=web)
            await h.start()
            stack.push_async_callback(h.stop)
            world = await w.build(h, tmp)
            refusals = stack.enter_context(recording_refusals())
            fingerprint = Fingerprint(h)
            await fingerprint.check_schema()
            pristine = await fingerprint.tables()
            yield Matrix(world, fingerprint, refusals.keys, records, pristine, pristine)
    finally:
        logging.getLogger().removeHandler(keep)
    assert errors_logged_in(records, 0) == [], "the bot logged errors while the matrix ran"


def test_the_table_covers_every_command_and_agrees_with_help() -> None:
    assert set(RULES) == {*COMMAND_CALLBACKS, "export"}
    disagreements = []
    for spec in COMMANDS:
        rule = RULES[spec.name]
        for place in (*BOUND, P, U):
            for rank in Rank:
                offered = spec.allowed(place, rank)
                need = rule.where.get(place)
                if need in (HOME_OFFICER, OWN_BUILDING):
                    need = R.BUILDING_OFFICER
                works = need is not None and rank >= need
                if offered != works and (spec.name, place) not in HELP_OFFERS_MORE:
                    disagreements.append((spec.name, place, rank.name, offered, works))
    assert disagreements == [], "/help and the rules disagree (command, place, rank, help, rule)"


def _permitted(rule: Rule, user: int, chat: int) -> bool:
    kind = P if chat == user else w.LEVEL[chat]
    need = rule.where.get(kind)
    rank = w.rank_at(user, w.HOME[user] if kind == P else chat)
    if need == HOME_OFFICER:
        need = OFFICER[w.LEVEL[w.HOME[user]]]
    if need == OWN_BUILDING:
        held = w.ROLES.get(user)
        need = R.BUILDING_OFFICER if held and w.LEVEL[held[1]] == B else None
    allowed = need is not None and rank >= need  # type: ignore[operator]
    return allowed or (user == w.ADMIN and kind in rule.group_admin)


def _line(rule: Rule, world: w.MatrixWorld, user: int, chat: int) -> str:
    """The line filled in with the objects of this chat (in a private chat or an unbound
    group: of the user's own node)."""
    node_chat = chat if chat in world.objects else w.HOME[user]
    level = w.LEVEL[node_chat]
    values = vars(world.objects[node_chat]) | {
        "code": world.code,
        "target": w.TARGET,
        "holder": w.HOLDERS[node_chat],
        "lowest_role": w.LOWEST_ROLE[level],
    }
    return rule.line.format(**values)


async def _run(m: Matrix, name: str, rule: Rule, user: int, place: str, chat: int) -> str | None:
    """One case; returns what was wrong with it, or None."""
    h, world = m.world.h, m.world
    line = _line(rule, world, user, chat)
    message_id = None
    if line.startswith("press "):
        if chat == user or chat == w.UNBOUND:
            return None  # no such message in a private chat or an unbound group
        data = line.removeprefix("press ")
        message_id = w.button_message(h, chat, data)
        if message_id is None or data.split(":")[1] == "0":
            return None  # this kind of chat has no such button
    before = m.now
    calls, refused_before, logs = len(h.emu.calls), len(m.refusals), len(m.records)
    if message_id is None:
        h.emu.send_message(chat, user, line)
    else:
        query = h.emu.press_callback(chat, message_id, user, line.removeprefix("press "))
    await handled(h, last_update_id(h))
    assert h.app is not None
    await h.app.bot_data.runtime.settle()
    made = h.emu.calls[calls:]
    refused = m.refusals[refused_before:]
    m.now = await m.fingerprint.tables()
    changed = m.fingerprint.diff(before, m.now)
    answer = h.emu.world.callbacks[query].answer if message_id is not None else None
    # A command is answered in its chat, or (a refusal, to whoever started the bot) privately.
    answered = (
        bool(sent_to(made, chat) or sent_to(made, user))
        if message_id is None
        else answer is not None
    )
    permitted = _permitted(rule, user, chat)
    kind = P if chat == user else w.LEVEL[chat]
    problems = []
    if failed_sends(made) or errors_logged_in(m.records, logs):
        problems.append(f"failed: {failed_sends(made)} {errors_logged_in(m.records, logs)}")
    if not answered:
        problems.append("not answered")
    if permitted and kind not in rule.state:
        if refused:
            problems.append(f"allowed but refused {refused}")
        elif rule.changes and not changed:
            problems.append("allowed but changed nothing")
    else:
        expected = rule.state.get(kind) if permitted else None
        if not refused or (expected and refused != [expected]):
            problems.append(f"should be refused ({expected or 'a reason'}), was {refused}")
        if answer is not None and not (answer.get("text") and answer.get("show_alert")):
            problems.append(f"refused without an alert saying why: {answer}")
        if changed:
            problems.append(f"refused but changed {sorted(changed)}")
    if changed:
        await world.restore()
        m.now = m.pristine
    verdict = "allowed" if permitted and kind not in rule.state else "refused"
    return f"{name} by {user} in {place} ({verdict}): {'; '.join(problems)}" if problems else None


def _cases() -> list[tuple[str, str]]:
    return [(name, role) for name in [*RULES, *BUTTONS] for role in w.ACTORS]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("name", "role"), _cases())
async def test_permission(matrix: Matrix, name: str, role: str) -> None:
    rule = RULES.get(name) or BUTTONS[name]
    user = w.ACTORS[role]
    problems = [
        problem
        for place, chat in w.places(user).items()
        if (problem := await _run(matrix, name, rule, user, place, chat)) is not None
    ]
    assert not problems, "\n".join(problems)
