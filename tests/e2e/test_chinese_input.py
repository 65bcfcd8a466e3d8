"""Officers type Chinese, not codes: roles by their Chinese names, durations, dates and times
as people say them, areas with their units; on SQLite and on PostgreSQL, as a person would
type them into the group (the clock starts on Tuesday 2026-12-01 09:00 in Shanghai)."""

from __future__ import annotations

from sqlalchemy import select

from emulators.telegram import EmuMessage
from storage.tables import meetings, role_grants, topics
from tests.auxil.harness import Harness
from tests.auxil.meetings import schedule
from tests.auxil.topics import publish, request_registration, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    STAFF,
    community,
    count,
    rows,
)

ROLE_CODES = ("building_officer", "building_head", "grid_worker", "grid_head", "community_")


def text_of(message: EmuMessage) -> str:
    return message.text or ""


async def role_of(h: Harness, user: int) -> list[str]:
    async with h.services.database.transaction() as repos:
        result = await repos.connection.execute(
            select(role_grants.c.role).where(role_grants.c.user_id == user)
        )
    return sorted(row[0] for row in result)


async def test_roles_are_given_by_their_chinese_names(both: Harness) -> None:
    h = both
    await community(h)
    hello = h.emu.send_message(BUILDING_CHAT, RESIDENT, "我可以帮忙")
    officer = await h.say(
        BUILDING_CHAT, BUILDING_HEAD, "/role 楼栋管理员", reply_to=hello.message_id
    )
    assert "钱阿姨" in text_of(officer) and "楼栋管理员" in text_of(officer)
    assert await role_of(h, RESIDENT) == ["building_officer"]
    h.emu.send_message(BUILDING_CHAT, NEIGHBOUR, "我管卫生")
    # One of 一长多员's officers, by the name the community gives the post.
    hygiene = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/role {NEIGHBOUR} 卫生管理员")
    assert "楼栋管理员" in text_of(hygiene)
    head = await h.say(GRID_CHAT, STAFF, f"/role {GRID_WORKER} 网格长")
    assert "网格长" in text_of(head) and await role_of(h, GRID_WORKER) == ["grid_head"]
    listing = text_of(await h.say(BUILDING_CHAT, RESIDENT, "/roles"))
    assert "钱阿姨：楼栋管理员" in listing and "孙大爷：楼栋管理员" in listing
    assert "张网格：网格长" in listing and "李社工：社区工作人员" in listing
    assert not any(code in listing for code in ROLE_CODES)
    help_text = text_of(await h.say(BUILDING_CHAT, BUILDING_HEAD, "/help"))
    assert "/role 楼栋长" in help_text and "楼栋长" in help_text
    assert not any(code in help_text for code in ROLE_CODES), help_text

    mistaken = await h.say(
        BUILDING_CHAT, BUILDING_HEAD, "/unrole 网格员", reply_to=hello.message_id
    )
    assert "在这里是楼栋管理员，不是网格员" in text_of(mistaken)
    assert await role_of(h, RESIDENT) == ["building_officer"]
    who = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/unrole 楼栋管理员")
    assert "/unrole 楼栋管理员" in text_of(who) and await role_of(h, RESIDENT) != []
    revoked = await h.say(
        BUILDING_CHAT, BUILDING_HEAD, "/unrole 楼栋管理员", reply_to=hello.message_id
    )
    assert "已撤销" in text_of(revoked) and "楼栋管理员" in text_of(revoked)
    assert await role_of(h, RESIDENT) == []


