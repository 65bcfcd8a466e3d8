"""The words people read (issue 13, item 6), seen as they see them, on SQLite and PostgreSQL:
/help without the operator's secret-ballot paragraph (a secret topic says it itself), bind-code
refusals without 请请, 楼栋/网格/社区 instead of 节点, examples that parse as written, the
export's caption saying what opens the files, and an escalated matter's state.
"""

from __future__ import annotations

from datetime import timedelta

from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.topics import publish, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    code_in,
    community,
)

OPERATOR_NOTE_ZH = "运维人员"
OPERATOR_NOTE_EN = "operator"


async def test_help_leaves_out_the_operator_paragraph_and_a_secret_topic_says_it(
    both: Harness,
) -> None:
    h = both
    await community(h)
    group_help = (await h.say(BUILDING_CHAT, RESIDENT, "/help")).text or ""
    assert "/register" in group_help  # it is the help
    assert "无记名" not in group_help and OPERATOR_NOTE_ZH not in group_help
    await h.say(RESIDENT, RESIDENT, "/lang en")
    private_help = (await h.say(RESIDENT, RESIDENT, "/help")).text or ""
    assert "/help" in private_help or "/start" in private_help
    assert "ecret" not in private_help and OPERATOR_NOTE_EN not in private_help

    secret = await publish(h, "选举业委会候选人 匿名=是 期限=3天")
    text = secret.text or ""
    assert "🔒 无记名投票" in text and "管理员也看不到" in text
    assert "截止时，选票与投票人的关联即被删除" in text and OPERATOR_NOTE_ZH in text
    open_vote = await publish(h, "更换楼道灯 期限=3天")
    assert "无记名" not in (open_vote.text or "") and OPERATOR_NOTE_ZH not in (open_vote.text or "")

    await h.say(BUILDING_CHAT, GRID_WORKER, "/lang en")
    english = await publish(h, "Choose the committee secret=yes deadline=3d")
    assert "🔒 Secret ballot" in (english.text or "")
    assert OPERATOR_NOTE_EN in (english.text or "")


async def test_bind_code_refusals_ask_once(both: Harness) -> None:
    h = both
    await community(h)
    code = code_in((await h.say(STAFF_CHAT, STAFF, "/newgrid 第二网格")).text)
    await h.group(-2001, "第二网格群", admins=[STAFF])
    await h.say(-2001, STAFF, f"/bind {code}")
    await h.group(-2002, "另一个群", admins=[STAFF])
    used = (await h.say(-2002, STAFF, f"/bind {code}")).text or ""
    assert used.endswith("请上级群重新生成一个。") and "请请" not in used

    code = code_in((await h.say(STAFF_CHAT, STAFF, "/newgrid 第三网格")).text)
    h.clock.advance(timedelta(hours=24, minutes=1))
    expired = (await h.say(-2002, STAFF, f"/bind {code}")).text or ""
    assert "已过期" in expired and "请请" not in expired


async def test_stats_and_audit_say_building_grid_community(both: Harness) -> None:
    h = both
    await community(h)
    grid = (await h.say(GRID_CHAT, GRID_WORKER, "/stats")).text or ""
    assert grid.startswith("📊 网格 第一网格 统计（含下级 1 个楼栋）")
    staff = (await h.say(STAFF_CHAT, STAFF, "/stats")).text or ""
    assert staff.startswith("📊 社区 幸福社区 统计（含下级 1 个网格、1 个楼栋）")
    assert "节点" not in grid + staff

    unknown = (await h.say(STAFF_CHAT, SUPERADMIN, "/audit 范围=第九网格")).text or ""
    assert "没有名为或编号为“第九网格”的楼栋、网格或社区" in unknown and "节点" not in unknown
    found = (await h.say(STAFF_CHAT, SUPERADMIN, "/audit 范围=第一网格")).text or ""
    assert "筛选：范围 第一网格（含下级）" in found

    await h.say(GRID_CHAT, GRID_WORKER, "/lang en")
    english = (await h.say(GRID_CHAT, GRID_WORKER, "/stats")).text or ""
    assert english.startswith(
        "📊 grid 第一网格: statistics (with everything below it: buildings: 1)"
    )


async def test_examples_in_refusals_parse_as_written(both: Harness) -> None:
    """What a refusal shows as the way to write it is accepted when written so."""
    h = both
    await community(h)
    refused = (await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic 加装电梯 期限=很久")).text or ""
    assert "<code>" not in refused and "3天" in refused and "3d" not in refused
    ballot = await publish(h, "加装电梯 期限=3天")
    assert "截止" in (ballot.text or "")
    extended = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/extend {topic_id(ballot)} 1天")
    assert "已延期" in (extended.text or "")
    usage = (await h.say(GRID_CHAT, GRID_WORKER, "/sla")).text or ""
    assert "/sla 3天" in usage
    sla = (await h.say(STAFF_CHAT, STAFF, "/sla 三天半")).text or ""
    assert "处理时限已设为 3天12小时" in sla, sla


async def test_an_empty_list_says_who_publishes(both: Harness) -> None:
    h = both
    await community(h)
    listing = (await h.say(BUILDING_CHAT, RESIDENT, "/topics")).text or ""
    assert "楼栋长、网格员等管理员可以用 /topic 发布" in listing and "官员" not in listing


async def test_the_export_caption_says_what_opens_the_files(both: Harness) -> None:
    h = both
    await community(h)
    ballot = await publish(h, "更换楼道灯 期限=1小时")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.pass_time(timedelta(hours=2))
    first = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/export {topic_id(ballot)}")
    caption = first.caption or ""
    assert "表决记录（文本文件，可用记事本或手机直接打开）" in caption
    assert "Markdown" not in caption and "会议纪要" not in caption
    second = await h.emu.wait_for_bot_message(BUILDING_CHAT, after=first.message_id)
    assert second.document is not None
    assert second.document["file_name"] == f"topic-{topic_id(ballot)}.txt"


async def test_a_matter_sent_further_up_says_so(both: Harness) -> None:
    h = both
    await community(h)
    ballot = await publish(h, "是否在东门设置快递柜 期限=1小时")
    number = topic_id(ballot)
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    await h.pass_time(timedelta(hours=1))  # a tie: up to the grid
    sent = (await h.say(GRID_CHAT, GRID_WORKER, f"/escalate {number} 涉及多个网格")).text
    assert "社区" in (sent or ""), sent
    await h.settle()  # the announcements of the hop are out before the question
    result = (await h.say(GRID_CHAT, GRID_WORKER, f"/result {number}")).text or ""
    assert "已上报上级" in result and "已再上报" not in result
