"""Issue 13.4: forum supergroups (topics enabled).

A command sent in a forum topic is answered in that topic, and what the bot posts about a
topic (议题) or a meeting stays in the thread it was created in: the ballot, its refreshes,
the outcome (at ``/close`` or at the deadline), the meeting's announcement and reminders. A
command in the General topic is answered there, with no thread.
"""

from __future__ import annotations

from datetime import timedelta

from emulators.telegram import EmuMessage
from tests.auxil.harness import Harness
from tests.auxil.meetings import reminders
from tests.auxil.topics import tally, topic_id
from tests.auxil.world import (
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    code_in,
    community,
)

FORUM = -1009001  # a building group with topics enabled


async def forum_building(h: Harness) -> None:
    await community(h)
    issued = await h.say(GRID_CHAT, GRID_WORKER, "/newbuilding 3号楼")
    h.emu.add_group(
        FORUM,
        "3号楼业主论坛",
        members=[RESIDENT, NEIGHBOUR],
        admins=[GRID_WORKER],
        creator=GRID_WORKER,
        forum=True,
    )
    await h.emu.wait_for_bot_message(FORUM)
    bound = await h.say(FORUM, GRID_WORKER, f"/bind {code_in(issued.text)}")
    assert "3号楼" in (bound.text or "") and bound.message_thread_id is None


def outcomes(h: Harness, number: int) -> list[EmuMessage]:
    return [
        m
        for m in h.emu.bot_messages(FORUM)
        if "结果" in (m.text or "") and f"#{number}" in (m.text or "")
    ]


async def test_a_vote_stays_in_the_forum_topic_it_was_published_in(both: Harness) -> None:
    h = both
    await forum_building(h)
    parking = h.emu.create_forum_topic(FORUM, RESIDENT, "停车问题")
    bikes = h.emu.create_forum_topic(FORUM, NEIGHBOUR, "车棚")

    ballot = await h.say(FORUM, GRID_WORKER, "/topic 增设临时车位 期限=3d", thread=parking)
    assert (ballot.text or "").startswith("📋 #") and ballot.message_thread_id == parking
    shed = await h.say(FORUM, GRID_WORKER, "/topic 修缮车棚 期限=1h", thread=bikes)
    assert shed.message_thread_id == bikes

    pressed = await h.press(FORUM, ballot.message_id, RESIDENT, "同意")
    assert pressed["text"] == "已记录：同意"
    refreshed = await h.edited(FORUM, ballot.message_id)  # the same message, in its thread
    assert tally(refreshed)["同意"] == 1 and refreshed.message_thread_id == parking

    # A reply to the ballot in the topic is an opinion, as anywhere.
    h.emu.send_message(FORUM, NEIGHBOUR, "建议晚上开放", reply_to=ballot.message_id)
    await h.settle()
    assert "意见 1 条" in (h.emu.message(FORUM, ballot.message_id).text or "")

    # An officer's nudge, sent from General, reminds people in the ballot's thread.
    h.emu.send_message(FORUM, GRID_WORKER, f"/nudge {topic_id(ballot)}")
    await h.settle()
    (nudge,) = [m for m in h.emu.bot_messages(FORUM) if (m.text or "").startswith("⏰ 议题")]
    assert nudge.message_thread_id == parking and f"#{topic_id(ballot)}" in (nudge.text or "")

    closed = await h.say(FORUM, GRID_WORKER, f"/close {topic_id(ballot)}", thread=parking)
    await h.settle()
    (outcome,) = outcomes(h, topic_id(ballot))
    assert outcome.message_thread_id == parking, closed.text
    assert "同意：1" in (outcome.text or "")
    final = h.emu.message(FORUM, ballot.message_id)
    assert "🔒" in (final.text or "") and final.message_thread_id == parking

    # The record, exported in the topic, comes back there as files.
    asked = h.emu.send_message(FORUM, GRID_WORKER, f"/export {topic_id(ballot)}", thread=parking)
    await h.settle()
    files = [m for m in h.emu.bot_messages(FORUM) if m.document and m.message_id > asked.message_id]
    assert len(files) == 2 and all(m.message_thread_id == parking for m in files)

    # The deadline's outcome, posted by the due work, goes to its own topic's thread too.
    await h.pass_time(timedelta(hours=1))
    (timed,) = outcomes(h, topic_id(shed))
    assert timed.message_thread_id == bikes

    # Unresolved (no votes), it went up to the grid; the outcome says so and, once the grid
    # decides, the decision comes back to the topic's thread.
    await h.say(GRID_CHAT, GRID_WORKER, f"/resolve {topic_id(shed)} 网格安排维修")
    await h.settle()
    told = [m for m in h.emu.bot_messages(FORUM) if f"#{topic_id(shed)}" in (m.text or "")]
    assert any("网格安排维修" in (m.text or "") for m in told)
    assert any("已上报网格" in (m.text or "") for m in told)
    assert len(told) >= 3 and all(m.message_thread_id == bikes for m in told), [
        (m.text, m.message_thread_id) for m in told
    ]

    # Nothing the bot sent about these topics landed in General.
    general = [m for m in h.emu.bot_messages(FORUM) if m.message_thread_id is None]
    assert all(f"#{topic_id(ballot)}" not in (m.text or "") for m in general)
    assert all(f"#{topic_id(shed)}" not in (m.text or "") for m in general)


