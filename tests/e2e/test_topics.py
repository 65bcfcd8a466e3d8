"""Flows 3 and 4: a building vote end to end — publish, vote, live tally, close, outcome."""

from __future__ import annotations

from datetime import timedelta

from storage.tables import ballots, escalations, topics
from tests.auxil.harness import Harness
from tests.auxil.topics import publish, tally, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    OUTSIDER,
    RESIDENT,
    code_in,
    community,
    count,
    rows,
)


async def test_a_building_vote_passes(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "东门加装电动车充电桩 期限=2h\n在东门车棚加装 10 个充电桩。")
    text = ballot.text or ""
    assert "东门加装电动车充电桩" in text and "在东门车棚加装" in text
    assert "截止：2026-12-01 11:00" in text  # 2 h after 09:00 local
    assert ballot.button_texts()[:3] == ["同意", "反对", "弃权"]
    assert tally(ballot) == {"同意": 0, "反对": 0, "弃权": 0}

    first = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    assert first["text"] == "已记录：同意"
    second = await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "同意")
    assert second["text"] == "已记录：同意"
    await h.settle()
    assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id)) == {
        "同意": 2,
        "反对": 0,
        "弃权": 0,
    }

    await h.pass_time(timedelta(hours=2, minutes=1))
    closed = h.emu.message(BUILDING_CHAT, ballot.message_id)
    assert "🔒 已结束：通过" in (closed.text or "") and closed.button_texts() == []
    outcome = h.last_bot_message(BUILDING_CHAT)
    assert outcome.reply_to_message_id == ballot.message_id
    assert "结果：通过" in (outcome.text or "") and "同意：2" in (outcome.text or "")


async def test_a_vote_can_be_changed_and_the_last_choice_counts(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "周末集中清理楼道杂物")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    changed = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "反对")
    assert changed["text"] == "已改为：反对"
    same = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "反对")
    assert same["text"] == "你已选择：反对"
    await h.settle()
    assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id)) == {
        "同意": 0,
        "反对": 1,
        "弃权": 0,
    }
    assert await count(h, rows(ballots)) == 1


async def test_a_tie_is_unresolved_and_no_votes_too(h: Harness) -> None:
    await community(h)
    split = await publish(h, "是否更换物业 期限=1h")
    empty = await publish(h, "是否粉刷外墙 期限=1h")
    await h.press(BUILDING_CHAT, split.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, split.message_id, NEIGHBOUR, "反对")
    await h.pass_time(timedelta(hours=1))
    assert "未决（平票）" in (h.emu.message(BUILDING_CHAT, split.message_id).text or "")
    assert "未决（无人投票）" in (h.emu.message(BUILDING_CHAT, empty.message_id).text or "")


async def test_topics_due_together_close_together_each_announced_once(h: Harness) -> None:
    # The deadline sweep closes due topics in batches: each must still get its own outcome,
    # its own announcement and, when unresolved, its own escalation.
    await community(h)
    passes = await publish(h, "增设自行车棚 期限=1h")
    split = await publish(h, "是否更换物业 期限=1h")
    empty = await publish(h, "是否粉刷外墙 期限=1h")
    later = await publish(h, "是否增设快递柜 期限=1d")
    await h.press(BUILDING_CHAT, passes.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, split.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, split.message_id, NEIGHBOUR, "反对")
    await h.pass_time(timedelta(hours=1))
    expected = [(passes, "通过"), (split, "未决（平票）"), (empty, "未决（无人投票）")]
    for ballot, verdict in expected:
        assert verdict in (h.emu.message(BUILDING_CHAT, ballot.message_id).text or "")
        replies = [
            m
            for m in h.emu.bot_messages(BUILDING_CHAT)
            if m.reply_to_message_id == ballot.message_id and "结果：" in (m.text or "")
        ]
        assert len(replies) == 1, ballot.text
    assert "已结束" not in (h.emu.message(BUILDING_CHAT, later.message_id).text or "")
    cards = [m for m in h.emu.bot_messages(GRID_CHAT) if "⬆️ 上报" in (m.text or "")]
    for ballot, sent_up in [(passes, 0), (split, 1), (empty, 1)]:
        assert len([c for c in cards if f"#{topic_id(ballot)}" in (c.text or "")]) == sent_up
    assert await count(h, rows(escalations)) == 2
    assert await count(h, rows(topics).where(topics.c.status == "closed")) == 3