async def test_role_refusals_speak_chinese_and_change_nothing(both: Harness) -> None:
    h = both
    await community(h)
    before = await count(h, rows(role_grants))
    hello = h.emu.send_message(BUILDING_CHAT, RESIDENT, "你好")
    unknown = text_of(
        await h.say(BUILDING_CHAT, BUILDING_HEAD, "/role 市长", reply_to=hello.message_id)
    )
    assert "没有“市长”这个角色" in unknown
    assert "楼栋管理员、楼栋长、网格员、网格长、社区工作人员、社区管理员" in unknown
    usage = text_of(await h.say(BUILDING_CHAT, BUILDING_HEAD, "/role", reply_to=hello.message_id))
    assert "/role 楼栋长" in usage and "网格员" in usage
    for refusal in (unknown, usage):
        assert not any(code in refusal for code in ROLE_CODES), refusal
    resident = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/role 居民", reply_to=hello.message_id)
    assert "没有角色的成员就是居民" in text_of(resident) and "/unrole" in text_of(resident)
    wrong_level = await h.say(BUILDING_CHAT, GRID_WORKER, "/role 网格员", reply_to=hello.message_id)
    assert "网格员角色不属于楼栋" in text_of(wrong_level)
    too_high = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/role 楼栋长", reply_to=hello.message_id)
    assert "你不能授予楼栋长" in text_of(too_high)
    assert await count(h, rows(role_grants)) == before


async def test_english_speakers_see_english_role_names_and_may_type_either(h_en: Harness) -> None:
    h = h_en
    await community(h)
    hello = h.emu.send_message(BUILDING_CHAT, RESIDENT, "hello")
    unknown = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/role mayor", reply_to=hello.message_id)
    assert "building officer, building head, grid worker" in text_of(unknown)
    by_words = await h.say(
        BUILDING_CHAT, BUILDING_HEAD, "/role building officer", reply_to=hello.message_id
    )
    assert "building officer" in text_of(by_words)
    assert await role_of(h, RESIDENT) == ["building_officer"]
    h.emu.send_message(BUILDING_CHAT, NEIGHBOUR, "hi")
    await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/role {NEIGHBOUR} 楼栋管理员")
    assert await role_of(h, NEIGHBOUR) == ["building_officer"]


async def test_topic_deadlines_and_extensions_in_chinese(both: Harness) -> None:
    h = both
    await community(h)
    evening = await publish(h, "加装电梯 期限=明天晚上7点")
    assert "截止：2026-12-02 19:00" in text_of(evening)
    next_week = await publish(h, "楼道照明 期限=下周三 19:00")
    assert "截止：2026-12-09 19:00" in text_of(next_week)
    dated = await publish(h, "停车方案 期限=12月15日下午3点")
    assert "截止：2026-12-15 15:00" in text_of(dated)
    three_days = await publish(h, "垃圾分类 期限=三天")
    assert "截止：2026-12-04 09:00" in text_of(three_days)
    extended = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/extend {topic_id(three_days)} 两小时")
    assert "新的截止时间：2026-12-04 11:00" in text_of(extended)
    half = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/extend {topic_id(three_days)} 1天半")
    assert "新的截止时间：2026-12-05 23:00" in text_of(half)

    before = await count(h, rows(topics))
    for typed, reason in {
        "/topic 题 期限=下周八 19:00": "星期不对",
        "/topic 题 期限=明天晚上25点": "钟点不对",
        "/topic 题 期限=13月5日 19:00": "没有“13月5日 19:00”这一天",
        "/topic 题 期限=明天": "缺少钟点",
        "/topic 题 期限=每月十五号晚上七点": "重复的时间",
        "/topic 题 期限=三十二点": "钟点不对",
    }.items():
        refused = await h.say(BUILDING_CHAT, BUILDING_HEAD, typed)
        assert reason in text_of(refused), (typed, text_of(refused))
    assert await count(h, rows(topics)) == before


