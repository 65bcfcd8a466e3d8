"""Flow 2: /register with officers' approve/reject buttons, and /members."""

from __future__ import annotations

from storage.tables import households, registrations
from tests.auxil.harness import Harness
from tests.auxil.topics import pending_card, request_registration
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


def bot_posts(h: Harness, chat: int) -> list[int]:
    return [m.message_id for m in h.emu.bot_messages(chat)]


async def test_requests_are_one_card_edited_as_they_come_and_are_decided(both: Harness) -> None:
    h = both
    await community(h)
    await h.say(RESIDENT, RESIDENT, "/start")  # 钱阿姨 started the bot; 孙大爷 did not
    before = bot_posts(h, BUILDING_CHAT)

    card = await request_registration(h, RESIDENT, "2-502", "89.5")
    assert "待审核登记：1" in (card.text or "")
    assert "2-502" in (card.text or "") and "89.5㎡" in (card.text or "")
    assert card.button_texts() == ["✅ 2-502 通过", "❌ 2-502 拒绝"]
    again = await request_registration(h, NEIGHBOUR, "3-101")
    assert again.message_id == card.message_id  # the same card, edited
    await h.settle()
    card = h.emu.message(BUILDING_CHAT, card.message_id)
    assert "待审核登记：2" in (card.text or "") and "面积未填" in (card.text or "")
    assert card.button_texts() == [
        "✅ 2-502 通过",
        "❌ 2-502 拒绝",
        "✅ 3-101 通过",
        "❌ 3-101 拒绝",
    ]

    denied = await h.press(BUILDING_CHAT, card.message_id, NEIGHBOUR, "✅ 3-101 通过")
    assert denied["show_alert"] and "只有本楼栋的管理员" in denied["text"]
    approved = await h.press(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "✅ 2-502 通过")
    assert approved["text"] == "已通过"
    await h.settle()
    card = h.emu.message(BUILDING_CHAT, card.message_id)
    assert "待审核登记：1" in (card.text or "") and "2-502 钱阿姨：✅ 已通过" in (card.text or "")
    assert card.button_texts() == ["✅ 3-101 通过", "❌ 3-101 拒绝"]
    told = h.emu.bot_messages(RESIDENT)[-1]
    assert "2-502" in (told.text or "") and "已通过" in (told.text or "")

    rejected = await h.press(BUILDING_CHAT, card.message_id, GRID_WORKER, "❌ 3-101 拒绝")
    assert rejected["text"] == "已拒绝"
    await h.settle()
    card = h.emu.message(BUILDING_CHAT, card.message_id)
    assert "待审核登记：0" in (card.text or "") and "3-101 孙大爷：❌ 未通过" in (card.text or "")
    assert card.button_texts() == []
    assert h.emu.bot_messages(NEIGHBOUR) == []  # never started the bot: the card told them
    # Two requests and two decisions: one message in the group, edited.
    assert bot_posts(h, BUILDING_CHAT) == [*before, card.message_id]

    async with h.services.database.transaction() as repos:
        building = await repos.orgs.node_of_chat(BUILDING_CHAT)
        assert building is not None
        household = await repos.households.household(building.id, "2-502")
        registration = await repos.households.registration_of(NEIGHBOUR, building.id)
    assert household is not None and str(household.area) == "89.50"
    assert registration is not None and registration.status == "rejected"
    listing = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/members")
    assert "钱阿姨（已通过）" in (listing.text or "")

    # Nothing waits now: the next request gets a new card below, the old one stays the record.
    newer = await request_registration(h, BUILDING_HEAD, "1-101", "60")
    assert newer.message_id > listing.message_id
    assert "待审核登记：1" in (newer.text or "")


async def test_many_pending_show_a_few_with_buttons_and_a_count(h: Harness) -> None:
    await community(h)
    residents = range(100, 107)
    for user in residents:
        h.user(user, f"住户{user}")
        h.emu.add_member(BUILDING_CHAT, user)
    for n, user in enumerate(residents):
        h.emu.send_message(BUILDING_CHAT, user, f"/register 5-{101 + n} 70")
    await h.settle()
    card = pending_card(h, "5-101")
    assert card is not None and "待审核登记：7" in (card.text or "")
    assert len(card.button_texts()) == 10  # five households, two buttons each
    assert "另有 2 户待审核" in (card.text or "") and "5-106" not in card.button_texts()[-1]
    await h.press(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "✅ 5-101 通过")
    await h.settle()
    card = h.emu.message(BUILDING_CHAT, card.message_id)
    assert "待审核登记：6" in (card.text or "") and "另有 1 户待审核" in (card.text or "")
    assert "✅ 5-106 通过" in card.button_texts()


async def test_the_card_survives_a_restart(both: Harness) -> None:
    h = both
    await community(h)
    card = await request_registration(h, RESIDENT, "2-502", "89.5")
    await h.restart()
    again = await request_registration(h, NEIGHBOUR, "3-101", "70")
    assert again.message_id == card.message_id  # its id was kept: edited, not posted again
    await h.press(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "✅ 3-101 通过")
    await h.settle()
    card = h.emu.message(BUILDING_CHAT, card.message_id)
    assert "待审核登记：1" in (card.text or "")
    assert card.button_texts() == ["✅ 2-502 通过", "❌ 2-502 拒绝"]


async def test_a_mistake_is_explained_privately_to_whoever_started_the_bot(both: Harness) -> None:
    h = both
    await community(h)
    await h.say(RESIDENT, RESIDENT, "/start")
    before = bot_posts(h, BUILDING_CHAT)
    h.emu.send_message(BUILDING_CHAT, RESIDENT, "/register 2-502 大概九十")
    told = await h.emu.wait_for_bot_message(RESIDENT, predicate=lambda m: "面积" in (m.text or ""))
    assert "不是有效的面积" in (told.text or "")
    # Someone who never started the bot is answered in the group, as before.
    refused = await h.say(BUILDING_CHAT, NEIGHBOUR, "/register 3-101 -5")
    assert "不合理" in (refused.text or "")
    await h.settle()
    assert bot_posts(h, BUILDING_CHAT) == [*before, refused.message_id]
    # One who blocked the bot since is answered in the group too.
    h.emu.block_bot(RESIDENT)
    blocked = await h.say(BUILDING_CHAT, RESIDENT, "/topic 不该由居民发布")
    assert "/propose" in (blocked.text or "")
    assert await count(h, rows(registrations)) == 0


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
    h.emu.send_message(BUILDING_CHAT, NEIGHBOUR, "/register 2-502 89.5")
    await h.settle()
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
