"""The main flows again: in English, and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from storage.repositories.seen import seen_memo
from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.topics import publish, register_household, tally, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    NEIGHBOUR,
    OUTSIDER,
    RESIDENT,
    STAFF_CHAT,
    community,
)


async def test_a_building_vote_in_english(h: Harness) -> None:
    await community(h)
    await h.say(BUILDING_CHAT, BUILDING_HEAD, "/lang en")
    ballot = await publish(h, "E-bike chargers at the east gate deadline=2h\nTen chargers.")
    assert ballot.button_texts()[:3] == ["Agree", "Against", "Abstain"]
    assert "Deadline: 2026-12-01 11:00" in (ballot.text or "")
    answer = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "Agree")
    assert answer["text"] == "Recorded: Agree"
    refused = await h.say(BUILDING_CHAT, RESIDENT, f"/close {topic_id(ballot)}")
    assert "Only officers" in (refused.text or "")
    bad = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic Chargers colour=red")
    assert "colour" in (bad.text or "")
    await h.pass_time(timedelta(hours=2))
    closed = h.emu.message(BUILDING_CHAT, ballot.message_id)
    assert "🔒 Closed: passed" in (closed.text or "")
    assert tally(closed) == {"Agree": 1, "Against": 0, "Abstain": 0}
    outcome = h.last_bot_message(BUILDING_CHAT).text or ""
    assert "Outcome: passed" in outcome and "Turnout: 1 / 4" in outcome


async def test_set_up_registration_and_a_household_vote_on_postgresql(h_pg: Harness) -> None:
    h = h_pg
    await community(h)
    await register_household(h, "2-502", "89.5", user=RESIDENT)
    await register_household(h, "2-503", "76", user=NEIGHBOUR)
    ballot = await publish(h, "加装电梯 规则=278 期限=1d")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "同意")
    await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/nudge {topic_id(ballot)}")
    await h.restart()
    await h.pass_time(timedelta(days=1))
    outcome = h.last_bot_message(BUILDING_CHAT).text or ""
    assert "结果：通过" in outcome and "参与面积 100.0%" in outcome
    roles = await h.say(STAFF_CHAT, SUPERADMIN, "/roles")
    assert "李社工" in (roles.text or "")


async def test_a_press_in_a_group_the_bot_forgot_is_answered_in_its_language(h: Harness) -> None:
    """After a restart the bot has recorded no group lately: a vote learns the group's
    language beside its ballot, and its answer (or refusal) is in that language."""
    await community(h)
    await h.say(BUILDING_CHAT, BUILDING_HEAD, "/lang en")
    ballot = await publish(h, "A shed for bicycles deadline=2h")
    memo = seen_memo(h.services.database.engine.sync_engine)
    memo.locale_written()  # forgets every group and person, as a restart does
    answer = await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "Against")
    assert answer["text"] == "Recorded: Against"
    memo.locale_written()
    refused = await h.press(BUILDING_CHAT, ballot.message_id, OUTSIDER, "Agree")
    assert refused["text"] == "Only members of this group can vote."
    await h.settle()
    assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id)) == {
        "Agree": 0,
        "Against": 1,
        "Abstain": 0,
    }
