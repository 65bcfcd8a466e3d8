"""Helpers for meeting tests: schedule as an officer, read what a meeting message shows."""

from __future__ import annotations

import re

from emulators.telegram import EmuMessage
from tests.auxil.harness import Harness
from tests.auxil.world import BUILDING_CHAT, BUILDING_HEAD

COUNTS = re.compile(
    r"(?:回复：参加 (\d+) · 请假 (\d+))|(?:Replies: attending (\d+) · can't come (\d+))"
)


async def schedule(
    h: Harness, text: str, *, chat: int = BUILDING_CHAT, by: int = BUILDING_HEAD
) -> EmuMessage:
    """An officer sends ``/meeting ...``; returns the announcement in that chat."""
    sent = h.emu.send_message(chat, by, f"/meeting {text}")
    announcement = await h.emu.wait_for_bot_message(
        chat, after=sent.message_id, predicate=lambda m: (m.text or "").startswith("📅")
    )
    await h.settle()
    return h.emu.message(chat, announcement.message_id)


def meeting_number(message: EmuMessage) -> int:
    match = re.search(r"#(\d+)", message.text or "")
    assert match, message.text
    return int(match.group(1))


def answers(message: EmuMessage) -> tuple[int, int]:
    """(attending, can't come) as the message shows them."""
    match = COUNTS.search(message.text or "")
    assert match, message.text
    numbers = [int(group) for group in match.groups() if group is not None]
    return numbers[0], numbers[1]


def reminders(h: Harness, chat: int) -> list[EmuMessage]:
    return [m for m in h.emu.bot_messages(chat) if (m.text or "").startswith("⏰")]


def texts(h: Harness, chat: int, part: str) -> list[EmuMessage]:
    """The bot's messages in ``chat`` whose text or caption contains ``part``."""
    return [m for m in h.emu.bot_messages(chat) if part in (m.text or m.caption or "")]
