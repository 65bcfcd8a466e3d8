"""Flows 5 and 6: 楼栋 → 网格 → 社区, resolution published back down, residents rate it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from emulators.telegram import EmuMessage
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


async def tied_topic(h: Harness) -> EmuMessage:
    """A building vote that ends in a tie and so goes up to the grid."""
    ballot = await publish(h, "是否在东门设置快递柜 期限=1h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    h.emu.send_message(BUILDING_CHAT, NEIGHBOUR, "快递柜会占消防通道", reply_to=ballot.message_id)
    await h.settle()
    await h.pass_time(timedelta(hours=1))
    return ballot


def card_in(h: Harness, chat: int) -> EmuMessage:
    return next(m for m in reversed(h.emu.bot_messages(chat)) if "⬆️ 上报" in (m.text or ""))


async def test_a_close_that_sends_a_topic_up_says_so_in_its_one_outcome(both: Harness) -> None:
    h = both
    await community(h)
    ballot = await publish(h, "是否在东门设置快递柜 期限=1h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    await h.settle()
    before = len(h.emu.bot_messages(BUILDING_CHAT))
    await h.pass_time(timedelta(hours=1))
    posted = h.emu.bot_messages(BUILDING_CHAT)[before:]
    assert len(posted) == 1  # the group's budget is 20 a minute: one message, not two
    text = posted[0].text or ""
    assert "结果：" in text and "平票" in text and "已上报网格 第一网格" in text
    assert posted[0].reply_to_message_id == ballot.message_id
    assert len([m for m in h.emu.bot_messages(GRID_CHAT) if "⬆️ 上报" in (m.text or "")]) == 1
    assert await count(h, rows(escalations)) == 1


async def test_a_tie_goes_to_the_grid_is_resolved_and_rated(h: Harness) -> None:
    await community(h)
    ballot = await tied_topic(h)
    number = topic_id(ballot)
    told = [m for m in h.emu.bot_messages(BUILDING_CHAT) if "已上报网格" in (m.text or "")]
    assert told and "平票" in (told[-1].text or "")
    card = card_in(h, GRID_CHAT)
    text = card.text or ""
    assert f"#{number}" in text and "来自：楼栋 1号楼" in text and "原因：平票" in text
    assert "同意：1 · 反对：1" in text and "快递柜会占消防通道" in text and "处理期限" in text
    assert card.button_texts() == ["受理", "发起网格表决", "解决", "上报社区"]

    taken = await h.press(GRID_CHAT, card.message_id, GRID_WORKER, "受理")
    assert taken["text"] == "已受理"
    card = await h.edited(GRID_CHAT, card.message_id)
    assert "已受理（张网格）" in (card.text or "")
    assert "受理" not in card.button_texts()

    await h.press(GRID_CHAT, card.message_id, GRID_WORKER, "解决")
    prompt = await h.emu.wait_for_bot_message(GRID_CHAT, after=card.message_id)
    assert "处理决定" in (prompt.text or "")
    decision = "在西门设置快递柜，不占消防通道。"
    h.emu.send_message(GRID_CHAT, GRID_WORKER, decision, reply_to=prompt.message_id)
    await h.settle()
    assert await count(h, rows(resolutions)) == 1

    published = [m for m in h.emu.bot_messages(BUILDING_CHAT) if decision in (m.text or "")]
    assert len(published) == 1 and published[0].reply_to_message_id == ballot.message_id
    assert published[0].button_texts() == ["满意", "基本满意", "不满意"]
    assert [m for m in h.emu.bot_messages(GRID_CHAT) if decision in (m.text or "")]
    assert card_in(h, GRID_CHAT).button_texts() == []

    first = await h.press(BUILDING_CHAT, published[0].message_id, RESIDENT, "满意")
    assert first["text"] == "已记录你的评价：满意"
    changed = await h.press(BUILDING_CHAT, published[0].message_id, RESIDENT, "基本满意")
    assert changed["text"] == "已记录你的评价：基本满意"
    await h.press(BUILDING_CHAT, published[0].message_id, NEIGHBOUR, "不满意")

    result = await h.say(BUILDING_CHAT, RESIDENT, f"/result {number}")
    text = result.text or ""
    assert "上报经过" in text and "楼栋 1号楼 → 网格 第一网格（平票）— 已解决" in text
    assert decision in text and "满意 0 · 基本满意 1 · 不满意 1" in text


async def test_progress_updates_follow_until_done(h: Harness) -> None:
    await community(h)
    ballot = await tied_topic(h)
    number = topic_id(ballot)
    early = await h.say(GRID_CHAT, GRID_WORKER, f"/progress {number} 已联系物业")
    assert "还没有决定" in (early.text or "")
    await h.say(GRID_CHAT, GRID_WORKER, f"/resolve {number} 在西门设置快递柜")
    await h.settle()  # the decision is announced in this chat too
    news = await h.say(GRID_CHAT, GRID_WORKER, f"/progress {number} 快递柜已订购")
    assert "已发布" in (news.text or "")
    await h.settle()
    assert any("快递柜已订购" in (m.text or "") for m in h.emu.bot_messages(BUILDING_CHAT))
    await h.say(GRID_CHAT, GRID_WORKER, f"/progress {number} 办结")
    await h.settle()
    assert any("已办结" in (m.text or "") for m in h.emu.bot_messages(BUILDING_CHAT))
    after = await h.say(GRID_CHAT, GRID_WORKER, f"/progress {number} 又有新情况")
    assert "已经办结" in (after.text or "")


async def test_the_sla_reminds_at_half_and_escalates_to_the_community(h: Harness) -> None:
    await community(h)
    ballot = await tied_topic(h)
    number = topic_id(ballot)
    await h.pass_time(timedelta(days=1, hours=12, minutes=1))
    reminder = h.last_bot_message(GRID_CHAT)
    assert "处理时限的一半" in (reminder.text or "") and f"#{number}" in (reminder.text or "")
    assert not [m for m in h.emu.bot_messages(STAFF_CHAT) if "⬆️ 上报" in (m.text or "")]
    await h.pass_time(timedelta(days=1, hours=12))
    staff_card = card_in(h, STAFF_CHAT)
    assert "原因：超过处理时限" in (staff_card.text or "") and "来自：网格 第一网格" in (
        staff_card.text or ""
    )
    assert "上报社区" not in staff_card.button_texts()  # nowhere higher to go
    grid_told = [m for m in h.emu.bot_messages(GRID_CHAT) if "已上报社区" in (m.text or "")]
    assert grid_told
    assert "机器人不在线" not in (grid_told[0].text or "")  # on time: nothing about an outage
    assert "已上报上级" in ((await h.say(GRID_CHAT, GRID_WORKER, f"/result {number}")).text or "")
    await h.restart()
    await h.pass_time(timedelta(days=10))
    assert await count(h, rows(escalations)) == 2


async def test_manual_escalation_needs_a_reason_and_the_right_officer(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "楼顶漏水维修 期限=1h")
    number = topic_id(ballot)
    still_open = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/escalate {number} 需要维修资金")
    assert "还在表决中" in (still_open.text or "")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.pass_time(timedelta(hours=1))
    no_reason = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/escalate {number}")
    assert "必须写明原因" in (no_reason.text or "")
    resident = await h.say(BUILDING_CHAT, RESIDENT, f"/escalate {number} 我想上报")
    assert "管理员" in (resident.text or "")
    done = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/escalate {number} 需要动用维修资金")
    assert "上报网格" in (done.text or "")
    await h.settle()
    card = card_in(h, GRID_CHAT)
    assert "管理员上报（需要动用维修资金）" in (card.text or "")
    # Card buttons: other grids' officers and residents are refused; nothing changes.
    h.emu.add_member(GRID_CHAT, RESIDENT)
    refused = await h.press(GRID_CHAT, card.message_id, RESIDENT, "受理")
    assert refused["show_alert"] and "管理员" in refused["text"]
    unresolved = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/resolve {number} 我来决定")
    assert "管理员" in (unresolved.text or "")
    await h.press(GRID_CHAT, card.message_id, GRID_WORKER, "上报社区")
    prompt = await h.emu.wait_for_bot_message(
        GRID_CHAT, predicate=lambda m: "原因" in (m.text or "") and "回复本消息" in (m.text or "")
    )
    h.emu.send_message(GRID_CHAT, GRID_WORKER, "金额超出网格权限", reply_to=prompt.message_id)
    await h.settle()
    staff_card = card_in(h, STAFF_CHAT)
    assert "金额超出网格权限" in (staff_card.text or "")
    resolved = await h.say(STAFF_CHAT, STAFF, f"/resolve {number} 社区协调维修资金，下周施工")
    assert "已记录" in (resolved.text or "")
    await h.settle()
    for chat in (BUILDING_CHAT, GRID_CHAT, STAFF_CHAT):
        assert any("下周施工" in (m.text or "") for m in h.emu.bot_messages(chat)), chat
    again = await h.say(STAFF_CHAT, SUPERADMIN, f"/resolve {number} 再决定一次")
    assert "已经有决定" in (again.text or "")


async def test_two_officers_taking_on_at_once_make_one_transition(h: Harness) -> None:
    await community(h)
    await tied_topic(h)
    card = card_in(h, GRID_CHAT)
    h.emu.add_member(GRID_CHAT, STAFF)
    first = h.emu.press_button(GRID_CHAT, card.message_id, GRID_WORKER, "受理")
    second = h.emu.press_button(GRID_CHAT, card.message_id, STAFF, "受理")
    answers = await asyncio.gather(h.emu.wait_for_answer(first), h.emu.wait_for_answer(second))
    texts = [answer["text"] for answer in answers]
    assert texts.count("已受理") == 1
    assert len([text for text in texts if "已经处理过" in text]) == 1
    async with h.services.database.transaction() as repos:
        audit = await repos.audit.recent(limit=200)
    assert len([e for e in audit if e.action == "escalation.accepted"]) == 1


async def test_forged_card_data_is_refused(h: Harness) -> None:
    await community(h)
    await tied_topic(h)
    card = card_in(h, GRID_CHAT)
    for data, expected in (("e:1:z", "失效"), ("e:99:a", "不属于本群"), ("e:x:a", "失效")):
        query = h.emu.press_callback(GRID_CHAT, card.message_id, GRID_WORKER, data)
        assert expected in (await h.emu.wait_for_answer(query))["text"], data
    query = h.emu.press_callback(BUILDING_CHAT, 1, BUILDING_HEAD, "e:1:a")
    assert "不属于本群" in (await h.emu.wait_for_answer(query))["text"]
