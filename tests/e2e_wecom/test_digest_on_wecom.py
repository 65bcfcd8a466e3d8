"""The community's staff group on WeCom: `/subscribe`, `/digest` answered as markdown messages
of at most 4096 bytes (split between items, none lost), `/pushwebhook` (officers only, WeCom's
webhook URLs only, its key never shown or logged) and the weekly chart arriving through the
group's push webhook as an image; without a webhook the group is told how to get the chart."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.services.actors import ChatKind, Place
from bot.services.topics.syntax import parse_topic
from emulators.wecom.replies import Issued
from emulators.wecom.world import Place as WeComPlace
from emulators.wecom.world import Seen
from tests.e2e_wecom.conftest import SUPERADMIN, World

STAFF_GROUP = "wrStaff0001"
STAFF = WeComPlace("group", STAFF_GROUP)
TELEGRAM_GRID = -2002


def staff_saw(world: World) -> list[Seen]:
    return world.emu.world.seen_by("staffli", STAFF)


async def answers(world: World, issued: Issued, last: str = "") -> list[str]:
    """What the bot answered on the message, in order, once an answer says ``last``."""

    def said() -> list[str]:
        return [
            frame.body["markdown"]["content"]
            for frame in world.emu.frames
            if frame.cmd == "aibot_respond_msg" and frame.req_id == issued.req_id
        ]

    await world.emu.wait_for(lambda: any(last in text for text in said()), timeout=30)
    await world.channel.settle()
    return said()


async def a_wecom_staff_group(world: World) -> Place:
    """A second community whose staff group is on WeCom (陈 is its staff, 李 a member), and
    a grid under it (its group on Telegram)."""
    world.emu.add_person("staffchen", "陈社工")
    world.emu.add_person("staffli", "李居民代表")
    world.emu.add_group(STAFF_GROUP, "和谐社区工作群", ["staffchen", "staffli"])
    staff = Place(await world.chat_id(STAFF_GROUP), ChatKind.GROUP)
    await world.services.orgs.setup(SUPERADMIN, staff, "和谐社区")
    chen = await world.yishi_id("staffchen")
    await world.services.roles.grant(SUPERADMIN, staff, chen, "community_staff")
    code = await world.services.orgs.issue_code(SUPERADMIN, staff, "和谐网格", "grid")
    grid = Place(TELEGRAM_GRID, ChatKind.GROUP, "和谐网格群")
    await world.services.orgs.bind(SUPERADMIN, grid, code.code, is_chat_admin=True)
    return grid


async def matters_sent_up(world: World, grid: Place, titles: list[str]) -> None:
    """Topics of the grid closed without a vote: each goes up to the community."""
    services = world.services
    for title in titles:
        draft = parse_topic(
            f"{title} 期限=1d",
            now=services.clock.now(),
            zone=services.settings.zone,
            catalogue=services.catalogue,
            locale="zh_CN",
        )
        published = await services.topics.publish(
            SUPERADMIN, grid, draft, world.channel.adapter.membership
        )
        await services.topics.close(SUPERADMIN, grid, published.topic.id)
    await world.channel.settle()


async def test_digest_on_demand_comes_in_messages_of_4096_bytes_at_most(world: World) -> None:
    # 30 escalation cards arrive in the staff group within the test's second: more than the
    # 30 messages a minute WeCom allows a conversation, which is not what is tested here.
    world.emu.behaviour.per_minute = 100
    grid = await a_wecom_staff_group(world)
    subscribed = await world.emu.mention("staffchen", STAFF_GROUP, "/subscribe")
    assert "已订阅：每天 08:30" in (await answers(world, subscribed))[0]
    titles = [f"第{n}号事项" + "关于小区公共设施维修与费用分摊的协商" * 5 for n in range(30)]
    await matters_sent_up(world, grid, titles)

    refused = await world.emu.mention("staffli", STAFF_GROUP, "/digest")
    assert "只有社区工作人员" in (await answers(world, refused))[0]
    asked = await world.emu.mention("staffchen", STAFF_GROUP, "/digest")
    parts = await answers(world, asked, last="各网格参与率")
    assert len(parts) > 1
    assert all(len(part.encode("utf-8")) <= 4096 for part in parts)
    assert "议事汇总" in parts[0] and "和谐社区" in parts[0]
    for title in titles:  # every matter listed, none cut across two messages
        assert sum(title in part for part in parts) >= 1, title
    seen = [s.text or "" for s in staff_saw(world)[-len(parts) :]]
    assert seen == parts  # the group sees them, in order
    # none of the 30 closed votes knew its group's size: none is claimed as a share of it
    assert "• 和谐网格：30 个议题，群人数未知（企业微信），不计参与率" in parts[-1], parts[-1]


async def test_pushwebhook_takes_only_a_wecom_webhook_and_the_weekly_chart_comes_by_it(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    grid = await a_wecom_staff_group(world)
    url = world.emu.add_webhook(STAFF_GROUP)
    key = url.rpartition("key=")[2]

    usage = await world.emu.mention("staffchen", STAFF_GROUP, "/pushwebhook")
    assert "群设置" in (await answers(world, usage))[0]
    member = await world.emu.mention("staffli", STAFF_GROUP, f"/pushwebhook {url}")
    assert "只有社区工作人员" in (await answers(world, member))[0]
    wrong = await world.emu.mention(
        "staffchen",
        STAFF_GROUP,
        "/pushwebhook https://example.com/cgi-bin/webhook/send?key=abcd1234",
    )
    assert "不是企业微信的消息推送地址" in (await answers(world, wrong))[0]
    assert await world.services.digest.push_webhook(grid.chat_id) is None
    staff_chat = await world.chat_id(STAFF_GROUP)
    assert await world.services.digest.push_webhook(staff_chat) is None

    given = await world.emu.mention("staffchen", STAFF_GROUP, f"/pushwebhook {url}")
    said = (await answers(world, given))[0]
    assert "已保存本群的消息推送地址" in said and key not in said and key[-4:] in said
    subscribed = await world.emu.mention("staffchen", STAFF_GROUP, "/subscribe")
    await answers(world, subscribed)
    await matters_sent_up(world, grid, ["更换小区大门"])

    # Day by day to Monday 08:30 (Asia/Shanghai): that day's digest is the weekly one.
    for _ in range(6):
        world.clock.advance(timedelta(days=1))
        await world.services.timers.run_due()
        await world.channel.settle()
    pictures = [m for m in world.emu.webhook_messages[STAFF_GROUP] if m["msgtype"] == "image"]
    assert len(pictures) == 1
    bubbles = staff_saw(world)
    assert bubbles[-1].msgtype == "image" and bubbles[-1].sender.startswith("webhook:")
    assert "更换小区大门" in (bubbles[-2].text or "")  # the digest's text just before it
    assert not any(key in record.getMessage() for record in caplog.records)

    off = await world.emu.mention("staffchen", STAFF_GROUP, "/pushwebhook off")
    assert "已取消本群的消息推送地址" in (await answers(world, off))[0]
    again = await world.emu.mention("staffchen", STAFF_GROUP, "/pushwebhook off")
    assert "没有设置消息推送地址" in (await answers(world, again))[0]
    for _ in range(7):
        world.clock.advance(timedelta(days=1))
        await world.services.timers.run_due()
        await world.channel.settle()
    assert len(world.emu.webhook_messages[STAFF_GROUP]) == 1  # nothing more by the webhook
    told = staff_saw(world)[-1]
    assert told.sender == "bot:aib_yishi" and "@议事 /pushwebhook" in (told.text or "")


async def test_stats_and_audit_answer_in_the_staff_group(world: World) -> None:
    grid = await a_wecom_staff_group(world)
    world.emu.add_person("adminzhou", "周主任")
    world.emu.world.group(STAFF_GROUP).members.append("adminzhou")
    staff = Place(await world.chat_id(STAFF_GROUP), ChatKind.GROUP)
    admin = await world.yishi_id("adminzhou")
    await world.services.roles.grant(SUPERADMIN, staff, admin, "community_admin")
    await matters_sent_up(world, grid, ["修补道路", "加装路灯"])

    figures = await answers(world, await world.emu.mention("staffchen", STAFF_GROUP, "/stats"))
    text = figures[0]
    assert "📊 **社区 和谐社区** 统计（含下级 1 个网格）" in text, text
    assert "• 未决：2（无人投票 2）" in text and "**上报**：2 次" in text
    assert "待处理的上报：2" in text

    sla = await world.emu.mention("staffchen", STAFF_GROUP, "/sla 2天12小时")
    assert "本社区的上报处理时限已设为 2天12小时。" in (await answers(world, sla))[0]
    member = await world.emu.mention("staffli", STAFF_GROUP, "/sla 1天")
    assert "只有社区工作人员或以上可以设置处理时限" in (await answers(world, member))[0]

    url = world.emu.add_webhook(STAFF_GROUP)
    await answers(world, await world.emu.mention("staffchen", STAFF_GROUP, f"/pushwebhook {url}"))
    refused = await world.emu.mention("staffchen", STAFF_GROUP, "/audit")
    assert "管理员" in (await answers(world, refused))[0]
    rows = (await answers(world, await world.emu.mention("adminzhou", STAFF_GROUP, "/audit")))[0]
    assert rows.startswith("🗂 **审计记录**")
    webhook_row = next(line for line in rows.splitlines() if "设置消息推送地址" in line)
    assert "staffchen" in webhook_row and url.rpartition("key=")[2] not in rows
    assert any("**上报**" in line and "来自 和谐网格" in line for line in rows.splitlines())
    assert any("**发布议题**" in line and "«修补道路»" in line for line in rows.splitlines())
