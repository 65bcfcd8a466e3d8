"""One community across both platforms the other way round: its grid group on WeCom, its
building groups on Telegram. A building's tie goes up to the WeCom grid, whose worker takes
it on and decides it from the escalation card and `@议事 /resolve`; the decision comes down
into the Telegram building group, where residents rate it with Telegram's buttons."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.services.actors import Actor, ChatKind, Place
from emulators.wecom.server import WeComEmulator
from emulators.wecom.world import Place as WeComPlace
from storage.records import FIRST_FOREIGN_ID, ChatType, Platform
from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.topics import publish, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    NEIGHBOUR,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    code_in,
    people,
)
from tests.e2e_mixed.conftest import answered

GRID_GROUP = "wrGrid0001"
GRID = WeComPlace("group", GRID_GROUP)


def grid_cards(wecom: WeComEmulator, userid: str) -> list[dict[str, Any]]:
    return [s.card for s in wecom.world.seen_by(userid, GRID) if s.card is not None]


async def press(wecom: WeComEmulator, userid: str, card: dict[str, Any], label: str) -> None:
    keys = [b["key"] for b in card["button_list"] if b["text"].startswith(label)]
    assert keys, [b["text"] for b in card["button_list"]]
    pressed = await wecom.press_button(userid, card["task_id"], keys[0])
    await answered(wecom, pressed.req_id, "aibot_respond_update_msg")


async def test_a_wecom_grid_decides_a_telegram_buildings_matter(
    both_channels: tuple[Harness, WeComEmulator],
) -> None:
    h, wecom = both_channels
    wecom.add_group(GRID_GROUP, "第一网格群", ["zhangsan", "lisi"])
    people(h)
    await h.group(STAFF_CHAT, "幸福社区工作群", members=[STAFF], admins=[SUPERADMIN])
    await h.say(STAFF_CHAT, SUPERADMIN, "/setup 幸福社区")
    issued = await h.say(STAFF_CHAT, SUPERADMIN, "/newgrid 第一网格")
    bound = await wecom.mention("zhangsan", GRID_GROUP, f"/bind {code_in(issued.text)}")
    await answered(wecom, bound.req_id, "aibot_respond_msg")
    # The grid worker's role, as /role gives it (on WeCom, by account).
    now = h.clock.now()
    async with h.services.database.transaction() as repos:
        grid_chat, _ = await repos.chats.seen_on(
            Platform.WECOM, GRID_GROUP, type=ChatType.GROUP, title=None, now=now
        )
        worker, _ = await repos.users.seen_on(Platform.WECOM, "zhangsan", name="张三", now=now)
    superadmin = Actor(SUPERADMIN, is_superadmin=True)
    await h.services.roles.grant(
        superadmin, Place(grid_chat, ChatKind.GROUP), worker, "grid_worker"
    )
    asked = await wecom.mention("zhangsan", GRID_GROUP, "/newbuilding 1号楼")
    await answered(wecom, asked.req_id, "aibot_respond_msg")
    code = code_in(wecom.world.seen_by("lisi", GRID)[-1].text)

    await h.group(
        BUILDING_CHAT,
        "1号楼议事群",
        members=[BUILDING_HEAD, RESIDENT, NEIGHBOUR],
        admins=[SUPERADMIN],
    )
    said = await h.say(BUILDING_CHAT, SUPERADMIN, f"/bind {code}")
    assert "第一网格" in (said.text or ""), said.text
    hello = h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, "我是楼栋长")
    await h.say(BUILDING_CHAT, SUPERADMIN, "/role building_head", reply_to=hello.message_id)

    ballot = await publish(h, "是否在东门设置快递柜 期限=1h")
    number = topic_id(ballot)
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    await h.pass_time(timedelta(hours=1))  # a tie: up to the grid, on WeCom
    await wecom.wait_for(lambda: bool(grid_cards(wecom, "lisi")), timeout=30)
    card = grid_cards(wecom, "lisi")[-1]
    assert f"#{number}" in card["main_title"]["title"], card["main_title"]
    assert "待受理" in card["main_title"]["desc"]

    await press(wecom, "zhangsan", card, "受理")
    taken = grid_cards(wecom, "lisi")[-1]
    assert "已受理" in taken["main_title"]["desc"], taken["main_title"]
    decision = "在西门设置快递柜，不占消防通道。"
    resolved = await wecom.mention("zhangsan", GRID_GROUP, f"/resolve {number} {decision}")
    await answered(wecom, resolved.req_id, "aibot_respond_msg")
    await h.settle()

    published = [m for m in h.emu.bot_messages(BUILDING_CHAT) if decision in (m.text or "")]
    assert len(published) == 1, [m.text for m in h.emu.bot_messages(BUILDING_CHAT)]
    assert published[0].button_texts() == ["满意", "基本满意", "不满意"]
    rated = await h.press(BUILDING_CHAT, published[0].message_id, RESIDENT, "满意")
    assert rated["text"] == "已记录你的评价：满意"
    # Telegram was never asked to post into (or ask about) the WeCom grid group.
    assert not [
        call
        for call in h.emu.calls
        if isinstance(call.params.get("chat_id"), int | str)
        and re.fullmatch(r"-?\d+", str(call.params["chat_id"]))
        and int(call.params["chat_id"]) >= FIRST_FOREIGN_ID
    ]
