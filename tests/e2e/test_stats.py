"""/stats for officers (a node and everything below it, last 30 days) and /audit for admins."""

from __future__ import annotations

from datetime import timedelta

from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.topics import publish, register_household, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    community,
)

OTHER_STAFF_CHAT = -2001


async def answer(h: Harness, chat: int, user: int, text: str) -> str:
    """Everything the bot says in the chat in answer to ``text`` (a long reply is split)."""
    await h.settle()  # earlier announcements must not be taken for the answer
    sent = h.emu.send_message(chat, user, text)
    await h.emu.wait_for_bot_message(chat, after=sent.message_id)
    await h.settle()
    replies = [m for m in h.emu.bot_messages(chat) if m.message_id > sent.message_id]
    return "\n".join(m.text or "" for m in replies)


async def refusal(h: Harness, chat: int, user: int, text: str) -> str:
    """A refused command gets exactly one message back, and nothing else happens."""
    await h.settle()
    sent = h.emu.send_message(chat, user, text)
    await h.emu.wait_for_bot_message(chat, after=sent.message_id)
    await h.settle()
    replies = [m for m in h.emu.bot_messages(chat) if m.message_id > sent.message_id]
    assert len(replies) == 1, [m.text for m in replies]
    return replies[0].text or ""


async def consultations(h: Harness) -> dict[str, int]:
    """Four building votes closing at 10:00: passed, rejected, a tie and one nobody voted on.

    The tie and the silent one go up to the grid at once. The grid resolves the tie 5 hours
    later and sends the silent one on to the community, which resolves it a day after that:
    1 d 5 h after it first went up. Median time to resolution: 17 h.
    """
    await community(h)
    passed = await publish(h, "更换楼道灯 期限=1h")
    rejected = await publish(h, "楼下摆摊 期限=1h")
    tied = await publish(h, "东门快递柜 期限=1h")
    silent = await publish(h, "楼顶晾衣架 期限=1h")
    for ballot, choices in (
        (passed, ("同意", "同意")),
        (rejected, ("反对", "反对")),
        (tied, ("同意", "反对")),
    ):
        for voter, choice in zip((RESIDENT, NEIGHBOUR), choices, strict=True):
            await h.press(BUILDING_CHAT, ballot.message_id, voter, choice)
    await h.settle()
    await h.pass_time(timedelta(hours=1))
    return {
        "passed": topic_id(passed),
        "rejected": topic_id(rejected),
        "tied": topic_id(tied),
        "silent": topic_id(silent),
    }


async def resolve_both(h: Harness, ids: dict[str, int]) -> None:
    await h.pass_time(timedelta(hours=5))
    resolved = await answer(h, GRID_CHAT, GRID_WORKER, f"/resolve {ids['tied']} 在西门设置快递柜")
    assert "已记录" in resolved
    sent = await answer(h, GRID_CHAT, GRID_WORKER, f"/escalate {ids['silent']} 需要社区统一协调")
    assert "上报社区" in sent
    await h.pass_time(timedelta(days=1))
    resolved = await answer(h, STAFF_CHAT, STAFF, f"/resolve {ids['silent']} 社区统一安装晾衣架")
    assert "已记录" in resolved


async def test_stats_for_the_building_the_grid_and_the_community(h: Harness) -> None:
    ids = await consultations(h)
    waiting = await answer(h, GRID_CHAT, GRID_WORKER, "/stats")
    assert "待处理的上报：2" in waiting
    assert "待处理的上报：0" in await answer(h, BUILDING_CHAT, BUILDING_HEAD, "/stats")
    await resolve_both(h, ids)

    building = (await answer(h, BUILDING_CHAT, BUILDING_HEAD, "/stats")).splitlines()
    assert building[0] == "📊 楼栋 1号楼 统计"
    assert building[1] == "近 30 天：2026-11-02 15:00 至 2026-12-02 15:00"
    assert building[2:] == [
        "",
        "议题：新发布 4 · 进行中 0 · 已结束 4",
        "• 通过：1",
        "• 未通过：1",
        "• 未决：2（平票 1 · 无人投票 1）",
        # Four members of the building chat were eligible for each of the four votes.
        "参与率：37.5%（6/16，4 个表决议题）",
        "",
        "上报：2 次",
        "• 平票：1",
        "• 无人投票：1",
        "待处理的上报：0",
        "解决用时中位数：17小时0分钟（已解决 2 件，从首次上报算起）",
    ]

    grid = (await answer(h, GRID_CHAT, GRID_WORKER, "/stats")).splitlines()
    assert grid[0] == "📊 网格 第一网格 统计（含下级 1 个楼栋）"
    # The grid also counts what it sent up itself.
    assert grid[8:] == [
        "",
        "上报：3 次",
        "• 平票：1",
        "• 无人投票：1",
        "• 管理员上报：1",
        "待处理的上报：0",
        "解决用时中位数：17小时0分钟（已解决 2 件，从首次上报算起）",
    ]
    assert grid[3:8] == building[3:8]

    staff = (await answer(h, STAFF_CHAT, STAFF, "/stats")).splitlines()
    assert staff[0] == "📊 社区 幸福社区 统计（含下级 1 个网格、1 个楼栋）"
    assert staff[2:] == grid[2:]

    # Thirty days on, all of it has left the window.
    await h.pass_time(timedelta(days=31))
    later = await answer(h, STAFF_CHAT, STAFF, "/stats")
    assert "议题：新发布 0 · 进行中 0 · 已结束 0" in later
    assert "参与率：—" in later and "上报：0 次" in later and "解决用时中位数：—" in later


