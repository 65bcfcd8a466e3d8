"""One update the Telegram library cannot parse does not stall polling.

python-telegram-bot parses a getUpdates batch as a whole: before channels/telegram/inbox.py's
PollingBot, one malformed update failed the whole batch, the offset never advanced and the same
batch was fetched again and again (thousands of times a second), none of it handled, with the raw
batch — who pressed which button of a secret ballot — logged at CRITICAL each time.
"""

from __future__ import annotations

import logging

import pytest

from tests.auxil.harness import Harness
from tests.auxil.topics import publish, tally
from tests.auxil.world import BUILDING_CHAT, BUILDING_HEAD, NEIGHBOUR, RESIDENT, community

SECRET_WORD = "口令7f3a"  # only in the malformed updates: must reach no log


def fetched_ids(h: Harness) -> list[list[int]]:
    """The update ids of each getUpdates answer."""
    return [
        [update["update_id"] for update in call.result or []]
        for call in h.emu.calls_of("getUpdates")
        if call.ok
    ]


async def test_an_unreadable_update_is_skipped_once_and_its_neighbours_handled(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # yishi caps the Telegram library's loggers at INFO
    for ours in ("bot", "channels", "emulators", "storage"):
        caplog.set_level(logging.DEBUG, logger=ours)
    await community(h)
    ballot = await publish(h, "是否更换物业 匿名=yes")
    await h.settle()
    caplog.clear()

    # One batch: a good press, a secret-ballot press missing a field the library requires,
    # a good command, and a message missing its chat and date (last in the batch).
    good_press = h.emu.press_button(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    bad_query = h.emu.press_button(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    bad_press = h.emu.world.updates.pending.pop()
    bad_data = bad_press["callback_query"]["data"]
    del bad_press["callback_query"]["chat_instance"]
    bad_press["callback_query"]["from"]["first_name"] = SECRET_WORD
    h.emu.inject_update(bad_press)
    command = h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, "/help")
    bad_message = h.emu.inject_update({"message": {"message_id": 10**6, "text": SECRET_WORD}})
    bad_ids = [bad_press["update_id"], bad_message["update_id"]]

    answer = await h.emu.wait_for_answer(good_press)
    assert answer["text"] == "已记录：同意"
    await h.emu.wait_for_bot_message(BUILDING_CHAT, after=command.message_id)
    await h.settle()

    assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id)) == {
        "同意": 1,
        "反对": 0,
        "弃权": 0,
    }
    assert h.emu.answer(bad_query) is None  # nothing of it was acted on
    batches = fetched_ids(h)
    holding = [batch for batch in batches if set(bad_ids) & set(batch)]
    assert len(holding) == 1, f"the malformed updates were fetched again: {batches}"
    assert holding[0] == sorted(holding[0]) and len(holding[0]) == 4  # all four together
    assert h.emu.confirmed_offset > max(bad_ids)  # confirmed: Telegram forgets them
    assert h.emu.pending_updates == 0

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"update {bad_ids[0]} could not be read (TypeError): skipped",
        f"update {bad_ids[1]} could not be read (KeyError): skipped",
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    logged = caplog.text
    assert SECRET_WORD not in logged and bad_data not in logged and bad_query not in logged

    # Polling goes on.
    later = await h.say(BUILDING_CHAT, RESIDENT, "/help")
    assert later.text
