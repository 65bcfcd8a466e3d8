"""Flow 8: meetings scheduled, announced, answered, reminded, cancelled and minuted."""

from __future__ import annotations

from datetime import timedelta

from storage.tables import meeting_occurrences, meetings
from tests.auxil.harness import Harness
from tests.auxil.meetings import answers, meeting_number, reminders, schedule, texts
from tests.auxil.topics import publish, topic_id
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

PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def test_a_meeting_is_announced_answered_reminded_and_held(h: Harness) -> None:
    await community(h)
    note = await schedule(
        h, "2026-12-03 19:00 楼栋议事会 地点=一楼大厅 链接=https://meet.example.com/1"
    )
    text = note.text or ""
    assert text.startswith("📅 会议 #1 楼栋议事会")
    assert "时间：2026-12-03 19:00（周四）" in text and "地点：一楼大厅" in text
    assert "链接：https://meet.example.com/1" in text
    assert note.button_texts() == ["参加", "请假", "👥 回复名单"]

    assert (await h.press(BUILDING_CHAT, note.message_id, RESIDENT, "参加"))[
        "text"
    ] == "已记录：参加"
    assert (await h.press(BUILDING_CHAT, note.message_id, NEIGHBOUR, "请假"))[
        "text"
    ] == "已记录：请假"
    changed = await h.press(BUILDING_CHAT, note.message_id, RESIDENT, "请假")
    assert changed["text"] == "已改为：请假"
    same = await h.press(BUILDING_CHAT, note.message_id, RESIDENT, "请假")
    assert same["text"] == "你已经选了：请假" and not same["show_alert"]
    await h.settle()
    assert answers(h.emu.message(BUILDING_CHAT, note.message_id)) == (0, 2)

    await h.pass_time(timedelta(hours=34))  # 2026-12-02 19:00: a day before
    (day_before,) = reminders(h, BUILDING_CHAT)
    assert "⏰ 会议提醒 #1 楼栋议事会" in (day_before.text or "")
    assert "还有 1天 开始" in (day_before.text or "") and answers(day_before) == (0, 2)
    assert day_before.button_texts() == ["参加", "请假", "👥 回复名单"]
    assert h.emu.message(BUILDING_CHAT, note.message_id).button_texts() == []  # superseded

    await h.press(BUILDING_CHAT, day_before.message_id, RESIDENT, "参加")
    await h.pass_time(timedelta(hours=23))  # an hour before
    hour_before = reminders(h, BUILDING_CHAT)[-1]
    assert "还有 1小时 开始" in (hour_before.text or "") and answers(hour_before) == (1, 1)

    old_button = hour_before.button("参加")["callback_data"]
    await h.pass_time(timedelta(hours=1))  # it starts
    assert len(reminders(h, BUILDING_CHAT)) == 2
    for message in (note, day_before, hour_before):
        shown = h.emu.message(BUILDING_CHAT, message.message_id)
        assert "会议已经开始" in (shown.text or "") and shown.button_texts() == []
    query = h.emu.press_callback(BUILDING_CHAT, hour_before.message_id, NEIGHBOUR, old_button)
    late = await h.emu.wait_for_answer(query)
    assert late["show_alert"] and "回复已截止" in late["text"]


