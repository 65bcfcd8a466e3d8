"""Flow 1 (set-up: /setup, /newgrid, /newbuilding, /bind, /unbind) end to end over HTTP."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

import pytest

from bot.services.organisation import service as orgs
from storage.tables import audit_log, bind_codes, chat_bindings, nodes
from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.world import (
    BUILDING_CHAT,
    GRID_CHAT,
    GRID_WORKER,
    OTHER_BUILDING_CHAT,
    OUTSIDER,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    code_in,
    community,
    count,
    people,
    rows,
)


async def test_a_community_grid_and_building_are_set_up_through_the_chats(h: Harness) -> None:
    await community(h)
    reply = await h.say(BUILDING_CHAT, RESIDENT, "/start")
    assert "幸福社区 › 第一网格 › 1号楼" in (reply.text or "")
    assert await count(h, rows(nodes)) == 3
    assert await count(h, rows(chat_bindings)) == 3
    async with h.services.database.transaction() as repos:
        actions = [entry.action for entry in await repos.audit.recent(limit=100)]
    assert actions.count("chat.bound") == 2
    assert "community.setup" in actions and actions.count("role.granted") == 3


async def test_setup_replies_with_the_next_step(h: Harness) -> None:
    people(h)
    await h.group(STAFF_CHAT, "社区工作群", admins=[SUPERADMIN])
    reply = await h.say(STAFF_CHAT, SUPERADMIN, "/setup@yishi_bot 幸福社区")
    assert "幸福社区" in (reply.text or "") and "/newgrid" in (reply.text or "")


async def test_bind_code_is_a_ready_to_copy_line_and_works_once(h: Harness) -> None:
    await community(h)
    issued = await h.say(STAFF_CHAT, STAFF, "/newgrid 第二网格")
    text = issued.text or ""
    code = code_in(text)
    assert f"\n/bind {code}" in text or text.endswith(f"/bind {code}")
    assert len(code) >= 8
    await h.group(-2001, "第二网格群", admins=[STAFF])
    bound = await h.say(-2001, STAFF, f"/bind {code}")
    assert "第二网格" in (bound.text or "")
    await h.group(-2002, "另一个群", admins=[STAFF])
    again = await h.say(-2002, STAFF, f"/bind {code}")
    assert "已经用过" in (again.text or "")
    assert await count(h, rows(nodes)) == 4


async def test_expired_wrong_and_non_admin_bind_codes_change_nothing(h: Harness) -> None:
    await community(h)
    issued = await h.say(STAFF_CHAT, STAFF, "/newgrid 第二网格")
    code = code_in(issued.text)
    await h.group(-2001, "第二网格群", members=[OUTSIDER], admins=[STAFF])
    before = await count(h, rows(chat_bindings))

    wrong = await h.say(-2001, STAFF, "/bind zzzzzzzzzz")
    assert "没有这个绑定码" in (wrong.text or "")
    missing = await h.say(-2001, STAFF, "/bind")
    assert "请附上绑定码" in (missing.text or "")
    not_admin = await h.say(-2001, OUTSIDER, f"/bind {code}")
    assert "只有本群的群管理员" in (not_admin.text or "")
    h.clock.advance(timedelta(hours=24, minutes=1))
    expired = await h.say(-2001, STAFF, f"/bind {code}")
    assert "已过期" in (expired.text or "")

    assert await count(h, rows(chat_bindings)) == before
    assert await count(h, rows(nodes)) == 3
    async with h.services.database.transaction() as repos:
        stored = await repos.orgs.code(code)
    assert stored is not None and stored.used_at is None


async def test_a_bound_chat_cannot_be_bound_again(h: Harness) -> None:
    await community(h)
    issued = await h.say(STAFF_CHAT, STAFF, "/newgrid 第二网格")
    reply = await h.say(GRID_CHAT, STAFF, f"/bind {code_in(issued.text)}")
    assert "已经绑定为网格" in (reply.text or "")
    setup_again = await h.say(STAFF_CHAT, SUPERADMIN, "/setup 另一个社区")
    assert "已经绑定为社区" in (setup_again.text or "")
    assert await count(h, rows(nodes)) == 3


async def test_commands_in_the_wrong_kind_of_chat_are_refused(h: Harness) -> None:
    await community(h)
    codes_before = await count(h, rows(bind_codes))
    private = await h.say(SUPERADMIN, SUPERADMIN, "/setup 私聊社区")
    assert "社区工作群里使用" in (private.text or "")
    in_building = await h.say(BUILDING_CHAT, GRID_WORKER, "/newbuilding 2号楼")
    assert "本群是楼栋" in (in_building.text or "")
    grid_in_grid = await h.say(GRID_CHAT, GRID_WORKER, "/newgrid 又一网格")
    assert "本群是网格" in (grid_in_grid.text or "")
    await h.group(-3001, "没绑定的群", admins=[STAFF])
    unbound = await h.say(-3001, STAFF, "/newgrid 网格")
    assert "未绑定的群" in (unbound.text or "")
    assert await count(h, rows(bind_codes)) == codes_before
    assert await count(h, rows(nodes)) == 3


async def test_only_the_right_roles_create_nodes(h: Harness) -> None:
    await community(h)
    not_super = await h.say(STAFF_CHAT, STAFF, "/setup 冒名社区")
    assert "只有超级管理员" in (not_super.text or "")
    await h.group(-3001, "新群", admins=[STAFF])
    staff_setup = await h.say(-3001, STAFF, "/setup 冒名社区")
    assert "只有超级管理员" in (staff_setup.text or "")
    resident_code = await h.say(BUILDING_CHAT, RESIDENT, "/help")
    assert "/newbuilding" not in (resident_code.text or "")
    h.emu.add_member(GRID_CHAT, RESIDENT)
    refused = await h.say(GRID_CHAT, RESIDENT, "/newbuilding 3号楼")
    assert "需要网格员或更高" in (refused.text or "")
    assert await count(h, rows(bind_codes)) == 2


async def test_names_are_validated(h: Harness) -> None:
    await community(h)
    long_name = await h.say(STAFF_CHAT, STAFF, "/newgrid " + "很长的名字" * 10)
    assert "名称太长" in (long_name.text or "")
    empty = await h.say(STAFF_CHAT, STAFF, "/newgrid")
    assert "请写上名称" in (empty.text or "")
    emoji = await h.say(STAFF_CHAT, STAFF, "/newgrid 🌸🌸 花园网格 🌸")
    assert "🌸🌸 花园网格 🌸" in (emoji.text or "")
    taken = await h.say(STAFF_CHAT, STAFF, "/newgrid 第一网格")
    assert "已经有一个名为" in (taken.text or "")
    html = await h.say(STAFF_CHAT, STAFF, "/newgrid <b>&amp;网格</b>")
    assert "<b>&amp;网格</b>" in (html.text or "")


async def test_unbind_needs_a_parent_officer_and_keeps_the_node(h: Harness) -> None:
    await community(h)
    refused = await h.say(BUILDING_CHAT, RESIDENT, "/unbind")
    assert "需要网格员或更高" in (refused.text or "")
    assert await count(h, rows(chat_bindings)) == 3
    done = await h.say(BUILDING_CHAT, GRID_WORKER, "/unbind")
    assert "已解除" in (done.text or "")
    assert await count(h, rows(chat_bindings)) == 2
    assert await count(h, rows(nodes)) == 3
    # The grid can issue a code that binds the same 楼栋 node to a chat again.
    issued = await h.say(GRID_CHAT, GRID_WORKER, "/newbuilding 1号楼")
    rebound = await h.say(BUILDING_CHAT, GRID_WORKER, f"/bind {code_in(issued.text)}")
    assert "1号楼" in (rebound.text or "")
    assert await count(h, rows(nodes)) == 3
    assert await count(h, rows(audit_log).where(audit_log.c.action == "chat.unbound")) == 1


async def test_removing_the_bot_pauses_the_binding_and_tells_the_parent(h: Harness) -> None:
    await community(h)
    last_grid = h.last_bot_message(GRID_CHAT).message_id
    h.emu.remove_bot(BUILDING_CHAT, GRID_WORKER)
    notice = await h.emu.wait_for_bot_message(GRID_CHAT, after=last_grid)
    assert "1号楼" in (notice.text or "") and "移出" in (notice.text or "")
    async with h.services.database.transaction() as repos:
        binding = await repos.orgs.binding_of_chat(BUILDING_CHAT)
    assert binding is not None and not binding.active
    h.emu.add_bot(BUILDING_CHAT, GRID_WORKER)
    back = await h.emu.wait_for_bot_message(
        BUILDING_CHAT, predicate=lambda m: "回来" in (m.text or "")
    )
    assert "1号楼" in (back.text or "")
    async with h.services.database.transaction() as repos:
        binding = await repos.orgs.binding_of_chat(BUILDING_CHAT)
    assert binding is not None and binding.active


async def test_group_to_supergroup_migration_carries_the_binding(h: Harness) -> None:
    people(h)
    await h.group(STAFF_CHAT, "社区工作群", admins=[SUPERADMIN])
    await h.say(STAFF_CHAT, SUPERADMIN, "/setup 幸福社区")
    issued = await h.say(STAFF_CHAT, SUPERADMIN, "/newgrid 网格A")
    h.emu.add_group(-555, "普通群", admins=[STAFF], creator=STAFF, type="group", added_by=STAFF)
    await h.emu.wait_for_bot_message(-555)
    await h.say(-555, STAFF, f"/bind {code_in(issued.text)}")
    h.emu.migrate_to_supergroup(-555, -100555)
    moved = await h.emu.wait_for_bot_message(-100555)
    assert "超级群" in (moved.text or "")
    async with h.services.database.transaction() as repos:
        node = await repos.orgs.node_of_chat(-100555)
        old = await repos.orgs.node_of_chat(-555)
    assert node is not None and node.name == "网格A" and old is None
    reply = await h.say(-100555, STAFF, "/roles")
    assert "网格A" in (reply.text or "")


async def test_a_second_building_binds_under_the_same_grid(h: Harness) -> None:
    await community(h)
    issued = await h.say(GRID_CHAT, GRID_WORKER, "/newbuilding 2号楼")
    await h.group(OTHER_BUILDING_CHAT, "2号楼议事群", admins=[GRID_WORKER])
    bound = await h.say(OTHER_BUILDING_CHAT, GRID_WORKER, f"/bind {code_in(issued.text)}")
    assert "2号楼" in (bound.text or "") and "第一网格" in (bound.text or "")


async def test_bind_codes_are_long_random_and_unambiguous(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unguessable: 10 symbols drawn by ``secrets`` from 31 that cannot be misread (no 0/o,
    1/l/i), about 50 bits; every code different. (Single use and the 24-hour expiry: above.)"""
    alphabet = set("abcdefghjkmnpqrstuvwxyz23456789")
    await community(h)
    codes = [
        code_in((await h.say(STAFF_CHAT, STAFF, f"/newgrid 网格{index}")).text)
        for index in range(30)
    ]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 10 and set(code) <= alphabet for code in codes)
    assert 10 * math.log2(len(alphabet)) >= 48
    drawn: list[str] = []
    choice = orgs.secrets.choice

    def counted(symbols: str) -> str:
        drawn.append(symbols)
        return choice(symbols)

    monkeypatch.setattr(orgs.secrets, "choice", counted)
    sample = "".join(orgs.new_bind_code() for _ in range(3000))
    assert len(drawn) == len(sample) and all(set(symbols) == alphabet for symbols in drawn)
    # Uniform: chi-squared over the 31 symbols (30 degrees of freedom; 90 is p < 1e-7).
    expected = len(sample) / len(alphabet)
    counts = Counter(sample)
    chi2 = sum((counts[symbol] - expected) ** 2 / expected for symbol in alphabet)
    assert chi2 < 90, counts
