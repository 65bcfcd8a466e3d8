"""A WeCom building group under a Telegram grid: its tie goes up, and the grid's escalation
card on Telegram counts the votes cast without claiming a share of the building's roll
(WeCom tells a bot no group's size)."""

from __future__ import annotations

from datetime import timedelta

from bot.services.actors import Actor, ChatKind, Place
from emulators.wecom.server import WeComEmulator
from storage.records import ChatType, Platform
from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.world import GRID_CHAT
from tests.e2e_mixed.conftest import (
    WECOM_BUILDING,
    answered,
    card_in_wecom_group,
    with_a_wecom_building,
)


async def test_a_wecom_buildings_tie_reaches_the_telegram_grid_with_the_votes_cast(
    both_channels: tuple[Harness, WeComEmulator],
) -> None:
    h, wecom = both_channels
    await with_a_wecom_building(h, wecom)
    now = h.clock.now()
    async with h.services.database.transaction() as repos:  # the head's role, as /role gives it
        chat, _ = await repos.chats.seen_on(
            Platform.WECOM, WECOM_BUILDING, type=ChatType.GROUP, title=None, now=now
        )
        head, _ = await repos.users.seen_on(Platform.WECOM, "zhangsan", name="张三", now=now)
    superadmin = Actor(SUPERADMIN, is_superadmin=True)
    await h.services.roles.grant(superadmin, Place(chat, ChatKind.GROUP), head, "building_head")

    issued = await wecom.mention("zhangsan", WECOM_BUILDING, "/topic 楼道加装扶手 期限=1d")
    await answered(wecom, issued.req_id, "aibot_respond_msg")
    card = await card_in_wecom_group(wecom, "lisi")
    options = {option["text"]: option["id"] for option in card["checkbox"]["option_list"]}
    for userid, choice in (("lisi", "同意"), ("wangwu", "反对")):
        pressed = await wecom.submit_vote(userid, card["task_id"], [options[choice]])
        await answered(wecom, pressed.req_id, "aibot_respond_update_msg")

    await h.pass_time(timedelta(days=1, minutes=1))
    await h.settle()
    escalation = next(m for m in h.emu.bot_messages(GRID_CHAT) if "楼道加装扶手" in (m.text or ""))
    text = escalation.text or ""
    assert "同意：1 · 反对：1" in text and "参与 2 人（群人数未知）" in text, text
    assert "2/2" not in text