async def test_a_series_is_cancelled_once_then_entirely(h: Harness) -> None:
    await community(h)
    note = await schedule(
        h, "每月15日 19:00 网格议事会 节假日顺延=是", chat=GRID_CHAT, by=GRID_WORKER
    )
    assert "时间：2026-12-15 19:00（周二）" in (note.text or "")
    assert "重复：每月15日 19:00" in (note.text or "")
    listed = await h.say(GRID_CHAT, GRID_WORKER, "/meetings")
    assert "#1 网格议事会 — 2026-12-15 19:00（周二），每月15日 19:00 · 参加 0" in (
        listed.text or ""
    )
    await h.press(GRID_CHAT, note.message_id, GRID_WORKER, "参加")
    stale = note.button("参加")["callback_data"]

    asked = await h.say(GRID_CHAT, GRID_WORKER, "/cancelmeeting 1")
    assert "系列会议" in (asked.text or "")
    assert asked.button_texts() == [
        "只取消 2026-12-15 19:00（周二） 这一次",
        "取消整个系列",
        "不取消",
    ]
    await h.press(GRID_CHAT, asked.message_id, GRID_WORKER, "不取消")
    assert "照常进行" in (h.emu.message(GRID_CHAT, asked.message_id).text or "")

    asked = await h.say(GRID_CHAT, GRID_WORKER, "/cancelmeeting 1")
    refused = await h.press(
        GRID_CHAT, asked.message_id, RESIDENT, "只取消 2026-12-15 19:00（周二） 这一次"
    )
    assert refused["show_alert"]
    await h.press(
        GRID_CHAT, asked.message_id, GRID_WORKER, "只取消 2026-12-15 19:00（周二） 这一次"
    )
    await h.settle()
    done = h.emu.message(GRID_CHAT, asked.message_id).text or ""
    assert "已取消会议 #1 在 2026-12-15 19:00（周二） 的这一次" in done
    assert "下一次：2027-01-15 19:00（周五）" in done
    told = texts(h, GRID_CHAT, "这一次取消了")
    assert len(told) == 1 and told[0].reply_to_message_id == note.message_id
    shown = h.emu.message(GRID_CHAT, note.message_id)
    assert "本次会议已取消" in (shown.text or "") and shown.button_texts() == []
    query = h.emu.press_callback(GRID_CHAT, note.message_id, GRID_WORKER, stale)
    answer = await h.emu.wait_for_answer(query)
    assert answer["show_alert"] and "已经取消" in answer["text"]

    listed = await h.say(GRID_CHAT, GRID_WORKER, "/meetings")
    assert "2027-01-15 19:00（周五）" in (listed.text or "")
    assert "节假日数据不包含 2027 年" in (listed.text or "")  # the package's data ends in 2026

    await h.pass_time(timedelta(days=44, hours=10))  # 2027-01-14 19:00: a day before
    (reminder,) = reminders(h, GRID_CHAT)
    assert "2027-01-15 19:00" in (reminder.text or "")
    asked = await h.say(GRID_CHAT, GRID_WORKER, "/cancelmeeting 1")
    await h.press(GRID_CHAT, asked.message_id, GRID_WORKER, "取消整个系列")
    await h.settle()
    assert "以后不再召开" in (h.emu.message(GRID_CHAT, asked.message_id).text or "")
    told = texts(h, GRID_CHAT, "已取消：原定 2027-01-15")
    assert len(told) == 1 and told[0].reply_to_message_id == reminder.message_id
    assert (await h.say(GRID_CHAT, GRID_WORKER, "/meetings")).text == (
        "这里还没有安排会议。管理员可以用 /meeting 安排。"
    )
    await h.pass_time(timedelta(days=60))
    assert len(reminders(h, GRID_CHAT)) == 1
    assert await count(h, rows(meeting_occurrences)) == 2
    again = await h.say(GRID_CHAT, GRID_WORKER, "/cancelmeeting 1")
    assert "已经结束或取消" in (again.text or "")


