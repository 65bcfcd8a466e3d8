"""Hostile button presses and malformed updates through the running bot (hypothesis).

- Random callback data (forged prefixes and fields, garbage, over 64 bytes) pressed on the
  bot's real messages (ballots, a registration card, a proposal card, a meeting) by random
  users: every press is answered once, nothing fails, a refused press changes nothing.
- Updates with optional fields missing (no sender, no text, no message on a callback, no
  data, an anonymous admin, a sticker, an edited command...), built from real updates:
  nothing fails, and nothing is answered that should not be.

Each property runs on SQLite and, with fewer examples, on PostgreSQL (``on_each_store``).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import Any

import pytest
from hypothesis import strategies as st

from emulators.telegram import CallbackRecord
from tests.auxil.harness import Harness
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_WORKER,
    NEIGHBOUR,
    OUTSIDER,
    RESIDENT,
    STAFF,
)
from tests.security.fuzz_world import FuzzWorld, attempt, build, on_each_store

PREFIXES = ["v", "rg", "pp", "e", "rt", "ma", "mw", "mc", "tw", "mz", "x", ""]
field_value = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.integers(min_value=0, max_value=5).map(str),
    st.sampled_from(["a", "d", "b", "c", "r", "y", "n", "o", "s", "k", "h", "l", "u", "1", ""]),
    st.text(max_size=8),
)
forged = st.tuples(st.sampled_from(PREFIXES), st.lists(field_value, max_size=4)).map(
    lambda pair: ":".join([pair[0], *pair[1]])
)
callback_data = st.one_of(forged, forged, st.text(max_size=80), st.binary(max_size=64).map(repr))
pressers = st.sampled_from([RESIDENT, NEIGHBOUR, BUILDING_HEAD, GRID_WORKER, STAFF, OUTSIDER])


@pytest.fixture
async def world(both: Harness, caplog: pytest.LogCaptureFixture) -> AsyncIterator[FuzzWorld]:
    with ExitStack() as stack:
        yield await build(both, caplog, stack)


async def _forged_presses(world: FuzzWorld, data: st.DataObject, callback: str, user: int) -> None:
    h = world.h
    message = data.draw(st.sampled_from(world.with_buttons()), label="message")
    queries: list[str] = []

    def press() -> str:
        queries.append(h.emu.press_callback(message.chat_id, message.message_id, user, callback))
        return f"{callback!r} on {message.summary()[:60]} by {user}"

    await attempt(world, message.chat_id, press)
    record = h.emu.world.callbacks[queries[0]]
    assert record.answer is not None, f"the press {callback!r} was not answered"
    answers = [
        call
        for call in h.emu.calls_of("answerCallbackQuery")
        if call.params.get("callback_query_id") == queries[0]
    ]
    assert len(answers) == 1, f"the press {callback!r} was answered {len(answers)} times"


(
    test_forged_button_presses_are_answered_and_change_nothing_when_refused,
    test_forged_button_presses_are_answered_and_change_nothing_when_refused_on_postgresql,
) = on_each_store(data=st.data(), callback=callback_data, user=pressers)(_forged_presses)


def _command_message(h: Harness, text: str) -> dict[str, Any]:
    sent = h.emu.send_message(BUILDING_CHAT, RESIDENT, text)
    return h.emu.world.message_json(sent)


LINES = [
    "/topics",
    "/help",
    "/register 3-301 80",
    "/propose 修路",
    "/opinion 1 同意修路",
    "/result 1",
    "/meetings",
    "/lang en",
    "/roles",
    "/start",
]


# Paths of optional fields an update may lack, per kind (Telegram's required ones stay).
OPTIONAL = {
    "message": [
        ("from",),
        ("text",),
        ("entities",),
        ("chat", "title"),
        ("from", "language_code"),
        ("reply_to_message",),
    ],
    "callback_query": [("message",), ("data",), ("message", "from"), ("message", "text")],
}
EXTRAS: dict[str, list[dict[str, Any]]] = {
    "message": [
        {},
        {"sender_chat": {"id": BUILDING_CHAT, "type": "supergroup", "title": "1号楼议事群"}},
        {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "u",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        },
        {
            "from": {
                "id": 1087968824,
                "is_bot": True,
                "first_name": "Group",
                "username": "GroupAnonymousBot",
            }
        },
        {"from": {"id": 777001, "is_bot": False, "first_name": "\u202e新人"}},
        {"text": "/help@yishi_bot \u200f\u200b", "entities": []},
        {"entities": []},
    ],
    "callback_query": [{}, {"inline_message_id": "AgAAAAAA"}, {"game_short_name": "g"}],
}


def _drop(update: dict[str, Any], path: tuple[str, ...]) -> None:
    node = update
    for key in path[:-1]:
        node = node.get(key, {})
    node.pop(path[-1], None)


async def _missing_fields(
    world: FuzzWorld, kind: str, dropped: list[int], extra: int, line: str
) -> None:
    h = world.h
    ballot = world.ballots[0]
    if kind == "callback_query":
        query_id = f"forged-{world.examples}"
        h.emu.world.callbacks[query_id] = CallbackRecord(
            query_id, BUILDING_CHAT, ballot.message_id, RESIDENT, "v:1:0", 0.0
        )
        body: dict[str, Any] = {
            "id": query_id,
            "from": h.emu.world.user_json(RESIDENT),
            "message": h.emu.world.message_json(h.emu.message(BUILDING_CHAT, ballot.message_id)),
            "chat_instance": "1",
            "data": "v:1:0",
        }
        paths = OPTIONAL["callback_query"]
    else:
        body = _command_message(h, line)
        h.emu.world.updates.pending.pop()  # the plain command is not sent; its mutation is
        if kind == "edited_message":
            body["edit_date"] = body["date"] + 1
        paths = OPTIONAL["message"]
    body = copy.deepcopy(body)
    for index in dropped:
        _drop(body, paths[index % len(paths)])
    extras = EXTRAS["callback_query" if kind == "callback_query" else "message"]
    body.update(extras[extra % len(extras)])

    outcome = await attempt(
        world, BUILDING_CHAT, lambda: h.emu.inject_update({kind: body}) and f"{kind}: {body}"
    )
    if kind == "callback_query":
        assert h.emu.world.callbacks[body["id"]].answer is not None, "a press went unanswered"
    elif kind == "edited_message" or "from" not in body:
        assert outcome.answered == [], f"answered {kind} without a sender or edited: {body}"


(
    test_updates_with_missing_fields_fail_nothing,
    test_updates_with_missing_fields_fail_nothing_on_postgresql,
) = on_each_store(
    kind=st.sampled_from(["message", "edited_message", "callback_query"]),
    dropped=st.lists(st.integers(min_value=0, max_value=5), max_size=3, unique=True),
    extra=st.integers(min_value=0, max_value=6),
    line=st.sampled_from(LINES),
)(_missing_fields)