async def test_a_command_in_general_is_answered_without_a_thread(both: Harness) -> None:
    h = both
    await forum_building(h)
    parking = h.emu.create_forum_topic(FORUM, RESIDENT, "停车问题")
    in_topic = await h.say(FORUM, RESIDENT, "/topics", thread=parking)
    assert in_topic.message_thread_id == parking
    in_general = await h.say(FORUM, RESIDENT, "/topics")
    assert in_general.message_thread_id is None
    ballot = await h.say(FORUM, GRID_WORKER, "/topic 粉刷楼道 期限=1h")
    assert (ballot.text or "").startswith("📋 #") and ballot.message_thread_id is None
    await h.pass_time(timedelta(hours=1))
    (outcome,) = outcomes(h, topic_id(ballot))
    assert outcome.message_thread_id is None
    # A refusal in a topic is answered in that topic too.
    refused = await h.say(FORUM, RESIDENT, "/topic 我来发起", thread=parking)
    assert "/propose" in (refused.text or "") and refused.message_thread_id == parking


async def test_a_meeting_and_its_reminders_stay_in_the_topic_it_was_scheduled_in(
    both: Harness,
) -> None:
    h = both
    await forum_building(h)
    meetings_topic = h.emu.create_forum_topic(FORUM, GRID_WORKER, "议事会")
    sent = h.emu.send_message(
        FORUM, GRID_WORKER, "/meeting 2026-12-02 19:00 楼栋议事会", thread=meetings_topic
    )
    announcement = await h.emu.wait_for_bot_message(
        FORUM, after=sent.message_id, predicate=lambda m: (m.text or "").startswith("📅")
    )
    assert announcement.message_thread_id == meetings_topic
    await h.settle()
    await h.pass_time(timedelta(hours=10))  # 24 h before 19:00 tomorrow
    (reminder,) = reminders(h, FORUM)
    assert reminder.message_thread_id == meetings_topic
    answered = await h.press(FORUM, reminder.message_id, RESIDENT, "参加")
    assert answered["text"]
    await h.settle()
    assert h.emu.message(FORUM, reminder.message_id).message_thread_id == meetings_topic
    assert all(m.message_thread_id == meetings_topic for m in reminders(h, FORUM))


async def test_an_outcome_whose_topic_was_deleted_goes_to_general(both: Harness) -> None:
    h = both
    await forum_building(h)
    parking = h.emu.create_forum_topic(FORUM, RESIDENT, "停车问题")
    ballot = await h.say(FORUM, GRID_WORKER, "/topic 增设临时车位 期限=1h", thread=parking)
    await h.press(FORUM, ballot.message_id, RESIDENT, "同意")
    await h.settle()
    h.emu.delete_forum_topic(FORUM, parking)  # with the ballot in it
    await h.pass_time(timedelta(hours=1))
    (outcome,) = outcomes(h, topic_id(ballot))  # not lost: in General
    assert outcome.message_thread_id is None and "同意：1" in (outcome.text or "")
    refused = [
        call
        for call in h.emu.calls_of("sendMessage")
        if call.params.get("message_thread_id") == parking and call.ok is False
    ]
    assert [call.description for call in refused] == ["Bad Request: message thread not found"]


async def test_a_role_command_in_a_topic_that_replies_to_nobody_names_nobody(
    both: Harness,
) -> None:
    """In a forum, Telegram makes a message that replies to nothing a reply to the topic's
    creation; that must not give the topic's creator a role."""
    h = both
    await forum_building(h)
    parking = h.emu.create_forum_topic(FORUM, RESIDENT, "停车问题")
    asked = await h.say(FORUM, GRID_WORKER, "/role building_head", thread=parking)
    assert asked.message_thread_id == parking
    async with h.services.database.transaction() as repos:
        node = await repos.orgs.node_of_chat(FORUM)
        assert node is not None
        roles = await repos.roles.at_nodes([node.id])
    assert all(role.user_id != RESIDENT for role in roles), asked.text
    # A real reply in the topic still names its author.
    said = h.emu.send_message(FORUM, NEIGHBOUR, "我来当楼栋长", thread=parking)
    given = await h.say(
        FORUM, GRID_WORKER, "/role building_head", reply_to=said.message_id, thread=parking
    )
    assert given.message_thread_id == parking and "孙大爷" in (given.text or ""), given.text