async def test_a_grid_meeting_for_all_with_its_agenda_and_minutes_with_a_photo(
    h: Harness,
) -> None:
    await community(h)
    tied = await publish(h, "是否在东门设置快递柜 期限=1h")
    await h.press(BUILDING_CHAT, tied.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, tied.message_id, NEIGHBOUR, "反对")
    await h.pass_time(timedelta(hours=1))  # a tie: escalated to the grid
    linked = await publish(h, "加装电动车充电桩")
    number = topic_id(linked)

    note = await schedule(
        h,
        f"2026-12-05 19:00 网格协商会 范围=全部 议题=#{number}",
        chat=GRID_CHAT,
        by=GRID_WORKER,
    )
    told = texts(h, GRID_CHAT, "已在 2 个群发布")
    assert len(told) == 1
    agenda = note.text or ""
    assert f"1. ⬆️ 上报事项 #{topic_id(tied)} 是否在东门设置快递柜（来自 1号楼）" in agenda
    assert f"2. 📋 议题 #{number} 加装电动车充电桩" in agenda
    (below,) = texts(h, BUILDING_CHAT, "📅 会议 #1 网格协商会")

    added = await h.say(GRID_CHAT, GRID_WORKER, "/agenda 1 讨论楼道照明")
    assert "现在共 3 项" in (added.text or "")
    refused = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/agenda 1 讨论垃圾分类")
    assert "会议 #1 是网格 第一网格 的会议，请到那个群里处理" in (refused.text or "")
    await h.press(BUILDING_CHAT, below.message_id, RESIDENT, "参加")
    await h.settle()
    for chat, message in ((GRID_CHAT, note), (BUILDING_CHAT, below)):
        shown = h.emu.message(chat, message.message_id)
        assert "3. 讨论楼道照明" in (shown.text or "") and answers(shown) == (1, 0)

    early = await h.say(GRID_CHAT, GRID_WORKER, "/minutes 1 还没开会")
    assert "还没有开始" in (early.text or "")
    await h.pass_time(timedelta(days=4, hours=10))  # it has started

    caption = "/minutes 决定：楼道照明由物业本月内更换。"
    sent = h.emu.send_media(
        GRID_CHAT, GRID_WORKER, "photo", PHOTO, caption=caption, reply_to=note.message_id
    )
    recorded = await h.emu.wait_for_bot_message(GRID_CHAT, after=sent.message_id)
    assert "纪要已记录，并发布到 2 个群" in (recorded.text or "")
    await h.settle()
    for chat in (GRID_CHAT, BUILDING_CHAT):
        (published,) = texts(h, chat, "会议纪要 #1 网格协商会")
        assert published.photo and "楼道照明由物业本月内更换" in (published.caption or "")
    (under_topic,) = texts(h, BUILDING_CHAT, "的会议 #1 网格协商会 上讨论")
    assert f"本议题 #{number} 已在 2026-12-05 19:00（周六）" in (under_topic.text or "")
    assert under_topic.reply_to_message_id == linked.message_id

    elsewhere = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/minutes 1 楼栋的纪要")
    assert "会议 #1 是网格 第一网格 的会议" in (elsewhere.text or "")
    await h.pass_time(timedelta(days=2))
    assert texts(h, GRID_CHAT, "还没有会议纪要") == []


async def test_minutes_by_reply_and_the_reminder_when_there_are_none(h: Harness) -> None:
    await community(h)
    first = await schedule(h, "2026-12-02 19:00 一月会")
    second = await schedule(h, "2026-12-02 20:00 二月会")
    await h.pass_time(timedelta(days=1, hours=12))  # both have started
    typed = await h.say(
        BUILDING_CHAT,
        BUILDING_HEAD,
        "/minutes 到会 12 人，通过了车棚修缮方案。",
        reply_to=first.message_id,
    )
    assert "会议 #1 的纪要已记录" in (typed.text or "")
    await h.settle()
    (published,) = texts(h, BUILDING_CHAT, "会议纪要 #1 一月会")
    assert "到会 12 人" in (published.text or "")
    await h.pass_time(timedelta(days=1))
    due = texts(h, BUILDING_CHAT, "还没有会议纪要")
    assert len(due) == 1 and "#2 二月会" in (due[0].text or "")
    assert due[0].reply_to_message_id == second.message_id
    await h.restart()
    await h.pass_time(timedelta(days=3))
    assert len(texts(h, BUILDING_CHAT, "还没有会议纪要")) == 1


