"""A grid on WeCom schedules its 协商议事日 with `@议事 /meeting … 范围=全部`: the card is the
answer in the grid's group and is posted in its two WeCom building groups, except the one the
bot was added back to (WeCom refuses to post there until someone writes to the bot again):
the grid worker is told which, and what to do. Residents answer 参加 / 请假 on the card (each
press answered within 5 s with the card as it is now), the grid worker sees who answered in
his card only, the reminder at its time reaches every group (the one told about too, once
someone there @-mentioned the bot), and /minutes after the meeting is published in them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.services.actors import ChatKind, Place
from emulators.wecom.replies import Issued
from emulators.wecom.server import Frame
from emulators.wecom.world import Place as WeComPlace
from emulators.wecom.world import Seen
from tests.e2e_wecom.conftest import BUILDING_GROUP, STAFF_CHAT, SUPERADMIN, World

GRID_GROUP = "wrGrid0002"
OTHER_BUILDING = "wrBuilding0005"
GRID, BUILDING, OTHER = (
    WeComPlace("group", GRID_GROUP),
    WeComPlace("group", BUILDING_GROUP),
    WeComPlace("group", OTHER_BUILDING),
)
# zhangsan: the grid worker; lisi, wangwu: residents of 3号楼; zhaoliu, sunqi: of 5号楼.


async def answered(world: World, issued: Issued, cmd: str = "aibot_respond_msg") -> Frame:
    frame = await world.emu.wait_for_frame(cmd, req_id=issued.req_id, timeout=5)
    assert frame.errcode == 0, frame
    return frame


def seen(world: World, userid: str, place: WeComPlace) -> list[Seen]:
    return world.emu.world.seen_by(userid, place)


def cards(world: World, userid: str, place: WeComPlace) -> list[dict[str, Any]]:
    return [s.card for s in seen(world, userid, place) if s.card is not None]


def texts(world: World, userid: str, place: WeComPlace) -> list[str]:
    return [s.text or "" for s in seen(world, userid, place) if s.card is None]


def buttons(card: dict[str, Any]) -> dict[str, str]:
    return {button["text"]: button["key"] for button in card["button_list"]}


async def press(world: World, userid: str, card: dict[str, Any], label: str) -> dict[str, Any]:
    """``userid`` presses ``label`` on ``card``: answered within WeCom's 5 s; the card as
    ``userid`` sees it then."""
    pressed = await world.emu.press_button(userid, card["task_id"], buttons(card)[label])
    frame = await answered(world, pressed, "aibot_respond_update_msg")
    assert frame.at - pressed.at < 5
    bubble = world.emu.world.card(world.emu.world.bot("aib_yishi"), card["task_id"])
    shown = bubble.card_seen_by(userid)
    assert shown is not None
    return shown


async def answer_to(world: World, userid: str, chatid: str, text: str) -> str:
    """What the bot answered ``userid``'s ``@议事 text`` in ``chatid`` (its first answer)."""
    frame = await answered(world, await world.emu.mention(userid, chatid, text))
    content: str = frame.body.get("markdown", {}).get("content", "")
    return content


async def a_wecom_grid_with_two_wecom_buildings(world: World) -> None:
    emu, services = world.emu, world.services
    emu.add_person("sunqi", "孙七")
    emu.add_group(GRID_GROUP, "第二网格工作群", ["zhangsan"])
    emu.world.group(BUILDING_GROUP).members.remove("zhaoliu")
    emu.add_group(OTHER_BUILDING, "5号楼居民群", ["zhaoliu", "sunqi"])
    staff = Place(STAFF_CHAT, ChatKind.GROUP)
    code = await services.orgs.issue_code(SUPERADMIN, staff, "第二网格", "grid")
    await answered(world, await emu.mention("zhangsan", GRID_GROUP, f"/bind {code.code}"))
    grid = Place(await world.chat_id(GRID_GROUP), ChatKind.GROUP)
    worker = await world.yishi_id("zhangsan")
    await services.roles.grant(SUPERADMIN, grid, worker, "grid_worker")
    for name, chatid, userid in (
        ("3号楼", BUILDING_GROUP, "lisi"),
        ("5号楼", OTHER_BUILDING, "zhaoliu"),
    ):
        made = await emu.mention("zhangsan", GRID_GROUP, f"/newbuilding {name}")
        await answered(world, made)
        issued = re.findall(r"`/bind (\w+)`", texts(world, "zhangsan", GRID)[-1])
        assert issued, texts(world, "zhangsan", GRID)[-1]
        await answered(world, await emu.mention(userid, chatid, f"/bind {issued[0]}"))
        assert "第二网格" in texts(world, userid, WeComPlace("group", chatid))[-1]


