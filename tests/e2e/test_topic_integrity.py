"""Counts officers can trust: secret ballots, forged presses, redeliveries, restarts, scope."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from storage.tables import audit_log, ballots, topics
from tests.auxil.harness import Harness
from tests.auxil.topics import publish, tally, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    OTHER_BUILDING_CHAT,
    OUTSIDER,
    RESIDENT,
    code_in,
    community,
    count,
    rows,
)


async def test_a_secret_ballot_reveals_no_choice_anywhere(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # yishi caps the Telegram library's loggers at INFO
    await community(h)
    ballot = await publish(h, "是否罢免物业 匿名=yes 期限=1h")
    assert "无记名投票" in (ballot.text or "")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "反对")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "同意")
    await h.settle()
    async with h.services.database.transaction() as repos:
        stored = await repos.topics.ballots(topic_id(ballot))
        audit = await repos.audit.recent(limit=200)
    assert {b.user_id for b in stored} == {None}
    assert all(b.voter_key.startswith("s:") for b in stored)
    assert not [e for e in audit if e.details.get("option") or e.action.startswith("ballot")]
    await h.pass_time(timedelta(hours=1))
    async with h.services.database.transaction() as repos:
        closed = await repos.topics.get(topic_id(ballot))
    assert closed is not None and closed.ballot_salt is None  # keys now link to nobody
    result = await h.say(BUILDING_HEAD, BUILDING_HEAD, f"/result {topic_id(ballot)}")
    assert "钱阿姨" not in (result.text or "") and "孙大爷" not in (result.text or "")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "反对" not in logged and "v:1:" not in logged


async def test_forged_and_foreign_vote_data_is_answered_and_ignored(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "东门加装充电桩")
    number = topic_id(ballot)
    forged = {
        "v:x:0": "失效",
        f"v:{number}:7": "没有这个选项",
        f"v:{number}:-1": "没有这个选项",
        "v:999:0": "不属于本群",
        "💥": "失效",
        "v:" + "9" * 60: "失效",
    }
    for data, expected in forged.items():
        query = h.emu.press_callback(BUILDING_CHAT, ballot.message_id, RESIDENT, data)
        answer = await h.emu.wait_for_answer(query)
        assert expected in answer["text"], (data, answer)
    # The same button data pressed in the grid chat names a topic of another chat.
    h.emu.add_member(GRID_CHAT, RESIDENT)
    query = h.emu.press_callback(GRID_CHAT, 1, RESIDENT, f"v:{number}:0")
    assert "不属于本群" in (await h.emu.wait_for_answer(query))["text"]
    assert await count(h, rows(ballots)) == 0


async def test_a_redelivered_update_counts_once(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "楼道加装扶手")
    h.emu.press_button(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    press = h.emu.world.updates.pending[-1]  # no await since: the bot has not fetched it yet
    h.emu.inject_update(dict(press))  # Telegram delivers the same update again
    await h.settle()
    assert await count(h, rows(ballots)) == 1
    assert len(h.emu.calls_of("answerCallbackQuery")) == 1


async def test_two_presses_at_once_by_one_voter_leave_one_ballot(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "楼道加装扶手")
    queries = [
        h.emu.press_button(BUILDING_CHAT, ballot.message_id, RESIDENT, option)
        for option in ("同意", "反对", "同意", "弃权")
    ]
    await asyncio.gather(*(h.emu.wait_for_answer(q) for q in queries))
    await h.settle()
    assert await count(h, rows(ballots)) == 1
    shown = tally(h.emu.message(BUILDING_CHAT, ballot.message_id))
    assert sum(shown.values()) == 1 and shown["弃权"] == 1


async def test_tally_edits_are_coalesced(tmp_path: object) -> None:
    from pathlib import Path

    h = Harness(Path(str(tmp_path)), tally_interval=0.6)
    await h.start()
    try:
        await community(h)
        ballot = await publish(h, "加装快递柜")
        voters = [100 + i for i in range(12)]
        for voter in voters:
            h.user(voter, f"居民{voter}")
            h.emu.add_member(BUILDING_CHAT, voter)
        edits_before = len(h.emu.calls_of("editMessageText"))
        queries = [
            h.emu.press_button(BUILDING_CHAT, ballot.message_id, voter, "同意") for voter in voters
        ]
        await asyncio.gather(*(h.emu.wait_for_answer(q) for q in queries))
        await h.settle()
        edits = [
            call
            for call in h.emu.calls_of("editMessageText")[edits_before:]
            if call.params.get("message_id") == ballot.message_id
        ]
        assert 1 <= len(edits) <= 3, len(edits)  # 12 presses, at most one edit per 0.6 s
        assert tally(h.emu.message(BUILDING_CHAT, ballot.message_id))["同意"] == 12
        # Nothing changed since: a refresh sends no edit at all.
        h.app.bot_data.runtime.live.touch(topic_id(ballot))  # type: ignore[union-attr]
        await h.settle()
        assert len(h.emu.calls_of("editMessageText")) == edits_before + len(edits)
    finally:
        await h.stop()


async def test_votes_survive_a_restart_and_an_overdue_deadline_closes_once(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "更换单元门 期限=2h")
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "同意")
    await h.stop_bot()
    h.clock.advance(timedelta(hours=3))  # the deadline passes while the bot is down
    await h.start_bot()
    await h.settle()
    closed = h.emu.message(BUILDING_CHAT, ballot.message_id)
    assert "🔒 已结束：通过" in (closed.text or "")
    assert tally(closed) == {"同意": 2, "反对": 0, "弃权": 0}
    await h.restart()
    await h.pass_time(timedelta(hours=1))
    announcements = [
        m
        for m in h.emu.bot_messages(BUILDING_CHAT)
        if "已结束" in (m.text or "") and m.reply_to_message_id
    ]
    assert len(announcements) == 1
    assert await count(h, rows(audit_log).where(audit_log.c.action == "topic.closed")) == 1


async def test_a_grid_topic_for_all_buildings_has_one_aggregated_tally(h: Harness) -> None:
    await community(h)
    issued = await h.say(GRID_CHAT, GRID_WORKER, "/newbuilding 2号楼")
    await h.group(OTHER_BUILDING_CHAT, "2号楼议事群", members=[OUTSIDER], admins=[GRID_WORKER])
    await h.say(OTHER_BUILDING_CHAT, GRID_WORKER, f"/bind {code_in(issued.text)}")
    refused = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/topic 全楼议题 范围=all")
    assert "只能用于网格或社区" in (refused.text or "")
    sent = h.emu.send_message(GRID_CHAT, GRID_WORKER, "/topic 网格统一更换路灯 范围=all 期限=1d")
    confirmation = await h.emu.wait_for_bot_message(
        GRID_CHAT, after=sent.message_id, predicate=lambda m: "已发布" in (m.text or "")
    )
    assert "2 个楼栋群" in (confirmation.text or "")
    await h.settle()
    first = next(
        m for m in h.emu.bot_messages(BUILDING_CHAT) if "网格统一更换路灯" in (m.text or "")
    )
    second = next(
        m for m in h.emu.bot_messages(OTHER_BUILDING_CHAT) if "网格统一更换路灯" in (m.text or "")
    )
    overview = next(
        m for m in h.emu.bot_messages(GRID_CHAT) if "网格统一更换路灯" in (m.text or "")
    )
    assert "同意" not in overview.button_texts()  # the grid chat watches, buildings vote
    await h.press(BUILDING_CHAT, first.message_id, RESIDENT, "同意")
    await h.press(OTHER_BUILDING_CHAT, second.message_id, OUTSIDER, "反对")
    await h.settle()
    for chat, message in (
        (BUILDING_CHAT, first),
        (OTHER_BUILDING_CHAT, second),
        (GRID_CHAT, overview),
    ):
        assert tally(h.emu.message(chat, message.message_id)) == {"同意": 1, "反对": 1, "弃权": 0}
    assert await count(h, rows(topics)) == 1
