"""Registration on WeCom: `@议事 /register` in the building group is answered with the
building's pending-registrations card; an officer's press decides and is answered within
WeCom's 5 s with the card as it is now, for the whole group; a resident's or a late press is
answered for the presser only, saying why; a resident who wrote to the bot hears privately."""

from __future__ import annotations

from typing import Any

from emulators.wecom.world import Place, Seen
from storage.tables import households, registrations
from tests.e2e_wecom.org_world import BUILDING, GRID, OrgWorld, org, set_up

__all__ = ["org"]


def buttons(card: dict[str, Any] | None) -> dict[str, str]:
    assert card is not None
    return {button["text"]: button["key"] for button in card["button_list"]}


def private(org: OrgWorld, userid: str, words: str) -> Seen | None:
    """The bot's last message in ``userid``'s single chat, once it says ``words``."""
    seen = org.emu.world.seen_by(userid, Place("single", userid, "aib_yishi"))
    return seen[-1] if seen and words in (seen[-1].text or "") else None


async def press(org: OrgWorld, userid: str, task_id: str, key: str) -> dict[str, Any]:
    """``userid`` presses ``key``; the card as they see it after the bot's answer."""
    pressed = await org.emu.press_button(userid, task_id, key)
    frame = await org.emu.wait_for_frame(
        "aibot_respond_update_msg", req_id=pressed.req_id, timeout=5
    )
    assert frame.errcode == 0, frame
    assert frame.at - pressed.at < 5  # within WeCom's window for a card update
    bubble = org.emu.world.card(org.emu.world.bot("aib_yishi"), task_id)
    seen = bubble.card_seen_by(userid)
    assert seen is not None
    return seen


async def test_requests_are_decided_on_their_card(org: OrgWorld) -> None:
    await set_up(org)
    await org.emu.write("sundy", "你好")  # 孙大爷 wrote to the bot in a single chat
    first = await org.say("qianay", BUILDING, "/register 2-502 89.5")
    assert first.card is not None and first.card["card_type"] == "button_interaction"
    assert "待审核登记：1" in first.card["main_title"]["title"]
    assert "2-502（89.5㎡）qianay" in first.card["sub_title_text"], first.card
    assert list(buttons(first.card)) == ["✅ 2-502 通过", "❌ 2-502 拒绝"]
    second = await org.say("sundy", BUILDING, "/register 3-101")
    assert second.card is not None and "待审核登记：2" in second.card["main_title"]["title"]
    assert "面积未填" in second.card["sub_title_text"]
    assert org.last("zhaold", BUILDING).card == second.card  # the officers see it

    task = second.card["task_id"]
    denied = await press(org, "qianay", task, buttons(second.card)["✅ 2-502 通过"])
    assert "只有本楼栋的管理员" in denied["main_title"]["desc"], denied
    assert org.emu.world.card(org.emu.world.bot("aib_yishi"), task).card == second.card

    approved = await press(org, "zhaold", task, buttons(second.card)["✅ 2-502 通过"])
    assert "待审核登记：1" in approved["main_title"]["title"]
    assert "2-502 qianay：✅ 已通过" in approved["sub_title_text"], approved
    assert list(buttons(approved)) == ["✅ 3-101 通过", "❌ 3-101 拒绝"]
    assert org.last("qianay", BUILDING).card == approved  # the whole group sees the decision

    # The first card, from before: a press on it decides by the unit it names.
    late = await press(org, "zhaold", first.card["task_id"], buttons(first.card)["❌ 2-502 拒绝"])
    assert "已经处理过了" in late["main_title"]["desc"], late

    rejected = await press(org, "zhaold", task, buttons(approved)["❌ 3-101 拒绝"])
    assert "待审核登记：0" in rejected["main_title"]["title"]
    assert "3-101 sundy：❌ 未通过" in rejected["sub_title_text"]
    assert list(buttons(rejected)) == ["✔ 已全部审核"]
    told = await org.emu.wait_for(lambda: private(org, "sundy", "未通过"), 5)
    assert "3-101" in (told.text or "") and "@议事" in (told.text or ""), told.text
    # 钱阿姨 never wrote to the bot: the card in the group told her.
    assert org.emu.world.seen_by("qianay", Place("single", "qianay", "aib_yishi")) == []

    listing = await org.say("zhaold", BUILDING, "/members")
    assert "qianay（已通过）" in (listing.text or "") and "89.5㎡" in (listing.text or "")
    assert "sundy（未通过）" in (listing.text or ""), listing.text


async def test_bad_registrations_are_explained_and_change_nothing(org: OrgWorld) -> None:
    await set_up(org)
    for text, expected in (
        ("/register", "用法"),
        ("/register 2-502 abc", "不是有效的面积"),
        ("/register 2-502 -5", "不合理"),
        ("/register 2-502 1 2 3", "用法"),
    ):
        said = await org.say("qianay", BUILDING, text)
        assert expected in (said.text or ""), (text, said.text)
        assert said.card is None
    elsewhere = await org.say("zhangwg", GRID, "/register 2-502")
    assert "楼栋群" in (elsewhere.text or "") and "@议事" in (elsewhere.text or "")
    members = await org.say("qianay", BUILDING, "/members")
    assert "只对本楼栋的管理员开放" in (members.text or ""), members.text
    assert await org.count(registrations) == 0
    assert await org.count(households) == 0
