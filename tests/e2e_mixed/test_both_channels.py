"""Telegram and WeCom in one process (``yishi run --channel both``): one community whose
staff, grid and a building group are on Telegram and another building's group on WeCom.
The grid's topic for every building reaches both: a ballot message on Telegram, a vote card
on WeCom; votes from both count in one tally, and the outcome reaches both. Telegram is never
asked to post into the WeCom chat."""

from __future__ import annotations

from datetime import timedelta

from emulators.wecom.server import WeComEmulator
from storage.records import FIRST_FOREIGN_ID
from tests.auxil.harness import Harness
from tests.auxil.world import GRID_CHAT, GRID_WORKER, RESIDENT
from tests.e2e_mixed.conftest import (
    WECOM_GROUP,
    answered,
    card_in_wecom_group,
    with_a_wecom_building,
)


async def test_a_grid_topic_for_every_building_is_voted_on_in_telegram_and_wecom(
    both_channels: tuple[Harness, WeComEmulator],
) -> None:
    h, wecom = both_channels
    await with_a_wecom_building(h, wecom)
    said = wecom.world.seen_by("lisi", WECOM_GROUP)[-1].text or ""
    assert "3号楼" in said and "第一网格" in said, said

    await h.say(GRID_CHAT, GRID_WORKER, "/topic 统一更换门禁 范围=all 期限=2天")
    await h.settle()
    card = await card_in_wecom_group(wecom, "lisi")
    assert card["card_type"] == "vote_interaction"
    assert "统一更换门禁" in card["main_title"]["title"]
    options = {option["text"]: option["id"] for option in card["checkbox"]["option_list"]}

    pressed = await wecom.submit_vote("lisi", card["task_id"], [options["同意"]])
    await answered(wecom, pressed.req_id, "aibot_respond_update_msg")
    ballot = next(
        m for m in h.emu.bot_messages(-1003) if "统一更换门禁" in (m.text or "") and m.reply_markup
    )
    await h.press(-1003, ballot.message_id, RESIDENT, "同意")
    await h.settle()

    await h.pass_time(timedelta(days=2, minutes=1))
    await h.settle()
    wecom_texts = [seen.text or "" for seen in wecom.world.seen_by("lisi", WECOM_GROUP)]
    assert any("统一更换门禁" in text and "同意：2" in text for text in wecom_texts), wecom_texts
    telegram_texts = [m.text or "" for m in h.emu.bot_messages(-1003)]
    assert any("统一更换门禁" in text and "同意：2" in text for text in telegram_texts)
    # Telegram was never asked to post into (or ask about) the WeCom chat.
    assert not [
        call
        for call in h.emu.calls
        if isinstance(call.params.get("chat_id"), int | str)
        and int(call.params["chat_id"]) >= FIRST_FOREIGN_ID
    ]
