"""The guided `/topic` on WeCom: `@议事 /topic` with no arguments in a group sends the officer to
the one-to-one chat, where the same steps as Telegram's are asked as button cards (each press
answered with the next step's card within WeCom's 5 s, at most six buttons) and typed answers
as messages; publishing puts the ballot in the group the draft is for, as the one-line
`/topic` does. Cancel, a time limit and a replaced draft end it; their old cards say so."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from emulators.wecom.replies import Issued
from emulators.wecom.world import Place
from tests.e2e_wecom.conftest import BOT_ID, BUILDING_GROUP, World
from tests.e2e_wecom.test_topic_on_wecom import answered, bound_with_a_building_head, last_seen

HEAD = "zhangsan"
SINGLE = Place("single", HEAD, BOT_ID)


def card_now(world: World) -> dict[str, Any]:
    """The card the head sees last in their one-to-one chat with the bot."""
    card = world.emu.world.seen_by(HEAD, SINGLE)[-1].card
    assert card is not None, world.emu.world.seen_by(HEAD, SINGLE)[-1]
    assert card["card_type"] == "button_interaction" and len(card["button_list"]) <= 6
    return card


def card_with(world: World, task_id: str) -> dict[str, Any]:
    """The head's card ``task_id`` as they see it now."""
    cards = [s.card for s in world.emu.world.seen_by(HEAD, SINGLE) if s.card]
    return next(card for card in cards if card["task_id"] == task_id)


def key_of(card: dict[str, Any], text: str) -> str:
    found = [b["key"] for b in card["button_list"] if text in b["text"]]
    assert found, (text, [b["text"] for b in card["button_list"]])
    return str(found[0])


async def write(world: World, text: str) -> dict[str, Any]:
    issued = await world.emu.write(HEAD, text)
    await answered(world, issued)
    return card_now(world)


async def press(world: World, text: str, selection: str | None = None) -> dict[str, Any]:
    card = card_now(world)
    pressed = await world.emu.press_button(
        HEAD, card["task_id"], key_of(card, text), selection=selection
    )
    frame = await answered(world, pressed, "aibot_respond_update_msg")
    assert frame.at - pressed.at < 5  # within WeCom's window for a card update
    return card_now(world)


async def started(world: World) -> Issued:
    """The head's `@议事 /topic` in the building group."""
    issued = await world.emu.mention(HEAD, BUILDING_GROUP, "/topic")
    await answered(world, issued)
    return issued


def step(card: dict[str, Any]) -> str:
    return str(card["main_title"]["title"])


async def test_a_topic_built_step_by_step_is_published_in_the_group(world: World) -> None:
    await bound_with_a_building_head(world)
    refused = await world.emu.mention("lisi", BUILDING_GROUP, "/topic")
    await answered(world, refused)
    assert "管理员" in (last_seen(world, "lisi").text or "")
    await started(world)
    told = last_seen(world, HEAD).text or ""
    assert "单聊" in told and "/topic" in told and "3号楼" in told, told

    card = await write(world, "/topic")
    assert "第 1/8 步" in step(card) and "标题" in card["sub_title_text"]
    assert "3号楼" in card["main_title"]["desc"]
    card = await write(world, "长" * 200)
    assert "第 1/8 步" in step(card) and "标题太长" in card["main_title"]["desc"]
    card = await write(world, "加装电梯")
    assert "第 2/8 步" in step(card) and "加装电梯" in card["main_title"]["desc"]
    card = await press(world, "跳过")
    assert "第 3/8 步" in step(card) and card["button_selection"]["option_list"]
    category = card["button_selection"]["option_list"][1]
    card = await press(world, "下一步", selection=category["id"])
    assert "第 4/8 步" in step(card)
    card = await press(world, "自定义")
    card = await write(world, "方案一，方案一")
    assert "重复" in card["main_title"]["desc"]
    earlier = card  # a card of its own (each typed answer is answered with a new one)
    card = await write(world, "方案一，方案二")
    assert "第 5/8 步" in step(card)
    card = await write(world, "随便说说")  # a button step: the card again, saying so
    assert "第 5/8 步" in step(card) and "按钮" in card["main_title"]["desc"]
    card = await press(world, "自定义")
    card = await write(world, "明天晚上8点")
    assert "第 6/8 步" in step(card) and len(card["button_list"]) == 6  # five rules, cancel
    card = await press(world, "过半")
    assert "第 7/8 步" in step(card)
    card = await press(world, "匿名投票")
    assert any(b["text"].startswith("✅") and "匿名" in b["text"] for b in card["button_list"])
    card = await press(world, "下一步")
    assert "第 8/8 步" in step(card)
    preview = card["sub_title_text"]
    assert "加装电梯" in preview and "方案一、方案二" in preview and "无记名" in preview
    assert category["text"] in preview and "20:00" in preview, preview
    card = await press(world, "发布")
    assert "已发布议题" in step(card) and "加装电梯" in step(card)

    # The group gets the ballot message and the vote card, as for the one-line /topic.
    def ballot_card() -> dict[str, Any] | None:
        for seen in reversed(world.emu.world.seen_by("lisi", Place("group", BUILDING_GROUP))):
            if seen.card and seen.card["card_type"] == "vote_interaction":
                return seen.card
        return None

    await world.emu.wait_for(lambda: ballot_card() is not None, timeout=30)
    vote = ballot_card()
    assert vote is not None and vote["main_title"]["title"].endswith("加装电梯")
    assert [o["text"] for o in vote["checkbox"]["option_list"]] == ["方案一", "方案二"]
    topic_id = int(vote["main_title"]["title"].split()[0].lstrip("#"))
    snap = await world.services.topics.snapshot(topic_id)
    assert snap is not None and snap.topic.secret and snap.topic.category
    # A press on a card of the finished draft: it says so, nothing is published again.
    stale = await world.emu.press_button(HEAD, earlier["task_id"], key_of(earlier, "取消"))
    await answered(world, stale, "aibot_respond_update_msg")
    assert "已结束" in step(card_with(world, earlier["task_id"]))
    assert (await world.services.topics.snapshot(topic_id + 1)) is None


