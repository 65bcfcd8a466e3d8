"""Secret and hidden-tally topics, topics for every building below a grid, /topics and
/result on WeCom: what people see in their groups, as on Telegram."""

from __future__ import annotations

from datetime import timedelta

from bot.services.actors import ChatKind, Place
from emulators.wecom.server import Frame
from emulators.wecom.world import Place as WeComPlace
from emulators.wecom.world import Seen
from tests.e2e_wecom.conftest import BUILDING_GROUP, STAFF_CHAT, SUPERADMIN, World
from tests.e2e_wecom.test_topic_on_wecom import (
    answered,
    bound_with_a_building_head,
    last_seen,
    published,
)

GROUP = WeComPlace("group", BUILDING_GROUP)


def bot_said(world: World, userid: str, place: WeComPlace) -> str:
    """Everything the bot said to ``userid`` in ``place``, cards' titles included."""
    parts = []
    for seen in world.emu.world.seen_by(userid, place):
        if seen.sender.startswith("bot:"):
            parts.append(seen.text or "")
            if seen.card is not None:
                parts.append(str(seen.card.get("main_title", {})))
    return "\n".join(parts)


async def test_a_secret_topic_with_a_hidden_tally_shows_no_counts_until_the_close(
    world: World,
) -> None:
    await bound_with_a_building_head(world)
    issued = await world.emu.mention(
        "zhangsan", BUILDING_GROUP, "/topic 是否更换物业公司 匿名=是 隐藏结果=是 期限=1d"
    )
    await published(world, issued)
    ballot, card_seen = world.emu.world.seen_by("lisi", GROUP)[-2:]
    assert ballot.msgtype == "markdown"
    assert "无记名投票" in (ballot.text or "") and "票数截止后公布" in (ballot.text or "")
    assert "/opinion" in (ballot.text or "")  # how to give an opinion only officers read
    card = card_seen.card
    assert card is not None and card["card_type"] == "vote_interaction"
    assert "无记名" in card["main_title"]["desc"]
    assert "票数将在截止后公布" in card["main_title"]["desc"]
    number = card["main_title"]["title"].split()[0].lstrip("#")

    for userid, option in (("lisi", "o0"), ("wangwu", "o0"), ("zhaoliu", "o1")):
        pressed = await world.emu.submit_vote(userid, card["task_id"], [option])
        await answered(world, pressed, "aibot_respond_update_msg")
        shown = last_seen(world, "zhangsan").card
        assert shown is not None
        assert "同意：" not in shown["main_title"]["desc"], shown  # hidden until the close
        assert "票数将在截止后公布" in shown["main_title"]["desc"]
    result = await world.emu.mention("lisi", BUILDING_GROUP, f"/result {number}")
    await answered(world, result)
    said = last_seen(world, "lisi").text or ""
    assert "是否更换物业公司" in said and "进行中" in said and "同意：" not in said, said

    world.clock.advance(timedelta(days=1, minutes=1))
    await world.services.timers.run_due()
    await world.channel.settle()
    outcome = last_seen(world, "wangwu")
    assert outcome.msgtype == "markdown" and "已结束" in (outcome.text or "")
    assert "同意：2 · 反对：1 · 弃权：0" in (outcome.text or ""), outcome.text
    closed = world.emu.world.card(world.emu.world.bot("aib_yishi"), card["task_id"])
    assert "无记名" in closed.card["main_title"]["desc"]
    # Nobody is shown who voted what: no voter's name in anything the bot said.
    everything = bot_said(world, "zhangsan", GROUP)
    assert "lisi" not in everything and "zhaoliu" not in everything
    after = await world.emu.mention("zhaoliu", BUILDING_GROUP, f"/result {number}")
    await answered(world, after)
    said = last_seen(world, "zhaoliu").text or ""
    assert "同意：2 · 反对：1 · 弃权：0" in said and "lisi" not in said, said


async def test_topics_lists_the_groups_open_and_closed_topics(world: World) -> None:
    await bound_with_a_building_head(world)
    listing = await world.emu.mention("lisi", BUILDING_GROUP, "/topics")
    await answered(world, listing)
    assert "还没有议题" in (last_seen(world, "lisi").text or "")
    for text in ("/topic 更换门禁 期限=1d", "/topic 加装电梯 期限=3d"):
        await published(world, await world.emu.mention("zhangsan", BUILDING_GROUP, text))
    world.clock.advance(timedelta(days=1, minutes=1))
    await world.services.timers.run_due()
    await world.channel.settle()
    listing = await world.emu.mention("lisi", BUILDING_GROUP, "/topics")
    await answered(world, listing)
    said = last_seen(world, "lisi").text or ""
    assert "**进行中的议题**" in said and "加装电梯 — 截止 2026-12-04 09:00" in said, said
    assert "**最近结束的议题**" in said and "#1 更换门禁 — 未决（无人投票）" in said, said
    wrong = await world.emu.mention("lisi", BUILDING_GROUP, "/result")
    await answered(world, wrong)
    assert "/result 12" in (last_seen(world, "lisi").text or "")  # the usage line


