"""The guided /topic: an officer builds a topic with buttons and typed answers, step by step."""

from __future__ import annotations

import pytest

from channels.telegram.topics import wizard as topic_wizard
from emulators.telegram import EmuMessage
from storage.tables import topics
from tests.auxil.harness import Harness
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    community,
    count,
    rows,
)

PUBLIC_AFFAIRS = "居民公共事务和公益事业"


async def press(h: Harness, chat: int, wizard: EmuMessage, user: int, button: str) -> EmuMessage:
    """``user`` presses ``button`` on the wizard message; the message as it is afterwards."""
    answer = await h.press(chat, wizard.message_id, user, button)
    assert not answer["show_alert"], answer
    return h.emu.message(chat, wizard.message_id)


async def refused(h: Harness, chat: int, wizard: EmuMessage, user: int, button: str) -> str:
    """``user`` presses ``button`` and gets an alert: its text."""
    answer = await h.press(chat, wizard.message_id, user, button)
    assert answer["show_alert"], answer
    return str(answer["text"])


def text_of(message: EmuMessage) -> str:
    return message.text or ""


async def ballot_after(h: Harness, chat: int, after: int) -> EmuMessage:
    return await h.emu.wait_for_bot_message(
        chat, after=after, predicate=lambda m: "#" in text_of(m) and bool(m.button_texts())
    )


async def to_category(h: Harness, chat: int, officer: int, title: str) -> EmuMessage:
    """Start the wizard, give the title, skip the description: the category step."""
    start = await h.say(chat, officer, "/topic")
    asked = await h.say(chat, officer, title, reply_to=start.message_id)
    return await press(h, chat, asked, officer, "跳过")


async def test_an_officer_publishes_a_topic_step_by_step(h: Harness) -> None:
    await community(h)
    start = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic")
    assert "第 1/8 步" in text_of(start) and "标题" in text_of(start)
    assert start.button_texts() == ["✖️ 取消"]

    asked = await h.say(BUILDING_CHAT, BUILDING_HEAD, "加装电梯", reply_to=start.message_id)
    assert "第 2/8 步" in text_of(asked) and "标题：加装电梯" in text_of(asked)
    assert asked.button_texts() == ["跳过", "✖️ 取消"]
    assert h.emu.message(BUILDING_CHAT, start.message_id).button_texts() == []

    # Any text of the officer's answers; a reply is not needed.
    wizard = await h.say(BUILDING_CHAT, BUILDING_HEAD, "一到六层加装电梯，费用按楼层分摊。")
    assert "第 3/8 步" in text_of(wizard)
    assert PUBLIC_AFFAIRS in wizard.button_texts()
    assert "违反法律法规和政策的事项" not in wizard.button_texts()  # not discussable

    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, PUBLIC_AFFAIRS)
    assert "第 4/8 步" in text_of(wizard)
    assert wizard.button_texts() == ["同意 / 反对 / 弃权", "✏️ 自定义", "✖️ 取消"]
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "同意 / 反对 / 弃权")
    assert wizard.button_texts() == ["1天", "3天", "7天", "✏️ 自定义", "✖️ 取消"]
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "7天")
    assert "第 6/8 步" in text_of(wizard)
    assert "过半数通过" in wizard.button_texts() and "征求意见（不投票）" in wizard.button_texts()
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "过半数通过")
    # A building group has no "all buildings" scope.
    assert wizard.button_texts() == [
        "⬜ 匿名投票",
        "⬜ 按户投票",
        "⬜ 隐藏结果至截止",
        "下一步 ➡️",
        "✖️ 取消",
    ]
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "⬜ 匿名投票")
    assert wizard.button_texts()[0] == "✅ 匿名投票"
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "⬜ 隐藏结果至截止")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "✅ 隐藏结果至截止")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "下一步 ➡️")

    preview = text_of(wizard)
    assert "第 8/8 步" in preview
    for shown in (
        "加装电梯",
        "一到六层加装电梯，费用按楼层分摊。",
        f"类别：{PUBLIC_AFFAIRS}",
        "选项：同意、反对、弃权",
        "规则：过半数通过",
        "无记名投票",
        "截止：2026-12-08 09:00",
    ):
        assert shown in preview, shown
    assert "票数截止后公布" not in preview  # switched on, then off again
    assert wizard.button_texts() == ["✅ 发布", "⬅️ 返回修改", "✖️ 取消"]

    answer = await h.press(BUILDING_CHAT, wizard.message_id, BUILDING_HEAD, "✅ 发布")
    assert answer["text"] == "已发布议题 #1"
    ballot = await ballot_after(h, BUILDING_CHAT, wizard.message_id)
    assert "#1 加装电梯" in text_of(ballot) and "截止：2026-12-08 09:00" in text_of(ballot)
    assert "无记名投票" in text_of(ballot)
    assert ballot.button_texts()[:3] == ["同意", "反对", "弃权"]
    done = h.emu.message(BUILDING_CHAT, wizard.message_id)
    assert "已发布议题 #1" in text_of(done) and done.button_texts() == []

    voted = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    assert voted["text"] == "已记录：同意"
    # A second press on the finished wizard publishes nothing more.
    stale = h.emu.press_callback(
        BUILDING_CHAT, wizard.message_id, BUILDING_HEAD, f"tw:{BUILDING_HEAD}:1:p:0"
    )
    assert "失效" in (await h.emu.wait_for_answer(stale))["text"]
    await h.settle()
    assert await count(h, rows(topics)) == 1