async def test_officers_see_who_answered_in_private(h: Harness) -> None:
    await community(h)
    note = await schedule(h, "2026-12-03 19:00 楼栋议事会")
    await h.press(BUILDING_CHAT, note.message_id, RESIDENT, "参加")
    await h.press(BUILDING_CHAT, note.message_id, NEIGHBOUR, "请假")
    resident = await h.press(BUILDING_CHAT, note.message_id, RESIDENT, "👥 回复名单")
    assert resident["show_alert"] and "管理员" in resident["text"]
    not_started = await h.press(BUILDING_CHAT, note.message_id, BUILDING_HEAD, "👥 回复名单")
    assert not_started["show_alert"] and "/start" in not_started["text"]
    await h.say(BUILDING_HEAD, BUILDING_HEAD, "/start")
    sent = await h.press(BUILDING_CHAT, note.message_id, BUILDING_HEAD, "👥 回复名单")
    assert sent["text"] == "回复名单已私信发给你。"
    await h.settle()
    private = h.last_bot_message(BUILDING_HEAD).text or ""
    assert "参加（1）：钱阿姨" in private and "请假（1）：孙大爷" in private
    group = await h.say(BUILDING_CHAT, RESIDENT, "/meetings 1")
    assert "钱阿姨" not in (group.text or "") and "参加 1 · 请假 1" in (group.text or "")
    mine = await h.say(BUILDING_HEAD, BUILDING_HEAD, "/meetings 1")
    assert "参加（1）：钱阿姨" in (mine.text or "")
    refused = await h.say(RESIDENT, RESIDENT, "/meetings 1")
    assert "管理员" in (refused.text or "")


async def test_bad_input_is_answered_and_nothing_is_created(h: Harness) -> None:
    await community(h)
    cases = {
        "/meeting 2026-11-30 19:00 议事会": "已经过去了",
        "/meeting 2027-02-30 19:00 议事会": "没有“2027-02-30”这一天",
        "/meeting 2026-12-15 25:00 议事会": "“25:00”不是有效的时间",
        "/meeting 每周八 19:00 议事会": "不认识的星期“八”",
        "/meeting 2026-12-15 19:00": "会议需要一个名称",
        "/meeting 2026-12-15 19:00 议事会 链接=ftp://example.com": "不是网址",
        "/meeting 2026-12-15 19:00 议事会 提醒=soon": "不是时长",
        "/meeting 2026-12-15 19:00 议事会 颜色=红": "不认识的设置项",
        "/meeting 每月32日 19:00 议事会": "1 到 31",
        "/meeting 明天 议事会": "“明天”后面缺少时间",
        "/meeting 后年 19:00 议事会": "不是会议时间",
        "/meeting 2026-12-15 19:00 议事会 范围=全部": "楼栋没有下级群",
        "/meeting 2026-12-15 19:00 议事会 议题=#99": "没有编号为 #99 的议题",
        "/meeting": None,  # the guided mode starts
    }
    for command, expected in cases.items():
        answer = await h.say(BUILDING_CHAT, BUILDING_HEAD, command)
        if expected is not None:
            assert expected in (answer.text or ""), (command, answer.text)
    resident = await h.say(BUILDING_CHAT, RESIDENT, "/meeting 2026-12-15 19:00 议事会")
    assert "只有本楼栋的管理员" in (resident.text or "")
    assert await count(h, rows(meetings)) == 0

    # Accepted, with the reminder that no longer fits skipped and said so.
    sent = h.emu.send_message(
        BUILDING_CHAT, BUILDING_HEAD, "/meeting 2026-12-01 20:00 临时会议 提醒=24h,1h"
    )
    said = await h.emu.wait_for_bot_message(
        BUILDING_CHAT, after=sent.message_id, predicate=lambda m: "不再发送" in (m.text or "")
    )
    assert "不足 1天" in (said.text or "")
    await h.pass_time(timedelta(hours=10))
    (reminder,) = reminders(h, BUILDING_CHAT)
    assert "还有 1小时 开始" in (reminder.text or "")
    assert await count(h, rows(meetings)) == 1

    grid_meeting = await schedule(h, "2026-12-09 19:00 网格会", chat=GRID_CHAT, by=GRID_WORKER)
    other = await h.say(
        BUILDING_CHAT, BUILDING_HEAD, f"/minutes {meeting_number(grid_meeting)} 纪要"
    )
    assert "第一网格" in (other.text or "")
    unknown = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/cancelmeeting 42")
    assert "没有编号为 #42 的会议" in (unknown.text or "")
    usage = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/minutes 临时会议开得很好")
    assert "用法" in (usage.text or "")
