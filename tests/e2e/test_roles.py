"""Roles: /role (by reply or id), /unrole, /roles, and who may give what."""

from __future__ import annotations

from storage.tables import role_grants
from tests.auxil.harness import SUPERADMIN, Harness
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
    count,
    rows,
)


async def grants(h: Harness) -> int:
    return await count(h, rows(role_grants))


async def test_role_by_reply_and_by_id(h: Harness) -> None:
    await community(h)
    hello = h.emu.send_message(BUILDING_CHAT, RESIDENT, "我可以帮忙")
    by_reply = await h.say(
        BUILDING_CHAT, BUILDING_HEAD, "/role building_officer", reply_to=hello.message_id
    )
    assert "钱阿姨" in (by_reply.text or "") and "楼栋管理员" in (by_reply.text or "")
    h.emu.send_message(BUILDING_CHAT, NEIGHBOUR, "我也来")
    by_id = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/role {NEIGHBOUR} building_officer")
    assert "孙大爷" in (by_id.text or "")
    listing = await h.say(BUILDING_CHAT, RESIDENT, "/roles")
    text = listing.text or ""
    assert "钱阿姨：楼栋管理员" in text and "赵楼长：楼栋长" in text
    assert "张网格：网格员" in text and "李社工：社区工作人员" in text


async def test_nobody_grants_a_role_at_or_above_their_own(h: Harness) -> None:
    await community(h)
    before = await grants(h)
    hello = h.emu.send_message(BUILDING_CHAT, RESIDENT, "你好")
    same = await h.say(
        BUILDING_CHAT, BUILDING_HEAD, "/role building_head", reply_to=hello.message_id
    )
    assert "只能授予比自己低的角色" in (same.text or "")
    resident = await h.say(
        BUILDING_CHAT, NEIGHBOUR, "/role building_officer", reply_to=hello.message_id
    )
    assert "只能授予比自己低的角色" in (resident.text or "")
    upward = await h.say(GRID_CHAT, GRID_WORKER, f"/role {STAFF} grid_head")
    assert "不低于你" in (upward.text or "") or "只能授予" in (upward.text or "")
    assert await grants(h) == before


async def test_bad_role_commands_are_explained(h: Harness) -> None:
    await community(h)
    before = await grants(h)
    hello = h.emu.send_message(BUILDING_CHAT, RESIDENT, "你好")
    unknown = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/role mayor", reply_to=hello.message_id)
    assert "没有“mayor”这个角色" in (unknown.text or "")
    wrong_level = await h.say(
        BUILDING_CHAT, GRID_WORKER, "/role grid_worker", reply_to=hello.message_id
    )
    assert "不属于楼栋" in (wrong_level.text or "")
    nobody = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/role building_officer")
    assert "请回复要授予角色的人的消息" in (nobody.text or "")
    stranger = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/role 99999 building_officer")
    assert "还不认识用户 99999" in (stranger.text or "")
    no_role = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/role", reply_to=hello.message_id)
    assert "用法" in (no_role.text or "")
    bot_message = h.last_bot_message(BUILDING_CHAT)
    to_bot = await h.say(
        BUILDING_CHAT, BUILDING_HEAD, "/role building_officer", reply_to=bot_message.message_id
    )
    assert "不能给机器人" in (to_bot.text or "")
    private = await h.say(RESIDENT, RESIDENT, "/role 4 building_head")
    assert "在楼栋群、网格群或社区工作群里" in (private.text or "")
    assert await grants(h) == before


async def test_unrole_needs_a_higher_role(h: Harness) -> None:
    await community(h)
    hello = h.emu.send_message(BUILDING_CHAT, RESIDENT, "你好")
    await h.say(BUILDING_CHAT, BUILDING_HEAD, "/role building_officer", reply_to=hello.message_id)
    refused = await h.say(BUILDING_CHAT, RESIDENT, f"/unrole {BUILDING_HEAD}")
    assert "只能撤销比自己低的角色" in (refused.text or "")
    h.emu.send_message(BUILDING_CHAT, NEIGHBOUR, "我只是居民")
    none = await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/unrole {NEIGHBOUR}")
    assert "在这里没有角色" in (none.text or "")
    before = await grants(h)
    done = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/unrole", reply_to=hello.message_id)
    assert "已撤销" in (done.text or "")
    assert await grants(h) == before - 1


async def test_superadmin_outranks_every_role(h: Harness) -> None:
    await community(h)
    h.emu.add_member(STAFF_CHAT, BUILDING_HEAD)
    hello = h.emu.send_message(STAFF_CHAT, BUILDING_HEAD, "你好")
    reply = await h.say(STAFF_CHAT, SUPERADMIN, "/role community_admin", reply_to=hello.message_id)
    assert "社区管理员" in (reply.text or "")
    # A community admin covers every descendant: they may now appoint a grid head.
    h.emu.add_member(GRID_CHAT, BUILDING_HEAD)
    appointed = await h.say(GRID_CHAT, BUILDING_HEAD, f"/role {GRID_WORKER} grid_head")
    assert "网格长" in (appointed.text or "")