async def test_meetings_at_times_said_in_chinese(both: Harness) -> None:
    h = both
    await community(h)
    cases = {
        "每月十五号晚上七点 协商议事日": "时间：2026-12-15 19:00（周二）",
        "每周五晚7点半 周例会": "时间：2026-12-04 19:30（周五）",
        "每月第一个周三晚上7点 月度会": "时间：2026-12-02 19:00（周三）",
        "下周三 19:00 楼栋议事会": "时间：2026-12-09 19:00（周三）",
        "明天晚上7点 临时会": "时间：2026-12-02 19:00（周三）",
        "12月15日下午3点 业委会": "时间：2026-12-15 15:00（周二）",
    }
    for typed, when in cases.items():
        note = await schedule(h, typed)
        assert when in text_of(note), (typed, text_of(note))
        assert typed.split()[-1] in text_of(note)
    assert await count(h, rows(meetings)) == len(cases)

    for typed, reason in {
        "/meeting 每月三十二号晚上七点 会": "不是每月的某一天",
        "/meeting 下周八 19:00 会": "不认识的星期“八”",
        "/meeting 13月5日 19:00 会": "没有“13月5日”这一天",
        "/meeting 明天晚上25点 会": "“晚上25点”不是有效的时间",
        "/meeting 明天 会": "“明天”后面缺少时间",
    }.items():
        refused = await h.say(BUILDING_CHAT, BUILDING_HEAD, typed)
        assert reason in text_of(refused), (typed, text_of(refused))
    assert await count(h, rows(meetings)) == len(cases)


async def press(h: Harness, chat: int, wizard: EmuMessage, user: int, button: str) -> EmuMessage:
    answer = await h.press(chat, wizard.message_id, user, button)
    assert not answer["show_alert"], answer
    return h.emu.message(chat, wizard.message_id)


async def test_the_guided_modes_take_chinese_free_text(both: Harness) -> None:
    h = both
    await community(h)
    start = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic")
    asked = await h.say(BUILDING_CHAT, BUILDING_HEAD, "加装电梯", reply_to=start.message_id)
    wizard = await press(h, BUILDING_CHAT, asked, BUILDING_HEAD, "跳过")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, wizard.button_texts()[0])
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "同意 / 反对 / 弃权")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "✏️ 自定义")
    wrong = await h.say(BUILDING_CHAT, BUILDING_HEAD, "下周八 19:00")
    assert "星期不对" in text_of(wrong)
    wizard = await h.say(BUILDING_CHAT, BUILDING_HEAD, "明天晚上7点半")
    assert "第 6/8 步" in text_of(wizard), text_of(wizard)
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "过半数通过")
    wizard = await press(h, BUILDING_CHAT, wizard, BUILDING_HEAD, "下一步 ➡️")
    assert "截止：2026-12-02 19:30" in text_of(wizard)

    start = await h.say(GRID_CHAT, GRID_WORKER, "/meeting")
    await h.say(GRID_CHAT, GRID_WORKER, "协商议事日", reply_to=start.message_id)
    wrong = await h.say(GRID_CHAT, GRID_WORKER, "每月三十二号晚上七点")
    assert "不是每月的某一天" in text_of(wrong) and "第 2/6 步" in text_of(wrong)
    asked = await h.say(GRID_CHAT, GRID_WORKER, "每周五晚7点半")
    assert "第 3/6 步" in text_of(asked)


async def test_areas_with_their_units(both: Harness) -> None:
    h = both
    await community(h)
    for user, typed in (
        (RESIDENT, "/register 2-502 89.5平方米"),
        (NEIGHBOUR, "/register 2-503 89.5平"),
        (BUILDING_HEAD, "/register 2-504 89.5㎡"),
        (GRID_WORKER, "/register 2-505 89.5 平方米"),
    ):
        h.emu.add_member(BUILDING_CHAT, user)
        unit = typed.split()[1]
        card = await request_registration(h, user, unit, typed.split(maxsplit=2)[2])
        line = next(line for line in text_of(card).splitlines() if unit in line)
        assert "89.5㎡" in line, (typed, text_of(card))
    refused = await h.say(BUILDING_CHAT, RESIDENT, "/register 2-502 89.5 多余")
    assert "用法" in text_of(refused)
