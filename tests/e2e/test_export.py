"""/export <id>: the topic's full record as two documents, for officers only."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from emulators.telegram import EmuMessage
from tests.auxil.harness import Harness
from tests.auxil.topics import register_household
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    community,
)


async def publish(h: Harness, text: str) -> tuple[EmuMessage, int]:
    """The building head publishes ``/topic <text>``; the ballot message and the topic's id."""
    ballot = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/topic {text}")
    match = re.match(r"📋 #(\d+)", ballot.text or "")
    assert match, ballot.text
    return ballot, int(match.group(1))


async def registered(h: Harness, user: int, unit: str, area: str) -> None:
    await register_household(h, unit, area, user=user)


async def exported(
    h: Harness, chat: int, user: int, topic: int
) -> tuple[EmuMessage, list[list[str]], str]:
    """``/export`` sent by ``user``: the first document's message, the CSV rows, the minutes."""
    first = await h.say(chat, user, f"/export {topic}")
    assert first.document is not None, first.text
    second = await h.emu.wait_for_bot_message(chat, after=first.message_id)
    assert second.document is not None, second.text
    files = {
        str(message.document["file_name"]): h.emu.world.files[message.document["file_id"]].data
        for message in (first, second)
        if message.document is not None
    }
    assert set(files) == {f"topic-{topic}.csv", f"topic-{topic}.txt"}
    data = files[f"topic-{topic}.csv"]
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    record = files[f"topic-{topic}.txt"]
    assert record.startswith(b"\xef\xbb\xbf"), "old Notepad reads UTF-8 without a BOM as GBK"
    return first, rows, record.decode("utf-8-sig")


async def test_an_officer_exports_a_household_vote_with_its_offline_ballot(h: Harness) -> None:
    await community(h)
    await registered(h, RESIDENT, "2-502", "89.5")
    await registered(h, NEIGHBOUR, "3-101", "70")
    ballot, topic = await publish(h, "加装电梯 期限=2h 按户=yes")
    answer = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    assert answer["text"] == "已记录：同意"
    recorded = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/ballot {topic} 3-101 反对 方式=上门")
    assert "3-101" in (recorded.text or "")
    await h.say(BUILDING_CHAT, NEIGHBOUR, f"/opinion {topic} 希望选低噪音的电梯")
    await h.say(RESIDENT, RESIDENT, f"/opinion {topic} 担心分摊费用")

    refused = await h.say(BUILDING_CHAT, RESIDENT, f"/export {topic}")
    assert refused.document is None
    assert f"只有议题 #{topic} 所在处" in (refused.text or "")
    refused_privately = await h.say(RESIDENT, RESIDENT, f"/export {topic}")
    assert "只有议题" in (refused_privately.text or "")

    interim, rows, minutes = await exported(h, BUILDING_CHAT, BUILDING_HEAD, topic)
    assert "仍在进行中" in (interim.caption or "")
    assert "中期记录" in minutes and "中期结果（如果现在结束）" in minutes

    await h.pass_time(timedelta(hours=3))
    message, rows, minutes = await exported(h, BUILDING_CHAT, BUILDING_HEAD, topic)
    assert message.reply_to_message_id is not None
    assert f"#{topic}" in (message.caption or "") and "完整记录" in (message.caption or "")
    assert rows[0] == ["投票人", "户号", "面积（㎡）", "选项", "方式", "登记人", "时间"]
    assert rows[1][:6] == ["钱阿姨", "2-502", "89.5", "同意", "按钮", ""]
    assert rows[2][:6] == ["", "3-101", "70", "反对", "上门", "赵楼长"]
    assert rows[1][6] == "2026-12-01 09:00:00"  # local time (Asia/Shanghai)
    assert rows[3] == []
    summary = {row[0]: row[1] for row in rows if len(row) == 2}
    assert summary["同意"] == "1" and summary["反对"] == "1" and summary["弃权"] == "0"
    assert summary["已投 / 应投"] == "2 / 2"
    assert summary["结果"] == "未决（平票）"
    assert summary["上门票数"] == "1"
    assert ["钱阿姨", "2026-12-01 09:00:00", "希望选低噪音的电梯"] not in rows
    assert any(row[0] == "孙大爷" and row[2] == "希望选低噪音的电梯" for row in rows if row)
    # Private opinions stay out of a group.
    assert "担心分摊费用" not in minutes and ["担心分摊费用"] not in rows
    assert "# 表决记录：#" in minutes and "加装电梯" in minutes
    assert "| 同意 | 1 | 50.0% |" in minutes and "| 反对 | 1 | 50.0% |" in minutes
    assert "| 上门 | 1 |" in minutes
    assert "- **截止时间**：2026-12-01 11:00" in minutes
    assert "- **结束时间**：2026-12-01 12:00" in minutes  # closed when the timer ran

    _, private_rows, private_minutes = await exported(h, BUILDING_HEAD, BUILDING_HEAD, topic)
    assert ["担心分摊费用"] in private_rows and "- 担心分摊费用" in private_minutes
    assert "钱阿姨" not in private_rows[private_rows.index(["内容"]) + 1]


async def test_a_secret_ballot_export_names_no_voter(h: Harness) -> None:
    await community(h)
    await registered(h, RESIDENT, "2-502", "89.5")
    await registered(h, NEIGHBOUR, "3-101", "70.25")
    ballot, topic = await publish(h, "更换物业 期限=2h 按户=yes 匿名=yes")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "反对")
    await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/ballot {topic} 3-101 同意 方式=纸质")
    await h.pass_time(timedelta(hours=3))
    _, rows, minutes = await exported(h, BUILDING_CHAT, GRID_WORKER, topic)
    assert rows[0] == ["投票人", "选项", "方式", "登记人", "时间"]
    assert rows[1:3] == [["匿名", "同意", "", "", ""], ["匿名", "反对", "", "", ""]]
    text = "\n".join(",".join(row) for row in rows)
    for forbidden in ("钱阿姨", "孙大爷", "赵楼长", "2-502", "3-101", "89.5", "70.25"):
        assert forbidden not in text, forbidden
    for forbidden in ("钱阿姨", "孙大爷", "2-502", "3-101", "89.5", "70.25"):
        assert forbidden not in minutes, forbidden
    assert "无记名投票" in minutes and "| 纸质 | 1 |" in minutes


async def test_where_export_works_and_in_which_language(h: Harness) -> None:
    await community(h)
    ballot, topic = await publish(h, "周末大扫除 期限=2h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    # The grid's chat sees its buildings' topics; the grid worker is an officer above.
    _, rows, _ = await exported(h, GRID_CHAT, GRID_WORKER, topic)
    assert rows[0] == ["投票人", "选项", "方式", "登记人", "时间"]
    assert rows[1][:3] == ["钱阿姨", "同意", "按钮"]
    unknown = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/export 999")
    assert "没有议题 #999" in (unknown.text or "")
    usage = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/export")
    assert "用法" in (usage.text or "")
    await h.say(BUILDING_CHAT, BUILDING_HEAD, "/lang en")
    message, rows, minutes = await exported(h, BUILDING_CHAT, BUILDING_HEAD, topic)
    assert "interim record" in (message.caption or "")
    assert rows[0] == ["Voter", "Option", "Channel", "Recorded by", "Time"]
    assert rows[1][:3] == ["钱阿姨", "同意", "button"]
    assert "# Vote record: #" in minutes and "| Option | Ballots | Share |" in minutes
