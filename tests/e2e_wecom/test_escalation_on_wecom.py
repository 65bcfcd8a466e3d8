"""A matter travelling up a tree of WeCom groups: a building group sends a closed topic up
with `@议事 /escalate`, the grid group above it (on WeCom too) gets the escalation card, its
grid worker takes it on and decides it from the card's buttons and `@议事 /resolve`, the
decision comes back down to the building, whose residents rate it on the rating card. Each
press is answered with the card as it is now within WeCom's 5 s."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.services.actors import ChatKind, Place
from emulators.wecom.replies import Issued
from emulators.wecom.server import Frame
from emulators.wecom.world import Place as WeComPlace
from emulators.wecom.world import Seen
from tests.e2e_wecom.conftest import BUILDING_GROUP, STAFF_CHAT, SUPERADMIN, World, published

GRID_GROUP = "wrGrid0002"
GRID_PEOPLE = {"gridwang": "王网格", "gridhelper": "李协管"}
BUILDING = WeComPlace("group", BUILDING_GROUP)
GRID = WeComPlace("group", GRID_GROUP)


def seen(world: World, userid: str, place: WeComPlace) -> list[Seen]:
    return world.emu.world.seen_by(userid, place)


def last_seen(world: World, userid: str, place: WeComPlace) -> Seen:
    return seen(world, userid, place)[-1]


async def answered(world: World, issued: Issued, cmd: str = "aibot_respond_msg") -> Frame:
    frame = await world.emu.wait_for_frame(cmd, req_id=issued.req_id, timeout=5)
    assert frame.errcode == 0, frame
    return frame


async def pressed(world: World, userid: str, card: dict[str, Any], label: str) -> Frame:
    """``userid`` presses the button whose text starts with ``label``; the card update is
    taken (the emulator refuses one later than WeCom's 5 s)."""
    keys = [b["key"] for b in card["button_list"] if b["text"].startswith(label)]
    assert keys, [b["text"] for b in card["button_list"]]
    press = await world.emu.press_button(userid, card["task_id"], keys[0])
    return await answered(world, press, "aibot_respond_update_msg")


async def until(world: World, check: Callable[[], bool]) -> None:
    """Wait until what people see passes ``check`` (what an answer caused is sent after it)."""
    await world.emu.wait_for(check, timeout=30)
    await world.channel.settle()


def card_seen(world: World, userid: str, task_id: str) -> dict[str, Any]:
    bubble = world.emu.world.card(world.emu.world.bot("aib_yishi"), task_id)
    card = bubble.card_seen_by(userid)
    assert card is not None
    return card


def buttons(card: dict[str, Any]) -> list[str]:
    return [b["text"] for b in card["button_list"]]


@dataclass
class Tree:
    topic_id: int


async def wecom_grid_over_wecom_building(world: World) -> None:
    """A second grid whose group is on WeCom, and the building group bound under it with the
    code its grid worker asked for there."""
    for userid, name in GRID_PEOPLE.items():
        world.emu.add_person(userid, name)
    world.emu.add_group(GRID_GROUP, "第二网格群", list(GRID_PEOPLE))
    staff = Place(STAFF_CHAT, ChatKind.GROUP)
    code = await world.services.orgs.issue_code(SUPERADMIN, staff, "第二网格", "grid")
    await bound_by(world, "gridwang", GRID, code.code, "grid_worker")
    issued = await world.emu.mention("gridwang", GRID_GROUP, "/newbuilding 5号楼")
    await answered(world, issued)
    said = last_seen(world, "gridwang", GRID).text or ""
    match = re.search(r"/bind (\S+?)`", said)
    assert match is not None, said
    await bound_by(world, "zhangsan", BUILDING, match.group(1), "building_head")


async def bound_by(world: World, userid: str, group: WeComPlace, code: str, role: str) -> None:
    """``userid`` binds ``group`` with ``code`` (everyone there sees it joined 第二网格's
    tree) and is given ``role`` there."""
    bound = await world.emu.mention(userid, group.chatid, f"/bind {code}")
    await answered(world, bound)
    members = world.emu.world.group(group.chatid).members
    assert all("第二网格" in (last_seen(world, other, group).text or "") for other in members)
    place = Place(await world.chat_id(group.chatid), ChatKind.GROUP)
    await world.services.roles.grant(SUPERADMIN, place, await world.yishi_id(userid), role)


async def a_topic_sent_up(world: World) -> int:
    issued = await world.emu.mention("zhangsan", BUILDING_GROUP, "/topic 修缮屋顶 期限=1d")
    await published(world, issued)  # the ballot message, then its card
    ballot = last_seen(world, "lisi", BUILDING).card
    assert ballot is not None
    topic_id = int(ballot["main_title"]["title"].split()[0].lstrip("#"))
    for userid in ("lisi", "wangwu"):
        vote = await world.emu.submit_vote(userid, ballot["task_id"], ["o0"])
        await answered(world, vote, "aibot_respond_update_msg")
    world.clock.advance(timedelta(days=1, minutes=1))
    await world.services.timers.run_due()
    await world.channel.settle()
    sent = await world.emu.mention("zhangsan", BUILDING_GROUP, f"/escalate {topic_id} 需要网格协调")
    await answered(world, sent)
    await until(
        world,
        lambda: (
            any(s.card for s in seen(world, "gridwang", GRID))
            and "已上报网格" in (last_seen(world, "lisi", BUILDING).text or "")
        ),
    )
    said = [s.text or "" for s in seen(world, "lisi", BUILDING)[-2:]]
    assert f"已把 #{topic_id} 上报网格" in said[0] and "已上报网格 **第二网格**" in said[1], said
    return topic_id


def escalation_card(world: World, userid: str) -> dict[str, Any]:
    cards = [s.card for s in seen(world, userid, GRID) if s.card is not None]
    assert cards, seen(world, userid, GRID)
    card = cards[-1]
    assert card["card_type"] == "button_interaction"
    return card


async def test_a_matter_goes_up_is_decided_by_card_and_command_and_rated(world: World) -> None:
    await wecom_grid_over_wecom_building(world)
    topic_id = await a_topic_sent_up(world)

    card = escalation_card(world, "gridhelper")
    title = card["main_title"]["title"]
    assert f"#{topic_id}" in title and "修缮屋顶" in title
    assert "待受理" in card["main_title"]["desc"]
    assert "需要网格协调" in card["sub_title_text"] and "5号楼" in card["sub_title_text"]
    assert buttons(card) == ["受理", "发起网格表决", "解决", "上报社区"]
    task_id = card["task_id"]

    # A member who is no officer: told why, on their card only.
    await pressed(world, "gridhelper", card, "受理")
    refused = card_seen(world, "gridhelper", task_id)
    assert "网格" in refused["main_title"]["desc"] and "待受理" in refused["main_title"]["desc"]
    assert card_seen(world, "gridwang", task_id) == card

    await pressed(world, "gridwang", card, "受理")
    taken = card_seen(world, "gridhelper", task_id)  # everyone sees it taken on
    assert "已受理" in taken["main_title"]["desc"] and "gridwang" in taken["main_title"]["desc"]
    assert buttons(taken) == ["发起网格表决", "解决", "上报社区"]

    await pressed(world, "gridwang", taken, "解决")
    asked = card_seen(world, "gridwang", task_id)
    assert f"@议事 /resolve {topic_id}" in asked["main_title"]["desc"]
    assert card_seen(world, "gridhelper", task_id) == taken  # only the presser is told how

    decision = f"/resolve {topic_id} 下周一请物业修缮"
    decided = await world.emu.mention("gridwang", GRID_GROUP, decision)
    await answered(world, decided)
    await until(world, lambda: last_seen(world, "lisi", BUILDING).card is not None)
    assert f"#{topic_id}" in (last_seen(world, "gridwang", GRID).text or "")

    down = [s for s in seen(world, "lisi", BUILDING) if s.sender == "bot:aib_yishi"][-2:]
    assert down[0].msgtype == "markdown" and "下周一请物业修缮" in (down[0].text or "")
    rating = down[1].card
    assert rating is not None and buttons(rating) == ["满意", "基本满意", "不满意"]
    await pressed(world, "lisi", rating, "满意")
    rated = card_seen(world, "lisi", rating["task_id"])["main_title"]["desc"]
    assert "已记录你的评价：满意" in rated
    assert card_seen(world, "wangwu", rating["task_id"]) == rating  # a rating is private
    await pressed(world, "lisi", rating, "基本满意")
    again = card_seen(world, "lisi", rating["task_id"])["main_title"]["desc"]
    assert "已记录你的评价：基本满意" in again
    history = await world.services.escalation.history(topic_id)
    assert history.ratings == {"basically": 1}

    for news, reply, shown in (
        ("物业已进场施工", f"已发布 #{topic_id} 的进展。", "进展：\n物业已进场施工"),
        ("办结", f"已把 #{topic_id} 标记为办结。", "已办结"),
    ):
        issued = await world.emu.mention("gridwang", GRID_GROUP, f"/progress {topic_id} {news}")
        await answered(world, issued)
        await until(
            world, lambda text=shown: text in (last_seen(world, "wangwu", BUILDING).text or "")
        )
        assert reply in [s.text for s in seen(world, "gridhelper", GRID)]
        assert shown in (last_seen(world, "wangwu", BUILDING).text or "")

    # The old card, pressed after the decision, shows the matter as it is now.
    await pressed(world, "gridwang", taken, "解决")
    now = card_seen(world, "gridwang", task_id)
    assert "已解决" in now["main_title"]["desc"]
    assert buttons(now) == ["已办理，无需操作"]


async def test_a_grid_vote_opened_from_the_card_posts_its_ballot(world: World) -> None:
    await wecom_grid_over_wecom_building(world)
    topic_id = await a_topic_sent_up(world)
    card = escalation_card(world, "gridwang")

    await pressed(world, "gridwang", card, "发起网格表决")
    choosing = card_seen(world, "gridwang", card["task_id"])
    assert buttons(choosing) == ["本群表决", "全部楼栋表决", "↩️ 返回"]
    assert card_seen(world, "gridhelper", card["task_id"]) == card
    await pressed(world, "gridwang", choosing, "↩️ 返回")
    assert buttons(card_seen(world, "gridwang", card["task_id"])) == buttons(card)

    await pressed(world, "gridwang", card, "发起网格表决")
    await pressed(world, "gridwang", choosing, "全部楼栋表决")
    after = card_seen(world, "gridhelper", card["task_id"])
    assert "已受理" in after["main_title"]["desc"] and "新的表决" in after["main_title"]["desc"]

    def building_card() -> dict[str, Any] | None:
        cards = [s.card for s in seen(world, "wangwu", BUILDING) if s.card is not None]
        fresh = [c for c in cards if c.get("card_type") == "vote_interaction"]
        return fresh[-1] if fresh and "修缮屋顶" in fresh[-1]["main_title"]["title"] else None

    # The buildings vote on a card; the grid, which does not vote, is told in a message.
    await until(
        world,
        lambda: (
            building_card() is not None
            and any("修缮屋顶" in (s.text or "") for s in seen(world, "gridhelper", GRID))
        ),
    )
    ballot = building_card()
    assert ballot is not None and f"#{topic_id} " not in ballot["main_title"]["title"]
    assert not [
        s.card
        for s in seen(world, "gridhelper", GRID)
        if s.card and s.card.get("card_type") == "vote_interaction"
    ]

    await pressed(world, "gridwang", after, "上报社区")
    asked = card_seen(world, "gridwang", card["task_id"])["main_title"]["desc"]
    assert f"@议事 /escalate {topic_id} 上报原因" in asked and "上报社区" in asked
    sent = await world.emu.mention("gridwang", GRID_GROUP, f"/escalate {topic_id} 涉及多个网格")
    await answered(world, sent)
    await until(world, lambda: "幸福社区" in (last_seen(world, "gridhelper", GRID).text or ""))
    told = [s.text or "" for s in seen(world, "gridhelper", GRID)[-2:]]
    assert f"已把 #{topic_id} 上报社区" in told[0] and "幸福社区" in told[1], told
    await pressed(world, "gridwang", after, "上报社区")  # the card is the grid's no more
    gone = card_seen(world, "gridwang", card["task_id"])
    assert "已上报社区" in gone["main_title"]["desc"] and buttons(gone) == ["已办理，无需操作"]
