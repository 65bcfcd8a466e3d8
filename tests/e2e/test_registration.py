"""Flow 2: /register with officers' approve/reject buttons, and /members."""

from __future__ import annotations

from storage.tables import households, registrations
from tests.auxil.harness import Harness
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    STAFF_CHAT,
    community,
    count,
    rows,
)


async def test_a_resident_registers_and_the_building_head_approves(h: Harness) -> None:
    await community(h)
    card = await h.say(BUILDING_CHAT, RESIDENT, "/register 2-502 89.5")
    assert "2-502" in (card.text or "") and "89.5㎡" in (card.text or "")
    assert card.button_texts() == ["✅ 通过", "❌ 拒绝"]
    answer = await h.press(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "✅ 通过")
    assert answer["text"] == "已通过"
    edited = await h.edited(BUILDING_CHAT, card.message_id)
    assert "已通过" in (edited.text or "") and "赵楼长" in (edited.text or "")
    assert edited.button_texts() == []
    async with h.services.database.transaction() as repos:
        building = await repos.orgs.node_of_chat(BUILDING_CHAT)
        assert building is not None
        household = await repos.households.household(building.id, "2-502")
    assert household is not None and str(household.area) == "89.50"
    listing = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/members")
    assert "2-502" in (listing.text or "") and "钱阿姨（已通过）" in (listing.text or "")


async def test_residents_cannot_approve_and_a_rejection_is_final(h: Harness) -> None:
    await community(h)
    card = await h.say(BUILDING_CHAT, RESIDENT, "/register 3-101")
    denied = await h.press(BUILDING_CHAT, card.message_id, NEIGHBOUR, "✅ 通过")
    assert denied["show_alert"] and "只有本楼栋的管理员" in denied["text"]
    rejected = await h.press(BUILDING_CHAT, card.message_id, GRID_WORKER, "❌ 拒绝")
    assert rejected["text"] == "已拒绝"
    edited = await h.edited(BUILDING_CHAT, card.message_id)
    assert "未通过" in (edited.text or "")
    async with h.services.database.transaction() as repos:
        building = await repos.orgs.node_of_chat(BUILDING_CHAT)
        assert building is not None
        registration = await repos.households.registration_of(RESIDENT, building.id)
    assert registration is not None and registration.status == "rejected"


async def test_malformed_registrations_change_nothing(h: Harness) -> None:
    await community(h)
    cases = {
        "/register": "用法",
        "/register 2-502 89.5 多余": "用法",
        "/register 二单元五零二": "不是有效的单元-房号",
        "/register 2-502 -5": "不合理",
        "/register 2-502 0": "不合理",
        "/register 2-502 大概九十": "不是有效的面积",
        "/register 2-502 20000": "不合理",
        "/register 2-502 NaN": "不合理",
    }
    for command, expected in cases.items():
        reply = await h.say(BUILDING_CHAT, RESIDENT, command)
        assert expected in (reply.text or ""), (command, reply.text)
    staff = await h.say(STAFF_CHAT, 2, "/register 2-502 89")
    assert "自己楼栋的群里" in (staff.text or "")
    grid = await h.say(GRID_CHAT, GRID_WORKER, "/register 2-502 89")
    assert "自己楼栋的群里" in (grid.text or "")
    assert await count(h, rows(registrations)) == 0
    assert await count(h, rows(households)) == 0


async def test_units_are_normalised_and_duplicates_explained(h: Harness) -> None:
    await community(h)
    card = await h.say(BUILDING_CHAT, RESIDENT, "/register ２－５０２ 89.5㎡")
    assert "2-502" in (card.text or "")
    again = await h.say(BUILDING_CHAT, RESIDENT, "/register 2-502")
    assert "已经登记为住户" in (again.text or "")
    await h.say(BUILDING_CHAT, NEIGHBOUR, "/register 2-502 89.5")
    assert await count(h, rows(households)) == 1
    assert await count(h, rows(registrations)) == 2


async def test_members_is_for_officers(h: Harness) -> None:
    await community(h)
    refused = await h.say(BUILDING_CHAT, RESIDENT, "/members")
    assert "只对本楼栋的管理员开放" in (refused.text or "")
    empty = await h.say(BUILDING_CHAT, GRID_WORKER, "/members")
    assert "还没有住户登记" in (empty.text or "")


async def test_forged_and_foreign_buttons_are_refused(h: Harness) -> None:
    await community(h)
    card = await h.say(BUILDING_CHAT, RESIDENT, "/register 2-502 80")
    garbage = h.emu.press_callback(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "rg:x:1")
    assert "失效" in (await h.emu.wait_for_answer(garbage))["text"]
    junk = h.emu.press_callback(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "💥" * 10)
    assert "失效" in (await h.emu.wait_for_answer(junk))["text"]
    # The same registration's button pressed in another chat names a record of this one.
    foreign = h.emu.press_callback(GRID_CHAT, 1, GRID_WORKER, "rg:1:1")
    assert "不属于本群" in (await h.emu.wait_for_answer(foreign))["text"]
    async with h.services.database.transaction() as repos:
        building = await repos.orgs.node_of_chat(BUILDING_CHAT)
        assert building is not None
        registration = await repos.households.registration_of(RESIDENT, building.id)
    assert registration is not None and registration.status == "pending"
