"""A building group on WeCom: bound with /bind, a topic published with `@议事 /topic`, three
people vote on its card (each press answered with the new tally within WeCom's 5 s), and at
the deadline the outcome arrives in the group as a proactive message."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.services.actors import ChatKind, Place
from emulators.wecom.replies import Issued
from emulators.wecom.server import Frame
from emulators.wecom.world import Place as WeComPlace
from emulators.wecom.world import Seen
from storage.records import Platform
from storage.tables import topics
from tests.auxil.starvation import Starvation
from tests.e2e_wecom.conftest import BUILDING_GROUP, SUPERADMIN, World, published

GROUP = WeComPlace("group", BUILDING_GROUP)
ANSWER_WITHIN = 5.0  # s: WeCom's time to answer a card press with the card's update
PRESS_PATIENCE = 60.0  # s: how long the emulator waits before refusing a late answer


def last_seen(world: World, userid: str) -> Seen:
    return world.emu.world.seen_by(userid, GROUP)[-1]


async def answered(
    world: World,
    issued: Issued,
    cmd: str = "aibot_respond_msg",
    timeout: float = 5.0,  # noqa: ASYNC109
) -> Frame:
    frame = await world.emu.wait_for_frame(cmd, req_id=issued.req_id, timeout=timeout)
    assert frame.errcode == 0, frame
    return frame


async def bound_with_a_building_head(world: World) -> None:
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, f"/bind {world.building_code}")
    await answered(world, issued)
    said = last_seen(world, "lisi").text or ""
    assert "3号楼" in said and "第一网格" in said, said
    building = Place(await world.chat_id(BUILDING_GROUP), ChatKind.GROUP)
    head = await world.yishi_id("zhangsan")
    await world.services.roles.grant(SUPERADMIN, building, head, "building_head")


async def a_bound_group_with_a_topic(world: World, topic: str) -> dict[str, Any]:
    """The building group bound, its head's ``/topic <topic>`` published: the vote card its
    residents see."""
    await bound_with_a_building_head(world)
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, f"/topic {topic}")
    await published(world, issued)
    card = last_seen(world, "lisi").card
    assert card is not None
    return card


async def test_a_wecom_group_binds_votes_on_a_card_and_hears_the_outcome(world: World) -> None:
    await bound_with_a_building_head(world)
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, "/topic 加装电梯 期限=3d")
    await published(world, issued)
    card = last_seen(world, "wangwu").card
    assert card is not None and card["card_type"] == "vote_interaction"
    assert card["main_title"]["title"].endswith("加装电梯")
    options = {o["text"]: o["id"] for o in card["checkbox"]["option_list"]}
    assert list(options) == ["同意", "反对", "弃权"]
    task_id = card["task_id"]

    for userid, choice, tally in (
        ("lisi", "同意", "同意：1 · 反对：0 · 弃权：0"),
        ("wangwu", "同意", "同意：2 · 反对：0 · 弃权：0"),
        ("zhaoliu", "反对", "同意：2 · 反对：1 · 弃权：0"),
    ):
        pressed = await world.emu.submit_vote(userid, task_id, [options[choice]])
        frame = await answered(world, pressed, "aibot_respond_update_msg")
        assert frame.at - pressed.at < 5  # within WeCom's window for a card update
        seen = last_seen(world, "zhangsan").card  # everyone sees the new tally
        assert seen is not None and tally in seen["main_title"]["desc"], seen
    # WeCom tells a bot no group's size: the card counts the votes, claims no share of a roll
    desc = seen["main_title"]["desc"]
    assert "已投 3 · 意见 0 条" in desc and "应投" not in desc, desc

    world.clock.advance(timedelta(days=3, minutes=1))
    await world.services.timers.run_due()
    await world.channel.settle()
    outcome = last_seen(world, "lisi")
    assert outcome.msgtype == "markdown" and outcome.sender == "bot:aib_yishi"
    text = outcome.text or ""
    assert "加装电梯" in text and "已结束" in text
    assert "同意：2 · 反对：1 · 弃权：0" in text, text
    assert "参与：3 人（不知道群里共有多少人，不计参与率）" in text and "%" not in text, text


async def test_a_quorum_is_refused_where_the_groups_size_is_not_known(world: World) -> None:
    await bound_with_a_building_head(world)
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, "/topic 加装电梯 法定人数=50%")
    await answered(world, issued)
    said = last_seen(world, "zhangsan")
    assert "无法按“法定人数”计票" in (said.text or "") and "按户=是" in (said.text or ""), said
    assert not any(seen.card for seen in world.emu.world.seen_by("lisi", GROUP))
    async with world.services.database.transaction() as repos:  # nothing was created
        assert (
            await repos.connection.execute(select(func.count()).select_from(topics))
        ).scalar() == 0


async def test_a_nudge_where_the_groups_size_is_not_known_counts_no_missing_votes(
    world: World,
) -> None:
    card = await a_bound_group_with_a_topic(world, "更换门禁 期限=3d")
    pressed = await world.emu.submit_vote("lisi", card["task_id"], ["o0"])
    await answered(world, pressed, "aibot_respond_update_msg")
    topic_id = card["submit_button"]["key"].split(":")[1]
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, f"/nudge {topic_id}")
    await answered(world, issued)
    await world.channel.settle()
    nudges = [
        seen.text or ""
        for seen in world.emu.world.seen_by("wangwu", GROUP)
        if "⏰" in (seen.text or "")
    ]
    assert nudges and "还没投票的请尽快投票" in nudges[-1] and "票未投" not in nudges[-1], nudges


async def test_a_residents_first_press_records_them_with_their_ballot_in_one_commit(
    world: World,
) -> None:
    card = await a_bound_group_with_a_topic(world, "加装电梯 期限=3d")
    await world.channel.settle()
    database = world.services.database
    async with database.transaction() as repos:  # lisi never wrote to the bot
        assert await repos.users.identity(Platform.WECOM, "lisi") is None
    committed = database.group.transactions

    first = await world.emu.submit_vote("lisi", card["task_id"], ["o0"])
    await answered(world, first, "aibot_respond_update_msg")
    seen = last_seen(world, "zhangsan").card
    assert seen is not None and "同意：1 · 反对：0 · 弃权：0" in seen["main_title"]["desc"]
    # Recorded by the ballot's own transaction: their press waited for one commit, not two.
    assert database.group.transactions == committed + 1
    async with database.transaction() as repos:
        assert await repos.users.identity(Platform.WECOM, "lisi") is not None

    # Their next press changes the same ballot (the same person), again in one commit.
    again = await world.emu.submit_vote("lisi", card["task_id"], ["o1"])
    await answered(world, again, "aibot_respond_update_msg")
    seen = last_seen(world, "zhangsan").card
    assert seen is not None and "同意：0 · 反对：1 · 弃权：0" in seen["main_title"]["desc"]
    assert database.group.transactions == committed + 2


async def test_a_press_after_the_close_is_answered_for_the_presser_only(world: World) -> None:
    card = await a_bound_group_with_a_topic(world, "更换门禁 期限=1d")
    world.clock.advance(timedelta(days=1, minutes=1))
    await world.services.timers.run_due()
    await world.channel.settle()
    late = await world.emu.submit_vote("lisi", card["task_id"], ["o0"])
    await answered(world, late, "aibot_respond_update_msg")
    bubble = world.emu.world.card(world.emu.world.bot("aib_yishi"), card["task_id"])
    told = bubble.card_seen_by("lisi")
    assert told is not None and "已结束" in told["main_title"]["desc"]
    assert told["checkbox"]["disable"] is True
    assert bubble.card_seen_by("wangwu") == bubble.card  # the others' card unchanged


async def test_a_refused_command_is_explained_with_telegrams_words(world: World) -> None:
    await bound_with_a_building_head(world)
    issued = await world.emu.mention("lisi", BUILDING_GROUP, "/topic 私自发起 期限=3d")
    await answered(world, issued)
    said = last_seen(world, "lisi").text or ""
    assert "管理员" in said or "楼栋长" in said, said
    assert last_seen(world, "lisi").card is None
    # /help lists what each may use here: /topic for the building head, not for lisi.
    help_ = await world.emu.mention("lisi", BUILDING_GROUP, "/help")
    await answered(world, help_)
    assert "@议事 /topic —" not in (last_seen(world, "lisi").text or "")
    help_ = await world.emu.mention("zhangsan", BUILDING_GROUP, "/help")
    await answered(world, help_)
    assert "@议事 /topic —" in (last_seen(world, "zhangsan").text or "")


async def test_a_burst_of_presses_is_each_answered_in_time_and_counted_once(
    world: World,
) -> None:
    await bound_with_a_building_head(world)
    residents = [f"resident{n:02d}" for n in range(60)]
    for userid in residents:
        world.emu.add_person(userid, userid)
        world.emu.world.group(BUILDING_GROUP).members.append(userid)
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, "/topic 楼道粉刷 期限=3d")
    await published(world, issued)
    card = last_seen(world, "lisi").card
    assert card is not None
    # Each within WeCom's 5 s, plus what a loaded machine kept this process from running
    # (tests/auxil/starvation.py): the emulator waits that long too before refusing an answer.
    world.emu.behaviour.event_answer_window = PRESS_PATIENCE
    async with Starvation() as starved:
        presses = await asyncio.gather(
            *(
                world.emu.submit_vote(userid, card["task_id"], ["o0" if n % 3 else "o1"])
                for n, userid in enumerate(residents)
            )
        )
        frames = await asyncio.gather(
            *(
                answered(world, press, "aibot_respond_update_msg", PRESS_PATIENCE)
                for press in presses
            )
        )
    waits = [frame.at - press.at for frame, press in zip(frames, presses, strict=True)]
    assert max(waits) < ANSWER_WITHIN + starved.seconds, (max(waits), starved.seconds)
    again = await world.emu.submit_vote("resident01", card["task_id"], ["o0"])  # a second press
    await answered(world, again, "aibot_respond_update_msg")
    shown = last_seen(world, "zhangsan").card
    assert shown is not None and "同意：40 · 反对：20 · 弃权：0" in shown["main_title"]["desc"]


async def test_a_group_language_chosen_between_two_presses_shows_on_the_next_card(
    world: World,
) -> None:
    # The second press's sender and group were recorded a moment before, and are not
    # written again; the language they were read with must not outlive the /lang.
    card = await a_bound_group_with_a_topic(world, "楼道照明 期限=3d")
    first = await world.emu.submit_vote("lisi", card["task_id"], ["o0"])
    await answered(world, first, "aibot_respond_update_msg")
    shown = last_seen(world, "lisi").card
    assert shown is not None and shown["submit_button"]["text"] == "投票"
    lang = await world.emu.mention("zhangsan", BUILDING_GROUP, "/lang en")
    await answered(world, lang)
    assert last_seen(world, "lisi").text == "This group's language is now English."
    second = await world.emu.submit_vote("lisi", card["task_id"], ["o1"])
    await answered(world, second, "aibot_respond_update_msg")
    bubble = world.emu.world.card(world.emu.world.bot("aib_yishi"), card["task_id"])
    shown = bubble.card_seen_by("wangwu")
    assert shown is not None and shown["submit_button"]["text"] == "Vote"
    assert "Voted 1 · 0 opinions" in shown["main_title"]["desc"]
