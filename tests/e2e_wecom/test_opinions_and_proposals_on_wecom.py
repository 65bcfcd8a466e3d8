"""Opinions and proposals on WeCom: a public opinion is a message that quotes the ballot and
@-mentions the bot; a private one is ``/opinion`` in the one-to-one chat, read by officers
with ``/result``; a resident's ``/propose`` is a card the officers accept (choosing the
category: the ballot follows) or decline (choosing the reason)."""

from __future__ import annotations

from bot.services.actors import ChatKind, Place
from emulators.wecom.world import Place as WeComPlace
from tests.e2e_wecom.conftest import BOT_ID, BUILDING_GROUP, SUPERADMIN, World
from tests.e2e_wecom.test_topic_on_wecom import (
    answered,
    bound_with_a_building_head,
    last_seen,
    published,
)

GROUP = WeComPlace("group", BUILDING_GROUP)


def private(userid: str) -> WeComPlace:
    return WeComPlace("single", userid, BOT_ID)


async def test_quoting_the_ballot_is_a_public_opinion_and_private_ones_reach_the_officers(
    world: World,
) -> None:
    await bound_with_a_building_head(world)
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, "/topic 加装电梯 期限=3d")
    await published(world, issued)
    ballot, card = world.emu.world.in_place(GROUP)[-2:]
    assert card.card is not None and ballot.text is not None

    on_card = await world.emu.quote("lisi", card, "电梯噪音要控制好")
    await answered(world, on_card)
    assert "已记录你对 #1 的公开意见" in (last_seen(world, "lisi").text or "")
    on_message = await world.emu.quote("wangwu", ballot, "支持，老人上下楼方便")
    await answered(world, on_message)
    assert "已记录你对 #1 的公开意见" in (last_seen(world, "wangwu").text or "")
    empty = await world.emu.quote("wangwu", card, "")
    await answered(world, empty)
    assert "意见" in (last_seen(world, "wangwu").text or "")  # why nothing was recorded
    assert "公开意见" not in (last_seen(world, "wangwu").text or "")

    said = await world.emu.write("zhaoliu", "/opinion 1 担心分摊费用太高")
    await answered(world, said)
    mine = world.emu.world.seen_by("zhaoliu", private("zhaoliu"))[-1]
    assert "已私下记录你对 #1 的意见" in (mine.text or ""), mine.text
    wrong = await world.emu.write("zhaoliu", "/opinion")
    await answered(world, wrong)
    mine = world.emu.world.seen_by("zhaoliu", private("zhaoliu"))[-1]
    assert "/opinion 12 你的意见" in (mine.text or ""), mine.text  # the usage line
    asking = await world.emu.write("wangwu", "/opinion 1")  # as Telegram's private link
    await answered(world, asking)
    asked = world.emu.world.seen_by("wangwu", private("wangwu"))[-1]
    assert "请发送你对议题 #1 加装电梯 的意见" in (asked.text or ""), asked.text
    answer = await world.emu.write("wangwu", "电梯要选节能的")
    await answered(world, answer)
    mine = world.emu.world.seen_by("wangwu", private("wangwu"))[-1]
    assert "已私下记录你对 #1 的意见" in (mine.text or ""), mine.text
    later = await world.emu.write("wangwu", "还有别的吗")  # asked once: no second opinion
    await answered(world, later)
    mine = world.emu.world.seen_by("wangwu", private("wangwu"))[-1]
    assert "已私下记录" not in (mine.text or "") and "/help" in (mine.text or ""), mine.text

    in_group = await world.emu.mention("lisi", BUILDING_GROUP, "/result 1")
    await answered(world, in_group)
    shown = last_seen(world, "lisi").text or ""
    assert "意见：公开 2 条，私下 2 条" in shown, shown
    assert "担心分摊费用太高" not in shown  # private opinions never in a group
    officer = await world.emu.write("zhangsan", "/result 1")
    await answered(world, officer)
    shown = world.emu.world.seen_by("zhangsan", private("zhangsan"))[-1].text or ""
    assert "私下意见" in shown and "担心分摊费用太高" in shown and "电梯要选节能的" in shown
    resident = await world.emu.write("lisi", "/result 1")
    await answered(world, resident)
    shown = world.emu.world.seen_by("lisi", private("lisi"))[-1].text or ""
    assert "担心分摊费用太高" not in shown, shown