async def test_custom_options_and_deadline_are_checked_and_asked_again(h: Harness) -> None:
    await community(h)
    wizard = await to_category(h, GRID_CHAT, GRID_WORKER, "小区停车方案")
    wizard = await press(h, GRID_CHAT, wizard, GRID_WORKER, PUBLIC_AFFAIRS)
    wizard = await press(h, GRID_CHAT, wizard, GRID_WORKER, "✏️ 自定义")
    assert "逗号或顿号" in text_of(wizard)

    bad_inputs = {
        "只有一个": "只有 1 个选项",
        "甲，乙，甲": "“甲”重复了",
        ",".join(str(n) for n in range(11)): "有 11 个选项，最多 10 个",
        "短," + "长" * 41: "太长（41 个字符）",
    }
    for typed, reason in bad_inputs.items():
        wizard = await h.say(GRID_CHAT, GRID_WORKER, typed)
        assert reason in text_of(wizard), (typed, text_of(wizard))
        assert "第 4/8 步" in text_of(wizard) and "逗号或顿号" in text_of(wizard)

    wizard = await h.say(GRID_CHAT, GRID_WORKER, "方案一，方案二、 方案三 ")
    assert "第 5/8 步" in text_of(wizard)
    wizard = await press(h, GRID_CHAT, wizard, GRID_WORKER, "✏️ 自定义")
    for typed, reason in {
        "明天": "缺少钟点",
        "明天晚上25点": "钟点不对",
        "soon": "不是有效的截止时间",
        "2026-11-30 18:00": "已经过去了",
        "400d": "太远了",
    }.items():
        wizard = await h.say(GRID_CHAT, GRID_WORKER, typed, reply_to=wizard.message_id)
        assert reason in text_of(wizard), (typed, text_of(wizard))
    wizard = await h.say(GRID_CHAT, GRID_WORKER, "2026-12-01 18:00", reply_to=wizard.message_id)
    assert "第 6/8 步" in text_of(wizard)

    wizard = await press(h, GRID_CHAT, wizard, GRID_WORKER, "三分之二通过")
    assert "⬜ 范围：全部楼栋" in wizard.button_texts()  # a grid may post to its buildings
    wizard = await press(h, GRID_CHAT, wizard, GRID_WORKER, "⬜ 范围：全部楼栋")
    wizard = await press(h, GRID_CHAT, wizard, GRID_WORKER, "下一步 ➡️")
    assert "选项：方案一、方案二、方案三" in text_of(wizard)
    assert "截止：2026-12-01 18:00" in text_of(wizard)
    assert "发到全部下级楼栋群" in text_of(wizard)

    await h.press(GRID_CHAT, wizard.message_id, GRID_WORKER, "✅ 发布")
    posted = await h.emu.wait_for_bot_message(
        GRID_CHAT, after=wizard.message_id, predicate=lambda m: "1 个楼栋群" in text_of(m)
    )
    assert "已发布议题 #1" in text_of(posted)
    ballot = await ballot_after(h, BUILDING_CHAT, 0)
    assert "小区停车方案" in text_of(ballot)
    assert ballot.button_texts()[:3] == ["方案一", "方案二", "方案三"]