async def test_a_grid_meeting_on_wecom_from_the_announcement_to_the_minutes(
    world: World,
) -> None:
    emu = world.emu
    await a_wecom_grid_with_two_wecom_buildings(world)
    emu.readd_bot(OTHER_BUILDING)  # WeCom will not let the bot post there for now

    scheduled = await emu.mention(
        "zhangsan", GRID_GROUP, "/meeting 2026-12-03 19:00 协商议事日 地点=社区活动室 范围=全部"
    )
    await answered(world, scheduled)
    (card,) = cards(world, "zhangsan", GRID)
    assert card["card_type"] == "button_interaction"
    assert "协商议事日" in card["main_title"]["title"]
    assert "社区活动室" in card["sub_title_text"]
    assert set(buttons(card)) == {"参加", "请假", "👥 回复名单"}
    (announced,) = await emu.wait_for(lambda: cards(world, "lisi", BUILDING))
    assert announced["main_title"]["title"] == card["main_title"]["title"]
    assert cards(world, "zhaoliu", OTHER) == []

    # The grid worker learns, in his group, which group was not reached and what to do.
    def told() -> str | None:
        return next((t for t in texts(world, "zhangsan", GRID) if "没能发到" in t), None)

    unreached = await emu.wait_for(told)
    assert "5号楼" in unreached and "3号楼" not in unreached
    assert "@议事" in unreached
    assert any("已在 3 个群发布" in t for t in texts(world, "zhangsan", GRID))

    # RSVPs on the card: each press shows the counts to the whole group at once.
    after = await press(world, "lisi", announced, "参加")
    assert "参加 1 · 请假 0" in after["main_title"]["desc"]
    after = await press(world, "wangwu", announced, "请假")
    assert "参加 1 · 请假 1" in after["main_title"]["desc"]
    after = await press(world, "lisi", announced, "请假")  # she changed her mind
    assert "参加 0 · 请假 2" in after["main_title"]["desc"]
    assert cards(world, "wangwu", BUILDING)[-1] == after  # everyone in 3号楼 sees it

    # 👥: the names for the grid worker only; a resident is told why not, on her card only.
    names = await press(world, "zhangsan", card, "👥 回复名单")
    assert "请假（2）" in names["sub_title_text"] and "lisi" in names["sub_title_text"]
    assert "只有你" in names["main_title"]["desc"]
    refused = await press(world, "wangwu", announced, "👥 回复名单")
    assert "网格" in refused["main_title"]["desc"], refused
    assert cards(world, "lisi", BUILDING)[-1] == after

    # Someone in 5号楼 @-mentions the bot, as the grid worker was asked to arrange.
    listed = await answer_to(world, "zhaoliu", OTHER_BUILDING, "/meetings")
    assert "#1 **协商议事日** — 2026-12-03 19:00（周四）" in listed, listed
    assert "参加 0 · 请假 2" in listed
    detail = await answer_to(world, "zhangsan", GRID_GROUP, "/meetings 1")
    assert "地点：社区活动室" in detail and "提醒：会前 1天, 1小时" in detail, detail

    # The 24-hour reminder reaches every group, 5号楼's too; nobody is told of a failure.
    world.clock.advance(timedelta(days=1, hours=10, minutes=1))  # 2 Dec 19:01 in Shanghai
    await world.services.timers.run_due()
    await world.channel.settle()
    for userid, place in (("zhangsan", GRID), ("wangwu", BUILDING), ("sunqi", OTHER)):
        reminder = cards(world, userid, place)[-1]
        assert reminder["main_title"]["title"].startswith("⏰"), reminder
    reminder = cards(world, "sunqi", OTHER)[-1]
    after = await press(world, "zhaoliu", reminder, "参加")
    assert "参加 1 · 请假 2" in after["main_title"]["desc"]
    assert sum("没能发到" in t for t in texts(world, "zhangsan", GRID)) == 1

    # The meeting starts: a late press is told replies are closed, for the presser only.
    world.clock.advance(timedelta(days=1))
    await world.services.timers.run_due()
    await world.channel.settle()
    late = await press(world, "sunqi", reminder, "参加")
    assert "截止" in late["main_title"]["desc"], late

    # /minutes after the meeting: recorded, and published in the three groups.
    recorded = await emu.mention(
        "zhangsan", GRID_GROUP, "/minutes 1 到会 15 人，通过了楼道照明更换方案。"
    )
    await answered(world, recorded)
    assert "发布到 3 个群" in texts(world, "zhangsan", GRID)[-1]
    await world.channel.settle()
    for userid, place in (("lisi", BUILDING), ("sunqi", OTHER)):
        minutes = texts(world, userid, place)[-1]
        assert "会议纪要" in minutes and "楼道照明更换方案" in minutes, minutes


async def test_meeting_commands_on_wecom_say_what_to_type(world: World) -> None:
    await a_wecom_grid_with_two_wecom_buildings(world)
    said = await answer_to(world, "zhangsan", GRID_GROUP, "/meeting")
    assert "一行写完" in said and "/meeting 2026-12-15 19:00" in said
    said = await answer_to(world, "zhangsan", GRID_GROUP, "/meeting 明年某天 议事")
    assert "不是会议时间" in said and "每月15日 19:00" in said
    said = await answer_to(world, "lisi", BUILDING_GROUP, "/meeting 2026-12-03 19:00 楼栋会")
    assert "楼栋" in said
    assert cards(world, "zhangsan", GRID) == [] and cards(world, "lisi", BUILDING) == []

    await answered(
        world, await world.emu.mention("zhangsan", GRID_GROUP, "/meeting 每月15日 19:00 议事日")
    )
    said = await answer_to(world, "zhangsan", GRID_GROUP, "/cancelmeeting 1")
    assert "/cancelmeeting 1 本次" in said and "/cancelmeeting 1 全部" in said
    said = await answer_to(world, "zhangsan", GRID_GROUP, "/cancelmeeting 1 明天")
    assert "/cancelmeeting 编号 本次" in said
    said = await answer_to(world, "zhangsan", GRID_GROUP, "/cancelmeeting 1 本次")
    assert "已取消会议 #1" in said and "下一次：2027-01-15 19:00" in said
    said = await answer_to(world, "zhangsan", GRID_GROUP, "/agenda 1 讨论电动车充电桩")
    assert "会议 #1 的议程" in said
    said = await answer_to(world, "lisi", BUILDING_GROUP, "/agenda 1 讨论垃圾分类")
    assert "第二网格" in said  # the grid's meeting: its officers add to it in its group
    said = await answer_to(world, "zhangsan", GRID_GROUP, "/minutes 开得很好")
    assert "/minutes 编号 纪要内容" in said
    said = await answer_to(world, "zhangsan", GRID_GROUP, "/cancelmeeting 1 全部")
    assert "以后不再召开" in said