async def test_an_officer_closes_early_and_the_deadline_then_does_nothing(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "增设快递柜 期限=1d")
    number = topic_id(ballot)
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    refused = await h.say(BUILDING_CHAT, RESIDENT, f"/close {number}")
    assert "只有议题" in (refused.text or "")
    closed = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/close #{number}")
    assert "结果：通过" in (closed.text or "")
    await h.pass_time(timedelta(days=2))
    outcomes = [m for m in h.emu.bot_messages(BUILDING_CHAT) if "已结束" in (m.text or "")]
    assert len([m for m in outcomes if m.reply_to_message_id == ballot.message_id]) == 1
    again = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/close {number}")
    assert "已经结束" in (again.text or "")


async def test_pressing_a_closed_ballot_is_refused(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "楼顶加装太阳能 期限=1h")
    buttons = ballot.reply_markup
    await h.pass_time(timedelta(hours=2))
    # A resident's client still shows the old buttons: pressing one changes nothing.
    query = h.emu.press_callback(
        BUILDING_CHAT,
        ballot.message_id,
        RESIDENT,
        buttons["inline_keyboard"][0][0]["callback_data"],
    )
    answer = await h.emu.wait_for_answer(query)
    assert answer["show_alert"] and "已经结束" in answer["text"]
    assert await count(h, rows(ballots)) == 0


async def test_extend_and_cancel(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "调整停车位 期限=1h")
    number = topic_id(ballot)
    bad = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/extend {number} soon")
    assert "不是时长" in (bad.text or "")
    extended = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/extend {number} 1d")
    assert "2026-12-02 10:00" in (extended.text or "")
    await h.settle()
    assert "截止：2026-12-02 10:00" in (h.emu.message(BUILDING_CHAT, ballot.message_id).text or "")
    await h.pass_time(timedelta(hours=2))
    assert "已结束" not in (h.emu.message(BUILDING_CHAT, ballot.message_id).text or "")
    cancelled = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/cancel {number}")
    assert "已取消" in (cancelled.text or "")
    await h.settle()
    message = h.emu.message(BUILDING_CHAT, ballot.message_id)
    assert "🚫 已取消" in (message.text or "") and message.button_texts() == []


async def test_residents_cannot_publish_and_are_pointed_to_propose(h: Harness) -> None:
    await community(h)
    refused = await h.say(BUILDING_CHAT, RESIDENT, "/topic 我想发起投票")
    assert "/propose" in (refused.text or "")
    assert await count(h, rows(topics)) == 0


async def test_a_quorum_waits_for_telegram_to_count_the_group(h: Harness) -> None:
    await community(h)
    h.emu.fail_next("getChatMemberCount", 400, "Bad Request: try again later")  # once
    refused = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic 东门 法定人数=50%")
    assert "没能从 Telegram 查到本群的成员人数" in (refused.text or ""), refused.text
    assert "稍后再发一次" in (refused.text or "")
    assert await count(h, rows(topics)) == 0
    ballot = await publish(h, "东门 法定人数=50%")  # counted this time: published
    assert "法定人数" in (ballot.text or "") and await count(h, rows(topics)) == 1


async def test_malformed_topics_change_nothing(h: Harness) -> None:
    await community(h)
    cases = [
        "东门 颜色=红",
        "东门 期限=soon",
        "东门 期限=2020-01-01 10:00",
        "东门 选项=只有一个",
        "东门 规则=unanimous",
        "东门 类别=违反法律法规和政策的",
        "东门 法定人数=150%",
        "东门 " + "长" * 200,
    ]
    for case in cases:
        reply = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/topic {case}")
        assert not (reply.text or "").startswith("📋"), (case, reply.text)
        assert reply.text, case
    assert await count(h, rows(topics)) == 0


async def test_officers_of_another_building_cannot_close_this_ones_topics(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "楼道灯更换")
    number = topic_id(ballot)
    # The grid sees its buildings' topics...
    seen = await h.say(GRID_CHAT, GRID_WORKER, f"/result {number}")
    assert f"#{number} 楼道灯更换" in (seen.text or "")
    # ...but an officer of another building cannot touch them.
    await h.say(GRID_CHAT, GRID_WORKER, "/newbuilding 2号楼")
    issued = h.last_bot_message(GRID_CHAT)
    await h.group(-1004, "2号楼议事群", members=[NEIGHBOUR], admins=[GRID_WORKER])
    await h.say(-1004, GRID_WORKER, f"/bind {code_in(issued.text)}")
    hello = h.emu.send_message(-1004, NEIGHBOUR, "我是2号楼楼长")
    await h.say(-1004, GRID_WORKER, "/role building_head", reply_to=hello.message_id)
    refused = await h.say(-1004, NEIGHBOUR, f"/close {number}")
    assert f"没有议题 #{number}" in (refused.text or "")
    in_their_chat = await h.say(BUILDING_CHAT, NEIGHBOUR, f"/close {number}")
    assert "只有议题" in (in_their_chat.text or "")
    assert "已结束" not in (h.emu.message(BUILDING_CHAT, ballot.message_id).text or "")


