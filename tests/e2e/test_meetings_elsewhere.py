"""Meetings in English, on PostgreSQL, and scheduled step by step (the guided /meeting)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from channels.telegram.meetings import wizard as meeting_wizard
from emulators.telegram import EmuMessage
from storage.tables import meetings
from tests.auxil.harness import Harness
from tests.auxil.meetings import answers, reminders, schedule, texts
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


async def test_meetings_in_english(h_en: Harness) -> None:
    h = h_en
    await community(h)
    note = await schedule(
        h, "monthly first-wed 19:00 Building council place=Hall remind=2h,30m holiday=shift"
    )
    text = note.text or ""
    assert text.startswith("📅 Meeting #1 Building council")
    assert "When: 2026-12-02 19:00 (Wed)" in text and "Place: Hall" in text
    assert "Repeats: monthly on the first Wednesday at 19:00" in text
    assert note.button_texts() == ["Attend", "Can't come", "👥 Who replied"]
    assert (await h.press(BUILDING_CHAT, note.message_id, RESIDENT, "Attend"))["text"] == (
        "Noted: Attend"
    )
    changed = await h.press(BUILDING_CHAT, note.message_id, RESIDENT, "Can't come")
    assert changed["text"] == "Changed to: Can't come"
    await h.settle()
    assert answers(h.emu.message(BUILDING_CHAT, note.message_id)) == (0, 1)

    listed = await h.say(BUILDING_CHAT, NEIGHBOUR, "/meetings")
    assert "#1 Building council — 2026-12-02 19:00 (Wed), monthly on the first Wednesday" in (
        listed.text or ""
    )
    await h.pass_time(timedelta(hours=32))  # 2026-12-02 17:00: two hours before
    (reminder,) = reminders(h, BUILDING_CHAT)
    assert "⏰ Reminder: meeting #1 Building council" in (reminder.text or "")
    assert "Starts in 2 h." in (reminder.text or "")

    await h.pass_time(timedelta(hours=2))  # it starts; the next is planned
    listed = await h.say(BUILDING_CHAT, NEIGHBOUR, "/meetings")
    assert "2027-01-06 19:00 (Wed)" in (listed.text or "")
    assert "does not cover 2027" in (listed.text or "")
    minutes = await h.say(
        BUILDING_CHAT,
        BUILDING_HEAD,
        "/minutes Agreed to repaint the hall.",
        reply_to=note.message_id,
    )
    assert "The minutes of meeting #1 are recorded" in (minutes.text or "")
    sent = h.emu.send_media(
        BUILDING_CHAT,
        BUILDING_HEAD,
        "document",
        b"%PDF-1.4",
        caption="/minutes 1",
        filename="sign-in.pdf",
    )
    await h.emu.wait_for_bot_message(BUILDING_CHAT, after=sent.message_id)
    await h.settle()
    published = texts(h, BUILDING_CHAT, "Minutes of meeting #1 Building council")
    assert [bool(m.document) for m in published] == [False, True]
    uploaded = h.emu.message(BUILDING_CHAT, sent.message_id).document
    assert uploaded is not None and published[1].document is not None
    assert published[1].document["file_id"] == uploaded["file_id"]  # sent on, not re-uploaded

    asked = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/cancelmeeting 1")
    assert asked.button_texts() == ["Only 2027-01-06 19:00 (Wed)", "The whole series", "Keep it"]
    await h.press(BUILDING_CHAT, asked.message_id, BUILDING_HEAD, "The whole series")
    await h.settle()
    assert "with the whole series" in (h.emu.message(BUILDING_CHAT, asked.message_id).text or "")

    bad = {
        "/meeting weekly funday 19:00 Council": "Unknown weekday “funday”",
        "/meeting 2027-02-30 19:00 Council": "There is no such day as “2027-02-30”",
        "/meeting 2026-12-15 19:61 Council": "“19:61” is not a valid time",
        "/meeting 2026-12-15 19:00 Council link=javascript:alert(1)": "is not a web link",
        "/meeting 2026-11-01 19:00 Council": "has passed",
    }
    for command, expected in bad.items():
        answer = await h.say(BUILDING_CHAT, BUILDING_HEAD, command)
        assert expected in (answer.text or ""), (command, answer.text)
    assert await count(h, rows(meetings)) == 1


async def test_a_meeting_on_postgresql(h_pg: Harness) -> None:
    h = h_pg
    await community(h)
    note = await schedule(h, "2026-12-02 19:00 楼栋议事会 提醒=1h")
    await h.press(BUILDING_CHAT, note.message_id, RESIDENT, "参加")
    await h.stop_bot()
    h.clock.advance(timedelta(hours=33, minutes=30))  # 18:30: the reminder is late
    await h.start_bot()
    await h.settle()
    (late,) = reminders(h, BUILDING_CHAT)
    assert "迟发" in (late.text or "") and answers(late) == (1, 0)
    await h.pass_time(timedelta(hours=1))
    await h.say(BUILDING_CHAT, BUILDING_HEAD, "/minutes 1 到会 8 人。")
    await h.settle()
    assert len(texts(h, BUILDING_CHAT, "会议纪要 #1")) == 1


# ---- the guided /meeting -------------------------------------------------------------------


async def press(h: Harness, chat: int, wizard: EmuMessage, user: int, button: str) -> EmuMessage:
    answer = await h.press(chat, wizard.message_id, user, button)
    assert not answer["show_alert"], answer
    return h.emu.message(chat, wizard.message_id)


async def test_an_officer_schedules_a_meeting_step_by_step(h: Harness) -> None:
    await community(h)
    start = await h.say(GRID_CHAT, GRID_WORKER, "/meeting")
    assert "第 1/6 步" in (start.text or "") and start.button_texts() == ["✖️ 取消"]
    asked = await h.say(GRID_CHAT, GRID_WORKER, "协商议事日", reply_to=start.message_id)
    assert "第 2/6 步" in (asked.text or "") and "名称：协商议事日" in (asked.text or "")
    wrong = await h.say(GRID_CHAT, GRID_WORKER, "每周八 19:00")
    assert "不认识的星期“八”" in (wrong.text or "") and "第 2/6 步" in (wrong.text or "")
    asked = await h.say(GRID_CHAT, GRID_WORKER, "每月第一个周三 19:00")
    assert "第 3/6 步" in (asked.text or "") and asked.button_texts() == ["跳过", "✖️ 取消"]
    wizard = await h.say(GRID_CHAT, GRID_WORKER, "社区活动室")
    assert "第 4/6 步" in (wizard.text or "")
    assert wizard.button_texts() == [
        "会前 24 小时和 1 小时",
        "会前 1 小时",
        "会前 24 小时",
        "不提醒",
        "✖️ 取消",
    ]
    h.emu.add_member(GRID_CHAT, RESIDENT)
    refused = await h.press(GRID_CHAT, wizard.message_id, RESIDENT, "会前 1 小时")
    assert refused["show_alert"] and "别人正在填写" in refused["text"]
    wizard = await press(h, GRID_CHAT, wizard, GRID_WORKER, "会前 1 小时")
    assert wizard.button_texts() == [
        "⬜ 在所有下级群发布",
        "⬜ 节假日顺延",
        "下一步 ➡️",
        "✖️ 取消",
    ]
    wizard = await press(h, GRID_CHAT, wizard, GRID_WORKER, "⬜ 在所有下级群发布")
    wizard = await press(h, GRID_CHAT, wizard, GRID_WORKER, "下一步 ➡️")
    text = wizard.text or ""
    assert "第 6/6 步" in text and "每月第一个周三 19:00" in text and "地点：社区活动室" in text
    assert "提醒：会前 1小时" in text and "在所有下级群发布" in text
    schedule_button = wizard.button("📅 安排")["callback_data"]
    wizard = await press(h, GRID_CHAT, wizard, GRID_WORKER, "📅 安排")
    assert "已安排会议 #1 协商议事日" in (wizard.text or "") and wizard.button_texts() == []
    await h.settle()
    (note,) = texts(h, GRID_CHAT, "📅 会议 #1 协商议事日")
    assert "时间：2026-12-02 19:00（周三）" in (note.text or "")
    assert texts(h, BUILDING_CHAT, "📅 会议 #1 协商议事日")  # scope: all
    again = h.emu.press_callback(GRID_CHAT, wizard.message_id, GRID_WORKER, schedule_button)
    assert (await h.emu.wait_for_answer(again))["show_alert"]  # a second press is stale
    assert await count(h, rows(meetings)) == 1


async def test_the_guided_meeting_is_for_officers_and_can_be_cancelled_or_time_out(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await community(h)
    refused = await h.say(BUILDING_CHAT, RESIDENT, "/meeting")
    assert "只有本楼栋的管理员" in (refused.text or "")
    start = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/meeting")
    cancelled = await press(h, BUILDING_CHAT, start, BUILDING_HEAD, "✖️ 取消")
    assert "没有安排会议" in (cancelled.text or "")
    monkeypatch.setattr(meeting_wizard, "TIMEOUT_SECONDS", 0.2)
    start = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/meeting")
    await h.emu.wait_until(
        lambda: "很久没有回复" in (h.emu.message(BUILDING_CHAT, start.message_id).text or "")
    )
    # The officer's next words are conversation again, not a title.
    h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, "大家晚上好")
    await h.settle()
    assert await count(h, rows(meetings)) == 0
