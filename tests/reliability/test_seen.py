"""What the bot records about whoever writes, and the language it answers in, stay current
although it skips recording what it already wrote (channels/telegram/middleware.py): a new name is
recorded at the next update, a group's new language answers the next press of someone the
bot had already answered."""

from __future__ import annotations

from tests.auxil.harness import Harness
from tests.auxil.topics import publish, register_household
from tests.auxil.world import BUILDING_CHAT, BUILDING_HEAD, RESIDENT, community


async def test_a_renamed_resident_is_listed_under_the_new_name_at_once(both: Harness) -> None:
    h = both
    await community(h)
    await register_household(h, "2-502", "89.5")
    listing = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/members")
    assert "钱阿姨（已通过）" in (listing.text or "")
    await h.say(BUILDING_CHAT, RESIDENT, "/help")  # written again, same name: nothing new
    h.user(RESIDENT, "钱老师")  # renames herself in Telegram, a moment later
    await h.say(BUILDING_CHAT, RESIDENT, "/help")
    listing = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/members")
    assert "钱老师（已通过）" in (listing.text or ""), listing.text


async def test_a_group_switched_to_english_answers_the_next_press_in_english(
    both: Harness,
) -> None:
    h = both
    await community(h)
    ballot = await publish(h, "加装电梯 期限=7d")
    first = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    assert first["text"] == "已记录：同意"
    again = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    assert again["text"] == "你已选择：同意"
    switched = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/lang en")
    assert switched.text == "This group's language is now English."
    changed = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "反对")
    assert changed["text"] == "Changed to: 反对"
