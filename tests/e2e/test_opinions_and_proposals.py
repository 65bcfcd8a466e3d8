"""Opinions (public replies, edits, private deep link, /opinion) and resident proposals."""

from __future__ import annotations

from datetime import timedelta

from storage.tables import opinions, proposals, topics
from tests.auxil.harness import Harness
from tests.auxil.topics import publish, topic_id
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


async def test_replies_are_public_opinions_and_edits_update_them(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "东门加装充电桩")
    reply = h.emu.send_message(
        BUILDING_CHAT, RESIDENT, "建议装在车棚北侧", reply_to=ballot.message_id
    )
    await h.settle()
    assert "意见 1 条" in (h.emu.message(BUILDING_CHAT, ballot.message_id).text or "")
    h.emu.edit_message(BUILDING_CHAT, reply.message_id, RESIDENT, "建议装在车棚南侧")
    await h.settle()
    async with h.services.database.transaction() as repos:
        stored = await repos.topics.opinions(topic_id(ballot))
    assert [(o.text, o.public, o.user_id) for o in stored] == [("建议装在车棚南侧", True, RESIDENT)]
    # A reply to any other message is just conversation.
    other = h.emu.send_message(BUILDING_CHAT, NEIGHBOUR, "今天天气不错")
    h.emu.send_message(BUILDING_CHAT, RESIDENT, "是啊", reply_to=other.message_id)
    await h.settle()
    assert await count(h, rows(opinions)) == 1


async def test_private_opinions_through_the_deep_link_are_for_officers_only(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "物业费调整")
    number = topic_id(ballot)
    link = ballot.button("💬 私下提意见")["url"]
    assert link.endswith(f"?start=op_{number}")
    asked = await h.say(RESIDENT, RESIDENT, f"/start op_{number}")
    assert f"#{number}" in (asked.text or "") and "只有管理员" in (asked.text or "")
    thanks = await h.say(RESIDENT, RESIDENT, "物业服务太差，不同意涨价")
    assert "私下记录" in (thanks.text or "")
    group = await h.say(BUILDING_CHAT, NEIGHBOUR, f"/result {number}")
    assert "私下 1 条" in (group.text or "") and "太差" not in (group.text or "")
    resident_private = await h.say(RESIDENT, RESIDENT, f"/result {number}")
    assert "只有议题" in (resident_private.text or "")
    officer = await h.say(BUILDING_HEAD, BUILDING_HEAD, f"/result {number}")
    assert "物业服务太差，不同意涨价" in (officer.text or "")
    assert "钱阿姨" not in (officer.text or "")


async def test_opinion_command_private_and_public(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "垃圾分类点位")
    number = topic_id(ballot)
    private = await h.say(NEIGHBOUR, NEIGHBOUR, f"/opinion {number} 点位离我家太近")
    assert "私下记录" in (private.text or "")
    public = await h.say(BUILDING_CHAT, RESIDENT, f"/opinion #{number} 同意设在西侧")
    assert "公开意见" in (public.text or "")
    outsider = await h.say(OUTSIDER, OUTSIDER, f"/opinion {number} 我不住这里")
    assert "只有议题" in (outsider.text or "")
    usage = await h.say(NEIGHBOUR, NEIGHBOUR, "/opinion")
    assert "用法" in (usage.text or "")
    unknown = await h.say(NEIGHBOUR, NEIGHBOUR, "/opinion 999 什么")
    assert "没有议题 #999" in (unknown.text or "")
    assert await count(h, rows(opinions)) == 2


async def test_opinions_after_close_are_refused(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "停车收费 期限=1h")
    await h.pass_time(timedelta(hours=2))
    late = await h.say(BUILDING_CHAT, RESIDENT, "我有意见", reply_to=ballot.message_id)
    assert "已经结束" in (late.text or "")
    assert await count(h, rows(opinions)) == 0


async def test_a_proposal_accepted_becomes_a_topic(h: Harness) -> None:
    await community(h)
    card = await h.say(BUILDING_CHAT, RESIDENT, "/propose 在东门加装电动车充电桩")
    assert "钱阿姨" in (card.text or "") and card.button_texts() == ["✅ 受理", "❌ 不予受理"]
    denied = await h.press(BUILDING_CHAT, card.message_id, NEIGHBOUR, "✅ 受理")
    assert denied["show_alert"] and "只有本处的管理员" in denied["text"]
    await h.press(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "✅ 受理")
    picking = await h.edited(BUILDING_CHAT, card.message_id)
    assert "请选择议题类别" in (picking.text or "")
    assert "居民公共事务和公益事业" in picking.button_texts()
    await h.press(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "居民公共事务和公益事业")
    ballot = await h.emu.wait_for_bot_message(
        BUILDING_CHAT, predicate=lambda m: (m.text or "").startswith("📋")
    )
    assert "在东门加装电动车充电桩" in (ballot.text or "")
    assert "发布为议题 #1" in (h.emu.message(BUILDING_CHAT, card.message_id).text or "")
    async with h.services.database.transaction() as repos:
        proposal = await repos.proposals.get(1)
    assert proposal is not None and proposal.status == "accepted" and proposal.topic_id == 1


async def test_a_declined_proposal_tells_the_proposer_why(h: Harness) -> None:
    await community(h)
    await h.say(RESIDENT, RESIDENT, "/start")
    card = await h.say(BUILDING_CHAT, RESIDENT, "/propose 让 502 的邻居晚上小声点")
    await h.press(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "❌ 不予受理")
    await h.edited(BUILDING_CHAT, card.message_id)
    await h.press(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "个人之间的私人纠纷")
    await h.settle()
    declined = h.emu.message(BUILDING_CHAT, card.message_id).text or ""
    assert "不予受理" in declined and "个人之间的私人纠纷" in declined
    told = h.last_bot_message(RESIDENT).text or ""
    assert "未被受理" in told and "私人纠纷" in told
    assert h.emu.message(BUILDING_CHAT, card.message_id).button_texts() == []
    replay = h.emu.press_callback(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "pp:1:d:0")
    assert "已经处理过" in (await h.emu.wait_for_answer(replay))["text"]
    assert await count(h, rows(topics)) == 0


async def test_empty_and_private_proposals_are_refused(h: Harness) -> None:
    await community(h)
    empty = await h.say(BUILDING_CHAT, RESIDENT, "/propose")
    assert "请写下你的提议" in (empty.text or "")
    private = await h.say(RESIDENT, RESIDENT, "/propose 私聊里的提议")
    assert "楼栋群或网格群" in (private.text or "")
    assert await count(h, rows(proposals)) == 0
