"""Helpers for topic tests: publish as an officer, read the tally a resident sees."""

from __future__ import annotations

import re

from bot.emulator import EmuMessage
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


async def register_household(
    h: Harness, unit: str, area: str, user: int = RESIDENT, approver: int = BUILDING_HEAD
) -> None:
    card = await h.say(BUILDING_CHAT, user, f"/register {unit} {area}")
    await h.press(BUILDING_CHAT, card.message_id, approver, "✅ 通过")
