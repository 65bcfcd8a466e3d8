"""Helpers for topic tests: publish as an officer, read the tally a resident sees."""

from __future__ import annotations

import re

from emulators.telegram import EmuMessage
from tests.auxil.harness import Harness
from tests.auxil.world import BUILDING_CHAT, BUILDING_HEAD, RESIDENT

TALLY_LINE = re.compile(r"^(.+?)[：:] ?(\d+)$", re.MULTILINE)


async def publish(
    h: Harness, text: str, *, chat: int = BUILDING_CHAT, by: int = BUILDING_HEAD
) -> EmuMessage:
    """An officer sends ``/topic ...``; returns the ballot message."""
    ballot = await h.say(chat, by, f"/topic {text}")
    assert ballot.text and ballot.text.startswith("📋 #"), ballot.text
    return ballot


def topic_id(ballot: EmuMessage) -> int:
    match = re.match(r"📋 #(\d+)", ballot.text or "")
    assert match, ballot.text
    return int(match.group(1))


def tally(message: EmuMessage | None) -> dict[str, int]:
    """The ``同意：4`` lines under the ballot message's tally heading, as a dict."""
    assert message is not None
    for paragraph in (message.text or "").split("\n\n"):
        heading, _, body = paragraph.partition("\n")
        if heading in ("当前票数", "Current tally"):
            return {option: int(number) for option, number in TALLY_LINE.findall(body)}
    return {}


def pending_card(h: Harness, unit: str, chat: int = BUILDING_CHAT) -> EmuMessage | None:
    """The building's pending-registrations card, if it offers to approve ``unit``."""
    for message in reversed(h.emu.bot_messages(chat)):
        if f"✅ {unit} 通过" in message.button_texts():
            return message
    return None


async def request_registration(
    h: Harness, user: int, unit: str, area: str = "", chat: int = BUILDING_CHAT
) -> EmuMessage:
    """A resident sends ``/register``; returns the card once it lists their unit."""
    h.emu.send_message(chat, user, f"/register {unit} {area}".strip())
    await h.emu.wait_until(lambda: pending_card(h, unit, chat) is not None)
    card = pending_card(h, unit, chat)
    assert card is not None
    return card


async def register_household(
    h: Harness, unit: str, area: str, user: int = RESIDENT, approver: int = BUILDING_HEAD
) -> None:
    card = await request_registration(h, user, unit, area)
    answer = await h.press(BUILDING_CHAT, card.message_id, approver, f"✅ {unit} 通过")
    assert answer["text"] == "已通过", answer
    await h.settle()  # the card no longer offers the unit (the next request may be the same)
