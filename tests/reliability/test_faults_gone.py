"""Bot API faults (issue #7, item 2): chats that refuse the bot, messages that were deleted.

- 403 "bot was kicked" on a send or an edit to a bound group: the binding is paused with one
  audit row and the parent node's chat is told once, whether the bot heard of the removal
  (``my_chat_member``) or finds out by being refused; nothing is retried into that chat.
- 403 "bot was blocked by the user" in a private chat: given up with a warning, nothing else.
- 400 "message to edit not found" (an admin deleted it): an open ballot, or a card still to
  be acted on, is posted again so people can go on; a closed one stays deleted.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from emulators.telegram import EmuMessage
from emulators.telegram.world import ApiCall
from storage.tables import audit_log, outbox
from tests.auxil.harness import Harness
from tests.auxil.topics import publish, tally, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    community,
    count,
    rows,
)


def calls_into(h: Harness, chat: int, *, since: int = 0) -> list[ApiCall]:
    return [c for c in h.emu.calls[since:] if int(c.params.get("chat_id", 0) or 0) == chat]


def with_text(h: Harness, chat: int, part: str) -> list[EmuMessage]:
    return [m for m in h.emu.bot_messages(chat) if part in (m.text or "")]


def deleted_by_an_admin(h: Harness, chat: int, message_id: int) -> None:
    """A group admin deletes the bot's message (Telegram tells the bot nothing)."""
    h.emu.message(chat, message_id).deleted = True
    h.emu.world.changed()


async def removals(h: Harness) -> list[tuple[int | None, str]]:
    """The ``chat.bot_removed`` audit rows: (who, the bot's status)."""
    query = select(audit_log).where(audit_log.c.action == "chat.bot_removed")
    async with h.services.database.transaction() as repos:
        found = (await repos.connection.execute(query)).all()
    return [(row.actor_id, row.details["status"]) for row in found]


async def building_paused(h: Harness) -> bool:
    async with h.services.database.transaction() as repos:
        binding = await repos.orgs.binding_of_chat(BUILDING_CHAT)
    assert binding is not None
    return not binding.active