async def test_article_278_is_per_household_and_opinions_have_no_options(h: Harness) -> None:
    await community(h)
    wizard = await to_category(h, BUILDING_CHAT, BUILDING_HEAD, "维修资金使用")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, PUBLIC_AFFAIRS)
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "同意 / 反对 / 弃权")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "3天")
    wizard = await press(
        h, BUILDING_CHAT, wizard, BUILDING_HEAD, "《民法典》第二百七十八条（重大事项）"
    )
    assert "🔒 按户投票" in wizard.button_texts()
    reason = await refused(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "🔒 按户投票")
    assert "按户计票" in reason
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "下一步 ➡️")
    assert "按户投票（每户一票）" in text_of(wizard)
    # Back to the settings and forward again changes nothing.
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "⬅️ 返回修改")
    assert "第 7/8 步" in text_of(wizard)
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "✖️ 取消")

    wizard = await to_category(h, BUILDING_CHAT, BUILDING_HEAD, "绿化意见")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, PUBLIC_AFFAIRS)
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "同意 / 反对 / 弃权")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "1天")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "征求意见（不投票）")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "下一步 ➡️")
    assert "不投票，只征求意见" in text_of(wizard) and "选项：" not in text_of(wizard)
    await h.press(BUILDING_CHAT, wizard.message_id, BUILDING_HEAD, "✅ 发布")
    ballot = await ballot_after(h, BUILDING_CHAT, wizard.message_id)
    assert "#1 绿化意见" in text_of(ballot)
    assert ballot.button_texts() == ["💬 私下提意见"]


async def test_residents_cannot_start_the_wizard(h: Harness) -> None:
    await community(h)
    refusal = await h.say(BUILDING_CHAT, RESIDENT, "/topic")
    assert "只有本处的管理员可以发布议题" in text_of(refusal)
    assert refusal.button_texts() == []
    # The one-line mode still answers /topic with arguments.
    one_line = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic 一行议题 期限=1d")
    assert "#1 一行议题" in text_of(one_line)


async def test_only_the_officer_who_started_it_moves_the_wizard(h: Harness) -> None:
    await community(h)
    start = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic")
    wizard = await h.say(BUILDING_CHAT, BUILDING_HEAD, "加装电梯", reply_to=start.message_id)
    before = (text_of(wizard), wizard.button_texts())

    for other in (NEIGHBOUR, GRID_WORKER):  # a resident, and an officer of higher rank
        reason = await refused(h, BUILDING_CHAT, wizard, other, "跳过")
        assert "只有发起的人能操作" in reason
    # Someone else's text is not an answer, and the wizard does not reply to it.
    chatter = h.emu.send_message(BUILDING_CHAT, NEIGHBOUR, "我觉得挺好")
    await h.settle()
    assert h.last_bot_message(BUILDING_CHAT).message_id < chatter.message_id
    forged = h.emu.press_callback(BUILDING_CHAT, wizard.message_id, BUILDING_HEAD, "tw:x:1:s:0")
    assert "失效" in (await h.emu.wait_for_answer(forged))["text"]
    current = h.emu.message(BUILDING_CHAT, wizard.message_id)
    assert (text_of(current), current.button_texts()) == before

    # The earlier prompt's buttons are gone; pressing its data anyway is stale.
    old = h.emu.press_callback(
        BUILDING_CHAT, start.message_id, BUILDING_HEAD, f"tw:{BUILDING_HEAD}:1:x:0"
    )
    assert "失效" in (await h.emu.wait_for_answer(old))["text"]
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "跳过")
    assert "第 3/8 步" in text_of(wizard)


