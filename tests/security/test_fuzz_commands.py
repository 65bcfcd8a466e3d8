"""Hostile command lines through the running bot (hypothesis): every command of
``handlers.COMMAND_CALLBACKS`` (and /export) with random arguments — unicode, RTL and
zero-width marks, 10,000-character text, SQL and HTML/Markdown metacharacters — by random
members of random chats.

For each one: the bot answers (unless the command was addressed to another bot), no handler
fails (an ERROR log fails the test), Telegram accepts everything the bot sends (the emulator
refuses bad HTML, over-long text and bad buttons as Telegram does), a refused command changes
no row, and no half-created state appears (see ``fuzz_world.check_invariants``).

Each property runs on SQLite and, with fewer examples, on PostgreSQL (``on_each_store``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack

import pytest
from hypothesis import strategies as st

from channels.telegram.handlers import COMMAND_CALLBACKS
from tests.auxil.harness import Harness
from tests.auxil.world import BUILDING_CHAT, BUILDING_HEAD, GRID_WORKER, RESIDENT
from tests.security.fuzz_world import (
    PRIVATE_USERS,
    WRITERS,
    FuzzWorld,
    attempt,
    build,
    on_each_store,
)

COMMANDS = sorted({*COMMAND_CALLBACKS, "export"})

NASTY = [
    "'; DROP TABLE topics; --",
    '" OR 1=1 --',
    "%s %d %(x)s {0} {}",
    "\\",
    "<b>",
    "</b>",
    "<a href='javascript:alert(1)'>x</a>",
    "<script>alert(1)</script>",
    "&",
    "&amp;",
    "&#0;",
    "<",
    ">",
    "*bold* _it_ [x](http://e.x) `code` ~~s~~ ||spoiler||",
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",  # byte order mark
    "\x01\x7f",
    "👨‍👩‍👧‍👦",
    "#1",
    "＃2",
    "1",
    "2",
    "0",
    "-1",
    "99999999999999999999",
    "1e9",
    "NaN",
    "=",
    "期限=2h",
    "deadline=30m",
    "期限=0m",
    "选项=甲,乙",
    "options=,",
    "规则=278",
    "rule=2/3",
    "匿名=yes",
    "scope=all",
    "隐藏结果=yes",
    "法定人数=150%",
    "category=nope",
    "2026-12-15 19:00",
    "1970-01-01 00:00",
    "每月15日 19:00",
    "monthly first-wed 19:00",
    "weekly fri 19:30",
    "提醒=1m",
    "2-502",
    "89.5",
    "-5",
    "方式=纸质",
    "channel=video",
    "同意",
    "building_head",
    "community_admin",
    "zh",
    "en",
    "办结",
    "5d",
    "node=1",
    "user=5",
    "\n",
    "\n\n第二行\n第三行",
]

token = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=12),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
)
ordinary_args = st.lists(token, max_size=8).map(" ".join)
huge_args = st.tuples(st.sampled_from(["x", "议", "<", "&", "\u200f", "1 "]), token).map(
    lambda pair: pair[1] + " " + pair[0] * 10_000
)
arguments = st.one_of(st.just(""), ordinary_args, ordinary_args, huge_args)
suffix = st.sampled_from(["", "", "", "@yishi_bot", "@Yishi_Bot", "@other_bot"])

# (chat, user): a group and one of its members, or a private chat (chat id == user id).
where = st.one_of(
    st.sampled_from([(chat, user) for chat, users in WRITERS.items() for user in users]),
    st.sampled_from([(user, user) for user in PRIVATE_USERS]),
)


@pytest.fixture
async def world(both: Harness, caplog: pytest.LogCaptureFixture) -> AsyncIterator[FuzzWorld]:
    with ExitStack() as stack:
        yield await build(both, caplog, stack)


async def _hostile_command_lines(
    world: FuzzWorld,
    command: str,
    suffix: str,
    args: str,
    place: tuple[int, int],
    newline: bool,
) -> None:
    chat, user = place
    if command == "unbind" and chat != user:
        user = RESIDENT if chat == BUILDING_CHAT else user  # keep the world bound
        if chat != BUILDING_CHAT:
            return
    separator = "\n" if newline else " "
    text = f"/{command}{suffix}{separator}{args}" if args else f"/{command}{suffix}"
    outcome = await attempt(
        world, chat, lambda: world.h.emu.send_message(chat, user, text) and text[:200], user
    )
    if suffix == "@other_bot":
        assert outcome.answered == outcome.privately == [], f"{text[:80]!r} was for another bot"
    else:
        # A refusal in a group goes to its sender privately when they have started the bot.
        told = outcome.answered or (outcome.refused and outcome.privately)
        assert told, f"no answer to {text[:200]!r} from {user} in {chat}"


(
    test_hostile_command_lines_are_answered_safely,
    test_hostile_command_lines_are_answered_safely_on_postgresql,
) = on_each_store(
    command=st.sampled_from(COMMANDS),
    suffix=suffix,
    args=arguments,
    place=where,
    newline=st.booleans(),
)(_hostile_command_lines)


async def _hostile_topics_and_meetings(world: FuzzWorld, args: str, newline: bool) -> None:
    """The officer's /topic and /meeting parse the most syntax: fuzz them as the one who may
    use them, so the parsers (not only the permission check) meet the input."""
    separator = "\n" if newline else " "
    for command, user in (("topic", BUILDING_HEAD), ("meeting", GRID_WORKER)):
        text = f"/{command}{separator}{args}" if args else f"/{command}"
        if command == "meeting" and not args:
            continue  # the guided mode: covered by tests/e2e/test_meetings.py
        outcome = await attempt(
            world,
            BUILDING_CHAT,
            lambda text=text, user=user: (
                world.h.emu.send_message(BUILDING_CHAT, user, text) and text[:200]
            ),
            user,
        )
        told = outcome.answered or (outcome.refused and outcome.privately)
        assert told, f"no answer to {text[:200]!r}"


(
    test_hostile_topics_and_meetings_by_an_officer,
    test_hostile_topics_and_meetings_by_an_officer_on_postgresql,
) = on_each_store(args=arguments, newline=st.booleans())(_hostile_topics_and_meetings)