async def test_a_proposal_is_accepted_on_its_card_and_its_ballot_follows(world: World) -> None:
    await bound_with_a_building_head(world)
    proposed = await world.emu.mention("lisi", BUILDING_GROUP, "/propose 在楼下装电动车充电桩")
    await answered(world, proposed)
    card = last_seen(world, "wangwu").card
    assert card is not None and card["card_type"] == "button_interaction"
    assert "lisi 提议" in card["sub_title_text"] and "充电桩" in card["sub_title_text"]
    keys = {button["text"]: button["key"] for button in card["button_list"]}
    assert list(keys) == ["✅ 受理", "❌ 不予受理"]
    task_id = card["task_id"]

    refused = await world.emu.press_button("lisi", task_id, keys["✅ 受理"])
    await answered(world, refused, "aibot_respond_update_msg")
    bubble = world.emu.world.card(world.emu.world.bot(BOT_ID), task_id)
    told = bubble.card_seen_by("lisi")
    assert told is not None and "只有本处的管理员" in told["main_title"]["desc"]
    assert bubble.card_seen_by("wangwu") == card  # the others' card unchanged

    choosing = await world.emu.press_button("zhangsan", task_id, keys["✅ 受理"])
    await answered(world, choosing, "aibot_respond_update_msg")
    card = last_seen(world, "wangwu").card
    assert card is not None and "请选择议题类别" in card["sub_title_text"]
    categories = {o["text"]: o["id"] for o in card["button_selection"]["option_list"]}
    assert "居民公共事务和公益事业" in categories
    keys = {button["text"]: button["key"] for button in card["button_list"]}
    back = await world.emu.press_button("zhangsan", task_id, keys["↩️ 返回"])
    await answered(world, back, "aibot_respond_update_msg")
    card = last_seen(world, "wangwu").card
    assert card is not None
    keys = {button["text"]: button["key"] for button in card["button_list"]}
    choosing = await world.emu.press_button("zhangsan", task_id, keys["✅ 受理"])
    await answered(world, choosing, "aibot_respond_update_msg")
    card = last_seen(world, "wangwu").card
    assert card is not None
    keys = {button["text"]: button["key"] for button in card["button_list"]}
    accepted = await world.emu.press_button(
        "zhangsan", task_id, keys["✅ 受理"], selection=categories["居民公共事务和公益事业"]
    )
    await answered(world, accepted, "aibot_respond_update_msg")
    await world.emu.wait_for(lambda: (last_seen(world, "wangwu").card or {}).get("checkbox"))
    decided = bubble.card_seen_by("wangwu")
    assert decided is not None and "已受理（zhangsan），发布为议题 #1" in decided["sub_title_text"]
    ballot = last_seen(world, "wangwu").card  # the new topic's card, to vote on
    assert ballot is not None and ballot["main_title"]["title"] == "#1 在楼下装电动车充电桩"
    assert "居民公共事务和公益事业" in (world.emu.world.seen_by("wangwu", GROUP)[-2].text or "")
    again = await world.emu.press_button("zhangsan", task_id, decided["button_list"][0]["key"])
    await answered(world, again, "aibot_respond_update_msg")
    told = bubble.card_seen_by("zhangsan")
    assert told is not None and "已经处理过了" in told["main_title"]["desc"]


async def test_a_declined_proposal_says_why_on_its_card(world: World) -> None:
    await bound_with_a_building_head(world)
    building = Place(await world.chat_id(BUILDING_GROUP), ChatKind.GROUP)
    officer = await world.yishi_id("zhaoliu")
    await world.services.roles.grant(SUPERADMIN, building, officer, "building_officer")
    proposed = await world.emu.mention("wangwu", BUILDING_GROUP, "/propose 让邻居把狗送走")
    await answered(world, proposed)
    card = last_seen(world, "lisi").card
    assert card is not None
    task_id = card["task_id"]
    keys = {button["text"]: button["key"] for button in card["button_list"]}
    choosing = await world.emu.press_button("zhaoliu", task_id, keys["❌ 不予受理"])
    await answered(world, choosing, "aibot_respond_update_msg")
    card = last_seen(world, "lisi").card
    assert card is not None and "请选择不予受理的原因" in card["sub_title_text"]
    reasons = {o["text"]: o["id"] for o in card["button_selection"]["option_list"]}
    assert len(reasons) == 6  # more than a card's buttons: a drop-down
    keys = {button["text"]: button["key"] for button in card["button_list"]}
    declined = await world.emu.press_button(
        "zhaoliu", task_id, keys["❌ 不予受理"], selection=reasons["个人之间的私人纠纷"]
    )
    await answered(world, declined, "aibot_respond_update_msg")
    card = last_seen(world, "lisi").card
    assert card is not None
    assert "不予受理（zhaoliu）：个人之间的私人纠纷" in card["sub_title_text"], card
    assert [button["text"] for button in card["button_list"]] == ["❌ 未受理"]
    listing = await world.emu.mention("lisi", BUILDING_GROUP, "/topics")
    await answered(world, listing)
    assert "还没有议题" in (last_seen(world, "lisi").text or "")  # nothing was published