async def test_topics_lists_open_and_closed(h: Harness) -> None:
    await community(h)
    await publish(h, "议题甲 期限=1h")
    await publish(h, "议题乙 期限=3d")
    await h.pass_time(timedelta(hours=2))
    listing = await h.say(BUILDING_CHAT, RESIDENT, "/topics")
    text = listing.text or ""
    assert "进行中的议题" in text and "#2 议题乙" in text
    assert "最近结束的议题" in text and "#1 议题甲 — 未决（无人投票）" in text


async def test_custom_options_pick_the_most_voted(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "充电桩位置 选项=东门,西门、北门 期限=1h")
    assert ballot.button_texts()[:3] == ["东门", "西门", "北门"]
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "西门")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "西门")
    await h.press(BUILDING_CHAT, ballot.message_id, BUILDING_HEAD, "东门")
    await h.pass_time(timedelta(hours=1))
    assert "「西门」胜出" in (h.emu.message(BUILDING_CHAT, ballot.message_id).text or "")


async def test_hidden_results_show_no_tally_until_close(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "小区绿化方案 隐藏结果=yes 期限=1h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.settle()
    shown = h.emu.message(BUILDING_CHAT, ballot.message_id)
    assert tally(shown) == {} and "票数将在截止后公布" in (shown.text or "")
    result = await h.say(BUILDING_CHAT, RESIDENT, f"/result {topic_id(ballot)}")
    assert "同意：" not in (result.text or "")
    await h.pass_time(timedelta(hours=1))
    assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id)) == {
        "同意": 1,
        "反对": 0,
        "弃权": 0,
    }


async def test_presses_made_together_are_each_counted_or_refused_on_their_own(
    h: Harness,
) -> None:
    """Presses made at once are counted in one batch; each still gets its own answer."""
    await community(h)
    ballot = await publish(h, "楼道灯改为声控")
    joined = list(range(100, 108))
    for user in joined:  # their membership is on record (Telegram told the bot they joined)
        h.user(user, f"住户{user}")
        h.emu.add_member(BUILDING_CHAT, user)
    await h.settle()
    options = ["同意", "反对", "弃权"]
    # RESIDENT and NEIGHBOUR are members the bot has not asked about; OUTSIDER is none.
    choice = {user: options[index % 3] for index, user in enumerate([*joined, RESIDENT, NEIGHBOUR])}
    choice[OUTSIDER] = "同意"
    queries = {
        user: h.emu.press_button(BUILDING_CHAT, ballot.message_id, user, option)
        for user, option in choice.items()
    }
    answers = {user: await h.emu.wait_for_answer(query) for user, query in queries.items()}
    assert answers.pop(OUTSIDER)["text"] == "只有本群成员可以投票。"
    assert {user: answer["text"] for user, answer in answers.items()} == {
        user: f"已记录：{choice[user]}" for user in answers
    }

    # A second round at once: some change their minds, one presses the same button again.
    again = {joined[0]: "弃权", joined[1]: "同意", RESIDENT: choice[RESIDENT]}
    queries = {
        user: h.emu.press_button(BUILDING_CHAT, ballot.message_id, user, option)
        for user, option in again.items()
    }
    answers = {user: await h.emu.wait_for_answer(query) for user, query in queries.items()}
    assert answers[joined[0]]["text"] == "已改为：弃权"
    assert answers[joined[1]]["text"] == "已改为：同意"
    assert answers[RESIDENT]["text"] == f"你已选择：{choice[RESIDENT]}"
    choice.pop(OUTSIDER)
    choice.update(again)
    await h.settle()
    assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id)) == {
        option: sum(1 for chosen in choice.values() if chosen == option) for option in options
    }
    assert await count(h, rows(ballots)) == len(choice)