async def test_stats_is_for_officers_of_the_node_in_its_group(h: Harness) -> None:
    await consultations(h)
    resident = await refusal(h, BUILDING_CHAT, RESIDENT, "/stats")
    assert resident == "只有楼栋 1号楼 的管理员（或更上级）可以查看统计。"
    # A building head is an officer of the building, not of the grid above it.
    h.emu.add_member(GRID_CHAT, BUILDING_HEAD)
    head = await refusal(h, GRID_CHAT, BUILDING_HEAD, "/stats")
    assert "只有网格 第一网格 的管理员" in head
    private = await refusal(h, BUILDING_HEAD, BUILDING_HEAD, "/stats")
    assert "已绑定的社区、网格或楼栋群" in private


async def test_stats_in_english(h_en: Harness) -> None:
    h = h_en
    await community(h)
    ballot = await publish(h, "Hallway lights 期限=1h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "Agree")
    await h.settle()
    await h.pass_time(timedelta(hours=1))
    text = await answer(h, BUILDING_CHAT, BUILDING_HEAD, "/stats")
    assert text.splitlines()[0] == "📊 building 1号楼: statistics"
    assert "• passed: 1" in text
    assert "Turnout: 25% (1/4; voting topics: 1)" in text
    assert "Median time to resolution: — (nothing was resolved in this period)" in text
    refused = await refusal(h, BUILDING_CHAT, RESIDENT, "/stats")
    assert refused == "Only officers of the building 1号楼 (or above) can see its statistics."


async def test_audit_lists_recent_rows_and_filters_by_node_and_user(h: Harness) -> None:
    ids = await consultations(h)
    await resolve_both(h, ids)

    everything = (await answer(h, STAFF_CHAT, SUPERADMIN, "/audit")).splitlines()
    assert everything[0].startswith("🗂 审计记录（最近 ")
    # Newest first; local time, who, what, where, and a short summary.
    assert everything[1] == (
        f"2026-12-02 15:00 · 李社工 (2) · 解决上报 · 幸福社区 · #{ids['silent']}"
    )
    assert (
        f"2026-12-01 15:00 · 张网格 (3) · 上报 · 幸福社区 · #{ids['silent']}, 管理员上报, "
        "来自 第一网格" in everything
    )
    assert (
        f"2026-12-01 10:00 · 系统 · 议题结束 · 1号楼 · #{ids['tied']}, 未决（平票）" in everything
    )
    assert (
        f"2026-12-01 09:00 · 赵楼长 (4) · 发布议题 · 1号楼 · #{ids['passed']}, «更换楼道灯», "
        "过半数通过" in everything
    )
    assert "2026-12-01 09:00 · 张网格 (3) · 授予角色 · 1号楼 · 对象 赵楼长, 楼栋长" in everything
    assert everything[-1] == "2026-12-01 09:00 · 王主任 (1) · 设立社区 · 幸福社区 · 幸福社区"

    building = (await answer(h, STAFF_CHAT, SUPERADMIN, "/audit node=1号楼")).splitlines()
    assert building[1] == "筛选：范围 1号楼（含下级）"
    assert len(building) > 3 and all(" · 1号楼 · " in line for line in building[2:])
    async with h.services.database.transaction() as repos:
        grid_node = await repos.orgs.node_of_chat(GRID_CHAT)
    assert grid_node is not None
    grid = (await answer(h, STAFF_CHAT, SUPERADMIN, f"/audit node=#{grid_node.id}")).splitlines()
    assert {line.split(" · ")[3] for line in grid[2:]} == {"第一网格", "1号楼"}

    head = (await answer(h, STAFF_CHAT, SUPERADMIN, f"/audit user={BUILDING_HEAD}")).splitlines()
    assert head[1] == f"筛选：用户 {BUILDING_HEAD}"
    # Rows by the head (four topics) and about them (their role).
    assert len(head) == 2 + 5
    assert all("赵楼长 (4)" in line or "对象 赵楼长" in line for line in head[2:])
    # The keys have Chinese names too.
    both = await answer(h, STAFF_CHAT, SUPERADMIN, f"/audit 范围=第一网格 用户={GRID_WORKER}")
    assert "李社工 (2) · 授予角色 · 第一网格 · 对象 张网格, 网格员" in both
    assert "设立社区" not in both and "赵楼长 (4) · 发布议题" not in both

    # In a private chat a super-admin sees every community.
    private = await answer(h, SUPERADMIN, SUPERADMIN, "/audit")
    assert "设立社区 · 幸福社区" in private


async def test_audit_refuses_bad_filters_and_people_who_are_not_admins(h: Harness) -> None:
    await community(h)
    await h.group(OTHER_STAFF_CHAT, "另一社区工作群", admins=[SUPERADMIN])
    await h.say(OTHER_STAFF_CHAT, SUPERADMIN, "/setup 另一社区")
    async with h.services.database.transaction() as repos:
        other = await repos.orgs.node_of_chat(OTHER_STAFF_CHAT)
    assert other is not None
    for command, expected in (
        ("/audit foo=1", "不认识筛选条件“foo”"),
        ("/audit node", "“node”不是筛选条件"),
        ("/audit user=李社工", "“李社工”不是用户编号"),
        ("/audit node=第九网格", "本社区没有名为或编号为“第九网格”的楼栋、网格或社区"),
        ("/audit node=另一社区", "本社区没有名为或编号为“另一社区”的楼栋、网格或社区"),
        (f"/audit node={other.id}", f"本社区没有名为或编号为“{other.id}”的楼栋、网格或社区"),
        ("/audit node=1号楼 node=第一网格", "只能写一次"),
        ("/audit user=", "后面要写内容"),
    ):
        assert expected in await refusal(h, STAFF_CHAT, SUPERADMIN, command), command

    staff = await refusal(h, STAFF_CHAT, STAFF, "/audit")
    assert staff == "只有社区管理员或超级管理员可以查看审计记录。"
    assert "只有社区管理员" in await refusal(h, STAFF, STAFF, "/audit")
    assert "/audit 要在社区工作群里使用" in await refusal(h, GRID_CHAT, GRID_WORKER, "/audit")

    # Made a community admin, they may read it, in the staff group or privately; only their
    # own community's rows.
    await h.say(STAFF_CHAT, SUPERADMIN, f"/role {STAFF} community_admin")
    mine = await answer(h, STAFF, STAFF, "/audit")
    assert "王主任 (1) · 授予角色 · 幸福社区 · 对象 李社工, 社区管理员, 原为 社区工作人员" in mine
    assert "另一社区" not in mine
    assert "设立社区" in await answer(h, STAFF_CHAT, STAFF, "/audit")


async def test_a_secret_ballot_leaves_nothing_in_the_audit(h: Harness) -> None:
    await community(h)
    await register_household(h, "2-502", "89.5", user=RESIDENT)
    await register_household(h, "3-301", "70", user=NEIGHBOUR)
    secret = await publish(h, "垃圾分类试点 匿名=yes 按户=yes 期限=1h")
    public = await publish(h, "更换门禁 按户=yes 期限=1h")
    for ballot in (secret, public):
        await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
        await h.say(
            BUILDING_CHAT, BUILDING_HEAD, f"/ballot {topic_id(ballot)} 3-301 反对 方式=纸质"
        )
    await h.settle()
    await h.pass_time(timedelta(hours=1))

    lines = (await answer(h, STAFF_CHAT, SUPERADMIN, "/audit")).splitlines()
    about_secret = [line for line in lines if f"#{topic_id(secret)}" in line]
    assert [line.split(" · ")[2] for line in about_secret] == [
        "上报",  # a tie, so it went up to the grid
        "议题结束",
        "记录线下票",
        "发布议题",
    ]
    for line in about_secret:
        for revealing in ("同意", "反对", "选项", "钱阿姨", "孙大爷", "3-301", "2-502"):
            assert revealing not in line, line
    # An open ballot's offline record says for whom and what was chosen; a secret one's
    # says neither (with the time and the live tally, the household could give it away).
    offline = [line for line in lines if "记录线下票" in line]
    assert offline[0].endswith(f"#{topic_id(public)}, 3-301, 纸质, 选项 反对")
    assert offline[1].endswith(f"#{topic_id(secret)}, 纸质")


async def test_stats_and_audit_on_postgresql(h_pg: Harness) -> None:
    h = h_pg
    ids = await consultations(h)
    await resolve_both(h, ids)
    staff = await answer(h, STAFF_CHAT, STAFF, "/stats")
    assert "参与率：37.5%（6/16，4 个表决议题）" in staff
    assert "• 未决：2（平票 1 · 无人投票 1）" in staff and "• 管理员上报：1" in staff
    assert "解决用时中位数：17小时0分钟（已解决 2 件，从首次上报算起）" in staff
    head = (await answer(h, STAFF_CHAT, SUPERADMIN, f"/audit user={BUILDING_HEAD}")).splitlines()
    assert len(head) == 2 + 5
