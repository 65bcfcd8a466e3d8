"""More of flows 5–7: English, a restart across the SLA, other communities, long texts."""

from __future__ import annotations

from datetime import timedelta

from storage.tables import escalations, resolutions
from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.topics import publish, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    community,
    count,
    rows,
)


async def _tie(h: Harness, title: str, agree: str = "同意", against: str = "反对") -> int:
    ballot = await publish(h, f"{title} 期限=1h" if agree == "同意" else f"{title} deadline=1h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, agree)
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, against)
    await h.pass_time(timedelta(hours=1))
    return topic_id(ballot)


async def test_the_whole_chain_in_english(h: Harness) -> None:
    await community(h)
    for chat, officer in (
        (BUILDING_CHAT, BUILDING_HEAD),
        (GRID_CHAT, GRID_WORKER),
        (STAFF_CHAT, SUPERADMIN),
    ):
        await h.say(chat, officer, "/lang en")
    number = await _tie(h, "Parcel lockers", "Agree", "Against")
    told = [m for m in h.emu.bot_messages(BUILDING_CHAT) if "went up to the grid" in (m.text or "")]
    assert told and "(tie)" in (told[-1].text or "")
    card = next(m for m in h.emu.bot_messages(GRID_CHAT) if "Escalated #" in (m.text or ""))
    assert card.button_texts() == [
        "Take on",
        "Open a grid vote",
        "Resolve",
        "Send up to the community",
    ]
    await h.press(GRID_CHAT, card.message_id, GRID_WORKER, "Send up to the community")
    prompt = await h.emu.wait_for_bot_message(
        GRID_CHAT, predicate=lambda m: "Reply to this message" in (m.text or "")
    )
    h.emu.send_message(
        GRID_CHAT, GRID_WORKER, "Needs the community's budget", reply_to=prompt.message_id
    )
    await h.settle()
    staff_card = next(m for m in h.emu.bot_messages(STAFF_CHAT) if "Escalated #" in (m.text or ""))
    assert "Needs the community's budget" in (staff_card.text or "")
    await h.say(STAFF_CHAT, STAFF, "/subscribe")
    await h.press(STAFF_CHAT, staff_card.message_id, STAFF, "Resolve")
    prompt = await h.emu.wait_for_bot_message(
        STAFF_CHAT, predicate=lambda m: "decision" in (m.text or "")
    )
    h.emu.send_message(STAFF_CHAT, STAFF, "Lockers at the west gate", reply_to=prompt.message_id)
    await h.settle()
    for chat in (BUILDING_CHAT, GRID_CHAT, STAFF_CHAT):
        assert any("Lockers at the west gate" in (m.text or "") for m in h.emu.bot_messages(chat))
    decision = next(
        m for m in h.emu.bot_messages(BUILDING_CHAT) if "Lockers at the west gate" in (m.text or "")
    )
    answer = await h.press(BUILDING_CHAT, decision.message_id, RESIDENT, "Satisfied")
    assert answer["text"] == "Your rating is recorded: Satisfied"
    digest = await h.say(STAFF_CHAT, STAFF, "/digest")
    text = digest.text or ""
    assert f"#{number} Parcel lockers" in text and "Resolved (1)" in text
    assert "satisfied 1" in text


async def test_a_restart_between_the_sla_and_its_handling_escalates_once(h: Harness) -> None:
    await community(h)
    await _tie(h, "楼道堆物")
    await h.stop_bot()
    h.clock.advance(timedelta(days=3, hours=1))  # the SLA runs out while the bot is down
    await h.start_bot()
    await h.settle()
    assert await count(h, rows(escalations)) == 2
    staff_cards = [m for m in h.emu.bot_messages(STAFF_CHAT) if "⬆️ 上报" in (m.text or "")]
    assert len(staff_cards) == 1
    await h.restart()
    await h.pass_time(timedelta(days=1))
    assert await count(h, rows(escalations)) == 2
    assert len([m for m in h.emu.bot_messages(STAFF_CHAT) if "⬆️ 上报" in (m.text or "")]) == 1


async def test_matters_of_another_community_are_not_found(h: Harness) -> None:
    await community(h)
    number = await _tie(h, "楼道堆物")
    h.user(90, "外社区主任")
    await h.group(-9001, "另一个社区", admins=[SUPERADMIN], members=[90])
    await h.say(-9001, SUPERADMIN, "/setup 和谐社区")
    for command in (
        f"/resolve {number} 我们来决定",
        f"/escalate {number} 上报",
        f"/progress {number} 进展",
    ):
        reply = await h.say(-9001, SUPERADMIN, command)
        assert f"没有议题 #{number}" in (reply.text or ""), command
    assert await count(h, rows(resolutions)) == 0


async def test_a_decision_over_the_limit_is_refused_and_nothing_is_kept(h: Harness) -> None:
    await community(h)
    number = await _tie(h, "楼道堆物")
    reply = await h.say(GRID_CHAT, GRID_WORKER, f"/resolve {number} " + "很长" * 1100)
    assert "内容太长" in (reply.text or "")
    missing = await h.say(GRID_CHAT, GRID_WORKER, f"/resolve {number}")
    assert "请写下决定" in (missing.text or "")
    assert await count(h, rows(resolutions)) == 0
    not_escalated = await publish(h, "另一个议题 期限=1h")
    await h.press(BUILDING_CHAT, not_escalated.message_id, RESIDENT, "同意")
    await h.pass_time(timedelta(hours=1))
    refused = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/resolve {topic_id(not_escalated)} 好")
    assert "没有被上报过" in (refused.text or "")
