"""Bugs the security suites found, each pinned by the smallest test that showed it."""

from __future__ import annotations

import logging

import pytest

from storage.tables import audit_log, registrations, topics
from tests.auxil.harness import Harness
from tests.auxil.topics import publish
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    RESIDENT,
    STAFF,
    community,
    count,
    rows,
)
from tests.security.support import failed_sends, last_update_id

ANONYMOUS_ADMIN = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


async def test_a_refusal_quotes_at_most_a_line_of_a_huge_argument(h: Harness) -> None:
    """``/role <id> <10,000 characters>`` was answered with the role name quoted whole: a
    message over Telegram's 4096 characters, so the answer failed (and the handler with it)."""
    await community(h)
    reply = await h.say(GRID_CHAT, STAFF, f"/role {RESIDENT} " + "x" * 10_000)
    assert reply.text and len(reply.text) < 1000 and "x" * 200 + "…" in reply.text
    await h.settle()
    assert failed_sends(h.emu.calls) == []


async def test_editing_a_command_does_not_run_it_again(h: Harness) -> None:
    """Editing ``/topic 修路`` to fix a typo published a second topic: python-telegram-bot
    runs commands on edited messages too."""
    await community(h)
    ballot = await publish(h, "修路")
    sent = next(
        message
        for message in h.emu.chat_messages(BUILDING_CHAT)
        if message.text == "/topic 修路" and not message.from_bot
    )
    h.emu.edit_message(BUILDING_CHAT, sent.message_id, BUILDING_HEAD, "/topic 修路 期限=2d")
    await h.settle()
    assert await count(h, rows(topics)) == 1
    assert h.emu.bot_messages(BUILDING_CHAT)[-1].message_id == ballot.message_id


async def test_an_anonymous_admin_is_told_to_speak_as_themselves(h: Harness) -> None:
    """A command from an anonymous group admin (sent as GroupAnonymousBot) failed with a
    foreign-key error: /register tried to register the stand-in bot as a resident."""
    await community(h)
    before = await count(h, rows(audit_log))
    sent = h.emu.send_message(BUILDING_CHAT, RESIDENT, "/register 3-301 80")
    message = h.emu.world.message_json(sent)
    h.emu.world.updates.pending.pop()  # sent again below, by the anonymous admin
    message["from"] = ANONYMOUS_ADMIN
    message["sender_chat"] = {"id": BUILDING_CHAT, "type": "supergroup", "title": "1号楼议事群"}
    h.emu.inject_update({"message": message})
    reply = await h.emu.wait_for_bot_message(BUILDING_CHAT, after=message["message_id"])
    assert "匿名" in (reply.text or "")
    assert await count(h, rows(registrations)) == 0
    assert await count(h, rows(audit_log)) == before


async def test_a_message_without_a_sender_is_ignored(h: Harness) -> None:
    """A message with no ``from`` (Telegram sends none in groups, but an update may lack it)
    failed in every handler that asks who wrote it."""
    await community(h)
    message = h.emu.world.message_json(h.emu.send_message(BUILDING_CHAT, RESIDENT, "/topics"))
    h.emu.world.updates.pending.pop()
    del message["from"]
    h.emu.inject_update({"message": message})
    await h.settle()
    assert h.emu.bot_messages(BUILDING_CHAT)[-1].message_id < message["message_id"]


async def test_a_failed_update_is_answered_with_an_apology(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """When a handler failed, the user heard nothing: the error handler runs with a context of
    its own, whose language the middleware never set, and it gave up for want of one."""
    await community(h)
    # Three: the transport retries a 5xx twice (channels/telegram/transport.py) before the handler
    # fails.
    h.emu.fail_next("sendMessage", 500, "Internal Server Error", count=3)
    sent = h.emu.send_message(BUILDING_CHAT, RESIDENT, "/help")
    apology = await h.emu.wait_for_bot_message(BUILDING_CHAT, after=sent.message_id)
    assert "抱歉，处理时出了问题" in (apology.text or "")
    failures = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in failures] == [
        f"update {last_update_id(h)} (message in chat {BUILDING_CHAT}) failed"
    ]
    caplog.clear()  # the one expected failure