async def test_a_topic_for_every_building_of_a_wecom_grid_is_voted_in_each(world: World) -> None:
    """A grid group on WeCom over two WeCom building groups: 范围=全部 posts the ballot in
    both buildings (the grid group is told where it went), the votes of both count together,
    and the outcome reaches both."""
    grid_group, other_group = "wrGrid0002", "wrBuilding0005"
    world.emu.add_group(grid_group, "第二网格工作群", ["zhangsan", "zhaoliu"])
    world.emu.add_group(other_group, "5号楼居民群", ["wangwu", "zhaoliu"])
    staff = Place(STAFF_CHAT, ChatKind.GROUP)
    grid_code = await world.services.orgs.issue_code(SUPERADMIN, staff, "第二网格", "grid")
    await answered(
        world, await world.emu.mention("zhangsan", grid_group, f"/bind {grid_code.code}")
    )
    grid = Place(await world.chat_id(grid_group), ChatKind.GROUP)
    head = await world.yishi_id("zhangsan")
    await world.services.roles.grant(SUPERADMIN, grid, head, "grid_worker")
    for group, name in ((BUILDING_GROUP, "3号楼"), (other_group, "5号楼")):
        code = await world.services.orgs.issue_code(SUPERADMIN, grid, name, "building")
        member = world.emu.world.group(group).members[0]
        await answered(world, await world.emu.mention(member, group, f"/bind {code.code}"))

    issued = await world.emu.mention(
        "zhangsan", grid_group, "/topic 小区停车收费 范围=全部 期限=2d"
    )
    # the ballot message, then where it went; the buildings' ballots (a message and a card
    # each) follow the answer
    await world.emu.wait_for(lambda: len(sent_to(world, issued.req_id)) == 2)
    await world.emu.wait_for(lambda: len(proactive(world)) == 4)
    told = world.emu.world.seen_by("zhaoliu", WeComPlace("group", grid_group))
    assert "到 2 个楼栋群" in (told[-1].text or ""), told[-1]
    assert all(seen.card is None for seen in told)  # nothing to vote on in the grid group
    assert "/opinion" in (told[-2].text or "")  # its officers may still give an opinion
    cards = {}
    for group, person in ((BUILDING_GROUP, "lisi"), (other_group, "wangwu")):
        seen = world.emu.world.seen_by(person, WeComPlace("group", group))
        ballot, card = seen[-2], seen[-1].card
        assert "全网格共同表决" in (ballot.text or ""), ballot.text
        assert card is not None and "全网格共同表决" in card["main_title"]["desc"]
        cards[group] = card
    pressed = await world.emu.submit_vote("lisi", cards[BUILDING_GROUP]["task_id"], ["o0"])
    await answered(world, pressed, "aibot_respond_update_msg")
    pressed = await world.emu.submit_vote("wangwu", cards[other_group]["task_id"], ["o1"])
    await answered(world, pressed, "aibot_respond_update_msg")
    shown = last_seen_in(world, "zhaoliu", other_group).card
    assert shown is not None and "同意：1 · 反对：1 · 弃权：0" in shown["main_title"]["desc"]

    world.clock.advance(timedelta(days=2, minutes=1))
    await world.services.timers.run_due()
    await world.channel.settle()
    for group, person in ((BUILDING_GROUP, "lisi"), (other_group, "wangwu")):
        outcome = last_seen_in(world, person, group)
        assert "小区停车收费" in (outcome.text or "") and "已结束" in (outcome.text or "")
        assert "同意：1 · 反对：1 · 弃权：0" in (outcome.text or ""), outcome.text


def proactive(world: World) -> list[Frame]:
    """The messages the bot sent of itself (aibot_send_msg)."""
    return [f for f in world.emu.frames if f.cmd == "aibot_send_msg"]


def sent_to(world: World, req_id: str) -> list[Frame]:
    """The answers to the message ``req_id``."""
    return [f for f in world.emu.frames if f.cmd == "aibot_respond_msg" and f.req_id == req_id]


def last_seen_in(world: World, userid: str, group: str) -> Seen:
    return world.emu.world.seen_by(userid, WeComPlace("group", group))[-1]