async def test_cancel_time_limit_and_a_new_start_end_a_draft(world: World) -> None:
    await bound_with_a_building_head(world)
    issued = await world.emu.write(HEAD, "/topic")  # no group noted yet: where to start
    await answered(world, issued)
    said = world.emu.world.seen_by(HEAD, SINGLE)[-1].text or ""
    assert "@议事" in said and "/topic" in said and "群" in said, said

    await started(world)
    await write(world, "/topic")
    card = await press(world, "取消")
    assert "已取消" in step(card)
    issued = await world.emu.write(HEAD, "/topic")
    await answered(world, issued)
    assert "请先在议题所属的群里" in (world.emu.world.seen_by(HEAD, SINGLE)[-1].text or "")

    await started(world)
    first = await write(world, "/topic")
    await started(world)  # a new start replaces the draft
    assert "取代" in (last_seen(world, HEAD).text or "")
    stale = await world.emu.press_button(HEAD, first["task_id"], key_of(first, "取消"))
    await answered(world, stale, "aibot_respond_update_msg")
    assert "已结束" in step(card_with(world, first["task_id"]))

    await write(world, "/topic")
    world.clock.advance(timedelta(minutes=11))
    issued = await world.emu.write(HEAD, "加装电梯")
    await answered(world, issued)
    assert "很久没有收到回答" in (world.emu.world.seen_by(HEAD, SINGLE)[-1].text or "")
    issued = await world.emu.write(HEAD, "加装电梯")  # the draft is gone: words as /start
    await answered(world, issued)
    assert "很久没有" not in (world.emu.world.seen_by(HEAD, SINGLE)[-1].text or "")


async def test_a_press_delivered_again_changes_nothing_more(world: World) -> None:
    await bound_with_a_building_head(world)
    await started(world)
    await write(world, "/topic")
    await write(world, "加装电梯")
    for text in ("跳过", "下一步", "同意", "3天", "过半"):
        await press(world, text)
    card = card_now(world)
    toggled = await world.emu.press_button(HEAD, card["task_id"], key_of(card, "匿名投票"))
    await answered(world, toggled, "aibot_respond_update_msg")
    updates = len(world.emu.frames)
    await world.emu.deliver(toggled, "aibot_event_callback")  # WeCom repeats the press
    await world.emu.wait_for(lambda: len(world.emu.frames) > updates, timeout=30)
    card = card_now(world)
    assert "第 7/8 步" in step(card)
    secret = next(b["text"] for b in card["button_list"] if "匿名" in b["text"])
    assert secret.startswith("✅"), secret  # switched on once, not back off