async def voted_topic(h: Harness) -> EmuMessage:
    ballot = await publish(h, "东门加装快递柜 期限=1h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.settle()
    return ballot


async def test_a_bot_removed_before_the_close_pauses_the_building_once(both: Harness) -> None:
    h = both
    await community(h)
    await voted_topic(h)
    h.emu.remove_bot(BUILDING_CHAT, GRID_WORKER)
    await h.settle()
    assert await building_paused(h)
    assert len(with_text(h, GRID_CHAT, "移出")) == 1
    start = len(h.emu.calls)
    # The close edits the ballot and announces the outcome into the chat: both refused.
    await h.pass_time(timedelta(hours=1))
    refused = calls_into(h, BUILDING_CHAT, since=start)
    assert sorted(c.method for c in refused) == ["editMessageText", "sendMessage"]
    assert all(c.error_code == 403 for c in refused)
    assert await count(h, rows(outbox).where(outbox.c.failed.is_(True))) == 1
    # Told once, audited once (the removal's actor: the admin who removed the bot).
    assert len(with_text(h, GRID_CHAT, "移出")) == 1
    assert await removals(h) == [(GRID_WORKER, "kicked")]
    await h.pass_time(timedelta(days=1))  # nothing is retried into the chat
    assert calls_into(h, BUILDING_CHAT, since=start) == refused


async def test_a_removal_the_bot_missed_is_found_at_its_next_send(both: Harness) -> None:
    """The bot was down for over a day while an admin removed it: Telegram kept the
    ``my_chat_member`` update 24 hours only. The close is refused, and that is enough."""
    h = both
    await community(h)
    ballot = await voted_topic(h)
    await h.stop_bot()
    h.emu.remove_bot(BUILDING_CHAT, GRID_WORKER)
    h.emu.world.updates.drop_pending()
    await h.start_bot()
    await h.settle()
    assert not await building_paused(h)
    grid_before = len(h.emu.bot_messages(GRID_CHAT))
    start = len(h.emu.calls)
    await h.pass_time(timedelta(hours=1))
    assert await building_paused(h)
    assert await removals(h) == [(None, "kicked")]
    notices = with_text(h, GRID_CHAT, "移出")
    assert len(notices) == 1 and "1号楼" in (notices[0].text or "")
    assert len(h.emu.bot_messages(GRID_CHAT)) == grid_before + 1
    refused = calls_into(h, BUILDING_CHAT, since=start)
    assert sorted(c.method for c in refused) == ["editMessageText", "sendMessage"]
    assert "🔒" not in (h.emu.message(BUILDING_CHAT, ballot.message_id).text or "")
    # Added back: the chat works again, and nothing stale is sent into it.
    h.emu.add_bot(BUILDING_CHAT, GRID_WORKER)
    back = await h.emu.wait_for_bot_message(
        BUILDING_CHAT, predicate=lambda m: "回来" in (m.text or "")
    )
    assert "1号楼" in (back.text or "")
    assert not await building_paused(h)


async def test_a_private_chat_that_blocked_the_bot_is_given_up_with_a_warning(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await community(h)
    await h.say(RESIDENT, RESIDENT, "/start")
    card = await h.say(BUILDING_CHAT, RESIDENT, "/propose 让 502 的邻居晚上小声点")
    h.emu.block_bot(RESIDENT)
    await h.press(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "❌ 不予受理")
    await h.edited(BUILDING_CHAT, card.message_id)
    await h.press(BUILDING_CHAT, card.message_id, BUILDING_HEAD, "个人之间的私人纠纷")
    await h.settle()
    assert "不予受理" in (h.emu.message(BUILDING_CHAT, card.message_id).text or "")
    dms = [c for c in h.emu.calls_of("sendMessage") if c.params.get("chat_id") == RESIDENT]
    assert [c.error_code for c in dms[-1:]] == [403]
    assert await count(h, rows(outbox).where(outbox.c.failed.is_(True))) == 1
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("giving up" in m and "blocked by the user" in m for m in warned)
    # A command answered after its sender blocked the bot: a warning, no apology attempted.
    h.emu.unblock_bot(RESIDENT)
    h.emu.send_message(RESIDENT, RESIDENT, "/help")
    h.emu.block_bot(RESIDENT)
    await h.settle()
    assert any("could not answer" in r.getMessage() for r in caplog.records)
    assert await removals(h) == []
    assert not await building_paused(h)


async def test_a_deleted_ballot_is_posted_again_while_voting_is_open(both: Harness) -> None:
    h = both
    await community(h)
    ballot = await voted_topic(h)
    number = topic_id(ballot)
    deleted_by_an_admin(h, BUILDING_CHAT, ballot.message_id)
    start = len(h.emu.calls)
    await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/extend {number} 1h")
    await h.settle()
    again = h.emu.bot_messages(BUILDING_CHAT)[-1]
    assert again.text is not None and again.text.startswith(f"📋 #{number}")
    assert tally(again) == {"同意": 1, "反对": 0, "弃权": 0}
    answer = await h.press(BUILDING_CHAT, again.message_id, NEIGHBOUR, "反对")
    assert answer["text"] == "已记录：反对"
    await h.settle()
    assert tally(h.emu.message(BUILDING_CHAT, again.message_id))["反对"] == 1
    # One "not found", one new post; the new message is the one kept up to date.
    edits = [c for c in calls_into(h, BUILDING_CHAT, since=start) if c.method == "editMessageText"]
    assert [c.ok for c in edits] == [False, True]
    assert "not found" in (edits[0].description or "")
    ballots = [m for m in h.emu.bot_messages(BUILDING_CHAT) if (m.text or "").startswith("📋")]
    assert [m.message_id for m in ballots] == [again.message_id]

    # Deleted again just before the close: a closed ballot is not posted again, the outcome
    # is announced (as a reply to the deleted message, which Telegram allows) once.
    deleted_by_an_admin(h, BUILDING_CHAT, again.message_id)
    await h.pass_time(timedelta(hours=2))
    await h.restart()  # and after a restart, still no ballot
    await h.settle()
    assert [m for m in h.emu.bot_messages(BUILDING_CHAT) if (m.text or "").startswith("📋")] == []
    assert len(with_text(h, BUILDING_CHAT, "结果：")) == 1


async def test_a_deleted_card_is_posted_again_while_the_matter_is_open(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "东门加装快递柜 期限=1h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    await h.pass_time(timedelta(hours=1))  # a tie: up to the grid
    (card,) = with_text(h, GRID_CHAT, "⬆️ 上报")
    # The grid worker takes it on as an admin deletes the card.
    taken = h.emu.press_button(GRID_CHAT, card.message_id, GRID_WORKER, "受理")
    deleted_by_an_admin(h, GRID_CHAT, card.message_id)
    assert (await h.emu.wait_for_answer(taken))["text"] == "已受理"
    await h.settle()
    (again,) = with_text(h, GRID_CHAT, "⬆️ 上报")
    assert again.message_id != card.message_id and "已受理（张网格）" in (again.text or "")
    assert again.button_texts() == ["发起网格表决", "解决", "上报社区"]
    # Resolved after it was deleted again: a finished card stays deleted.
    deleted_by_an_admin(h, GRID_CHAT, again.message_id)
    await h.say(GRID_CHAT, GRID_WORKER, f"/resolve {topic_id(ballot)} 在西门设置快递柜")
    await h.settle()
    assert with_text(h, GRID_CHAT, "⬆️ 上报") == []
    assert len(with_text(h, BUILDING_CHAT, "在西门设置快递柜")) == 1
