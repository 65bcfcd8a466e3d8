"""Outbox announcements as people receive them: rendered when sent, in the chat's language of
that moment; rows queued by the previous release still delivered; a row of a kind this
release does not know given up once, never retried."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.services.announcements import GroupNudge
from storage.tables import outbox
from tests.auxil.harness import Harness
from tests.auxil.topics import publish, topic_id
from tests.auxil.world import BUILDING_CHAT, BUILDING_HEAD, GRID_CHAT, community


async def _insert_raw(h: Harness, chat_id: int, kind: str, payload: dict[str, Any]) -> int:
    """A row exactly as the previous release wrote it (kind string, dict payload)."""
    now = h.clock.now()
    async with h.services.database.transaction() as repos:
        result = await repos.connection.execute(
            outbox.insert()
            .values(chat_id=chat_id, kind=kind, payload=payload, created_at=now)
            .values(next_attempt_at=now, attempts=0, failed=False)
            .returning(outbox.c.id)
        )
        return int(result.scalar_one())


def _texts(h: Harness, chat: int, part: str) -> list[str]:
    return [m.text or "" for m in h.emu.bot_messages(chat) if part in (m.text or "")]


async def test_a_queued_announcement_speaks_the_language_of_its_delivery(h: Harness) -> None:
    await community(h)
    topic = topic_id(await publish(h, "换电梯 期限=3天"))
    async with h.services.database.transaction() as repos:  # queued, not yet sent
        await repos.outbox.add(
            chat_id=BUILDING_CHAT,
            announcement=GroupNudge(topic_id=topic, missing=2),
            now=h.clock.now(),
        )
    switched = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/lang en")
    assert switched.text == "This group's language is now English."
    assert _texts(h, BUILDING_CHAT, "⏰") == []
    await h.services.outbox.flush()
    await h.settle()
    [nudge] = _texts(h, BUILDING_CHAT, "⏰")
    assert nudge.startswith(f"⏰ Topic #{topic} 换电梯: 2 votes still missing; the deadline is ")


async def test_rows_queued_by_the_previous_release_are_delivered(h: Harness) -> None:
    await community(h)
    topic = topic_id(await publish(h, "换电梯 期限=3天"))
    async with h.services.database.transaction() as repos:
        building = await repos.orgs.node_of_chat(BUILDING_CHAT)
    assert building is not None
    await _insert_raw(h, BUILDING_CHAT, "topic.nudge_group", {"topic_id": topic, "missing": 3})
    await _insert_raw(h, GRID_CHAT, "orgs.child_lost_bot", {"node_id": building.id})
    await h.services.outbox.flush()
    await h.settle()
    assert any("还有 3 票未投" in text for text in _texts(h, BUILDING_CHAT, f"#{topic}"))
    assert _texts(h, GRID_CHAT, "机器人已被移出") != []
    async with h.services.database.transaction() as repos:
        assert await repos.outbox.pending(h.clock.now()) == []


async def test_a_row_of_an_unknown_kind_is_given_up_once(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await community(h)
    before = len(h.emu.bot_messages(BUILDING_CHAT))
    row = await _insert_raw(h, BUILDING_CHAT, "poll.from_the_future", {"poll_id": 1})
    with caplog.at_level(logging.WARNING):
        await h.services.outbox.flush()
        await h.services.outbox.flush()
    async with h.services.database.transaction() as repos:
        found = (
            await repos.connection.execute(
                select(outbox.c.failed, outbox.c.attempts).where(outbox.c.id == row)
            )
        ).one()
    assert (found.failed, found.attempts) == (True, 1)
    assert len(h.emu.bot_messages(BUILDING_CHAT)) == before
    unknown = [r for r in caplog.records if "poll.from_the_future" in r.getMessage()]
    assert len(unknown) == 1 and unknown[0].levelno == logging.WARNING
