"""Household votes: one ballot per 户, Civil Code Art. 278 shares, offline ballots, nudges."""

from __future__ import annotations

from datetime import timedelta

from storage.tables import audit_log, ballots
from tests.auxil.harness import Harness
from tests.auxil.topics import publish, register_household, tally, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    NEIGHBOUR,
    OUTSIDER,
    RESIDENT,
    community,
    count,
    rows,
)


async def test_one_ballot_per_household_any_member_may_change_it(h: Harness) -> None:
    await community(h)
    await register_household(h, "2-502", "89.5", user=RESIDENT)
    await register_household(h, "2-502", "89.5", user=NEIGHBOUR)
    ballot = await publish(h, "加装电梯 按户=yes 期限=1d")
    assert "按户投票" in (ballot.text or "")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    changed = await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    assert changed["text"] == "已改为：反对"
    await h.settle()
    assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id)) == {
        "同意": 0,
        "反对": 1,
        "弃权": 0,
    }
    assert await count(h, rows(ballots)) == 1


async def test_unregistered_and_pending_residents_cannot_vote_by_household(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "加装电梯 按户=yes")
    answer = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    assert answer["show_alert"] and "/register" in answer["text"]
    await h.say(BUILDING_CHAT, NEIGHBOUR, "/register 3-301 70")
    pending = await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "同意")
    assert "等待审核" in pending["text"]
    assert await count(h, rows(ballots)) == 0


async def test_art_278_passes_with_two_thirds_participation_by_area_and_households(
    h: Harness,
) -> None:
    await community(h)
    await register_household(h, "1-101", "100", user=RESIDENT)
    await register_household(h, "1-102", "100", user=NEIGHBOUR)
    await register_household(h, "1-103", "50", user=BUILDING_HEAD, approver=BUILDING_HEAD)
    ballot = await publish(h, "使用维修资金修屋顶 规则=278-major 期限=1d")
    assert "《民法典》第二百七十八条（重大事项）" in (ballot.text or "")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, BUILDING_HEAD, "反对")
    await h.pass_time(timedelta(days=1))
    outcome = h.last_bot_message(BUILDING_CHAT).text or ""
    # Everyone took part; agree is 200/250 = 80% of area and 2/3 of households (< 3/4).
    assert "结果：未通过" in outcome
    assert "参与面积 100.0%" in outcome and "同意户数占参与户数 66.7%" in outcome
    assert "同意面积占参与面积 80.0%" in outcome


async def test_art_278_without_enough_participation_has_no_quorum(h: Harness) -> None:
    await community(h)
    await register_household(h, "1-101", "100", user=RESIDENT)
    await register_household(h, "1-102", "100", user=NEIGHBOUR)
    ballot = await publish(h, "改建车棚 规则=278 期限=1d")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.pass_time(timedelta(days=1))
    outcome = next(m for m in h.emu.bot_messages(BUILDING_CHAT) if "结果：" in (m.text or ""))
    assert "未决（未达法定人数）" in (outcome.text or "")


async def test_offline_ballots_count_are_marked_and_overridden_by_the_household(h: Harness) -> None:
    await community(h)
    await register_household(h, "2-502", "89.5", user=RESIDENT)
    ballot = await publish(h, "加装电梯 按户=yes 期限=1d")
    number = topic_id(ballot)
    recorded = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/ballot {number} 2-502 同意 方式=上门")
    assert "2-502" in (recorded.text or "") and "上门" in (recorded.text or "")
    result = await h.say(BUILDING_CHAT, RESIDENT, f"/result {number}")
    assert "其中线下票：上门 1" in (result.text or "")
    assert await count(h, rows(audit_log).where(audit_log.c.action == "ballot.offline")) == 1
    own = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "反对")
    assert own["text"] == "已改为：反对"
    result = await h.say(BUILDING_CHAT, RESIDENT, f"/result {number}")
    assert "线下" not in (result.text or "") and "反对：1" in (result.text or "")


async def test_offline_ballot_refusals(h: Harness) -> None:
    await community(h)
    person = await publish(h, "按人投票的议题")
    household = await publish(h, "按户投票的议题 按户=yes")
    refusals = {
        f"/ballot {topic_id(person)} 2-502 同意": "只用于按户投票",
        f"/ballot {topic_id(household)} 2-502 同意": "没有已通过的登记",
        f"/ballot {topic_id(household)} 2-502 也许": "不是这个议题的选项",
        f"/ballot {topic_id(household)} 2-502 同意 方式=飞鸽": "不是线下投票方式",
        f"/ballot {topic_id(household)} 2-502": "用法",
    }
    for command, expected in refusals.items():
        reply = await h.say(BUILDING_CHAT, BUILDING_HEAD, command)
        assert expected in (reply.text or ""), (command, reply.text)
    resident = await h.say(BUILDING_CHAT, RESIDENT, f"/ballot {topic_id(household)} 2-502 同意")
    assert "只有议题" in (resident.text or "")
    assert await count(h, rows(ballots)) == 0


async def test_nudges_remind_households_without_ballots_once_per_12_hours(h: Harness) -> None:
    await community(h)
    await register_household(h, "1-101", "90", user=RESIDENT)
    await register_household(h, "1-102", "80", user=NEIGHBOUR)
    await h.say(NEIGHBOUR, NEIGHBOUR, "/start")  # only residents who started the bot get a DM
    ballot = await publish(h, "加装电梯 按户=yes 期限=3d")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    number = topic_id(ballot)
    refused = await h.say(BUILDING_CHAT, RESIDENT, f"/nudge {number}")
    assert "只有议题" in (refused.text or "")
    h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, f"/nudge {number}")
    await h.settle()
    group = h.last_bot_message(BUILDING_CHAT)
    assert "还有 1 票未投" in (group.text or "")
    private = h.last_bot_message(NEIGHBOUR)
    assert f"#{number}" in (private.text or "") and "还没有" in (private.text or "")
    assert not [m for m in h.emu.bot_messages(RESIDENT) if "还没有" in (m.text or "")]
    again = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/nudge {number}")
    assert "12 小时内已经提醒过" in (again.text or "")


async def test_the_automatic_nudge_comes_24_hours_before_the_deadline(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "更换门禁 期限=3d")
    await h.pass_time(timedelta(days=1, hours=23))
    assert not any("未投" in (m.text or "") for m in h.emu.bot_messages(BUILDING_CHAT))
    await h.pass_time(timedelta(hours=2))
    nudge = h.last_bot_message(BUILDING_CHAT)
    assert "未投" in (nudge.text or "") and nudge.reply_to_message_id == ballot.message_id


async def test_people_outside_the_chat_cannot_vote(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "楼道装监控")
    h.emu.add_member(BUILDING_CHAT, OUTSIDER)
    h.emu.remove_member(BUILDING_CHAT, OUTSIDER)
    answer = await h.press(BUILDING_CHAT, ballot.message_id, OUTSIDER, "同意")
    assert answer["show_alert"] and "只有本群成员" in answer["text"]
    assert await count(h, rows(ballots)) == 0


async def test_membership_changes_are_followed_from_chat_member_updates(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "楼道装监控")
    first = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    assert first["text"] == "已记录：同意"
    asked = len(h.emu.calls_of("getChatMember"))
    h.emu.remove_member(BUILDING_CHAT, NEIGHBOUR)  # Telegram tells the admin bot: chat_member
    await h.settle()
    answer = await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "同意")
    assert answer["show_alert"] and "只有本群成员" in answer["text"]
    assert len(h.emu.calls_of("getChatMember")) == asked  # known from the update, not asked