async def test_cancel_by_button_or_by_command(h: Harness) -> None:
    await community(h)
    start = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic")
    cancelled = await press(h, BUILDING_CHAT, start, BUILDING_HEAD, "✖️ 取消")
    assert "已取消" in text_of(cancelled) and cancelled.button_texts() == []
    words = h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, "这句话不是标题")
    await h.settle()
    assert h.last_bot_message(BUILDING_CHAT).message_id < words.message_id

    replaced = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic")
    start = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic")
    old = h.emu.message(BUILDING_CHAT, replaced.message_id)
    assert "被新的 /topic 取代" in text_of(old) and old.button_texts() == []
    # /cancel <id> is still the command that cancels a topic; the wizard stays open.
    other = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/cancel 99")
    assert "本群没有议题 #99" in text_of(other)
    # /cancel from someone without a wizard here is the topic command's usage.
    usage = await h.say(BUILDING_CHAT, NEIGHBOUR, "/cancel")
    assert "用法" in text_of(usage)
    wizard = await h.say(BUILDING_CHAT, BUILDING_HEAD, "加装电梯", reply_to=start.message_id)
    assert "第 2/8 步" in text_of(wizard)
    done = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/cancel")
    assert "已取消，没有发布任何议题" in text_of(done)
    assert h.emu.message(BUILDING_CHAT, wizard.message_id).button_texts() == []
    await h.settle()
    assert await count(h, rows(topics)) == 0


async def test_a_wizard_left_alone_times_out(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    await community(h)
    monkeypatch.setattr(topic_wizard, "TIMEOUT_SECONDS", 0.3)
    start = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic")
    wizard = await h.say(BUILDING_CHAT, BUILDING_HEAD, "加装电梯", reply_to=start.message_id)

    def timed_out() -> bool:
        return "很久没有收到回答" in text_of(h.emu.message(BUILDING_CHAT, wizard.message_id))

    await h.emu.wait_until(timed_out)
    ended = h.emu.message(BUILDING_CHAT, wizard.message_id)
    assert "没有发布任何议题" in text_of(ended) and ended.button_texts() == []
    # The officer's next words are ordinary chat again.
    words = h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, "一到六层")
    await h.settle()
    assert h.last_bot_message(BUILDING_CHAT).message_id < words.message_id
    assert await count(h, rows(topics)) == 0


async def test_the_wizard_in_english(h_en: Harness) -> None:
    h = h_en
    await community(h)
    start = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic")
    assert "step 1 of 8" in text_of(start) and "Reply to this message" in text_of(start)
    wizard = await h.say(BUILDING_CHAT, BUILDING_HEAD, "Install a lift", reply_to=start.message_id)
    wizard = await h.say(BUILDING_CHAT, BUILDING_HEAD, "Floors 1 to 6, costs shared.")
    category = "Residents' public affairs and public-interest matters"
    assert category in wizard.button_texts()
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, category)
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "Agree / Against / Abstain")
    assert wizard.button_texts() == ["1 day", "3 days", "7 days", "✏️ Custom", "✖️ Cancel"]
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "3 days")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "simple majority")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "⬜ Per household")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "Next ➡️")
    for shown in (
        "Install a lift",
        f"Category: {category}",
        "Options: Agree, Against, Abstain",
        "Rule: simple majority",
        "One vote per household",
        "Deadline: 2026-12-04 09:00",
    ):
        assert shown in text_of(wizard), shown
    answer = await h.press(BUILDING_CHAT, wizard.message_id, BUILDING_HEAD, "✅ Publish")
    assert answer["text"] == "Topic #1 published"
    ballot = await ballot_after(h, BUILDING_CHAT, wizard.message_id)
    assert "#1 Install a lift" in text_of(ballot)
    assert "Deadline: 2026-12-04 09:00" in text_of(ballot)
    assert ballot.button_texts()[:3] == ["Agree", "Against", "Abstain"]
    assert "Topic #1 published" in text_of(h.emu.message(BUILDING_CHAT, wizard.message_id))

    refusal = await h.say(BUILDING_CHAT, RESIDENT, "/topic")
    assert "Only officers here can publish topics" in text_of(refusal)
