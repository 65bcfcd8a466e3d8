"""Issue 13.4: a group that became a supergroup while the bot had mail queued for it.

Telegram answers a send to the old id with 400 "group chat was upgraded to a supergroup chat"
and the new id; the bot sends there at once and moves the chat everywhere, instead of trying
the old id again for hours. Here the bot learns of the upgrade only from that answer (the
service messages have not reached it), which is the case the send path must handle alone.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from emulators.telegram.world import ApiCall
from storage.tables import chat_bindings, topic_posts
from tests.auxil.harness import Harness
from tests.auxil.meetings import reminders, schedule
from tests.auxil.topics import pending_card, publish, request_registration, tally, topic_id
from tests.auxil.world import GRID_CHAT, GRID_WORKER, RESIDENT, code_in, community

OLD, NEW = -555, -100555  # the basic group, and the supergroup it became


def to_chat(calls: list[ApiCall], chat_id: int) -> list[ApiCall]:
    return [call for call in calls if str(call.params.get("chat_id")) == str(chat_id)]


async def basic_group_building(h: Harness) -> None:
    """A second building bound to a basic group (not a supergroup), a resident in it."""
    await community(h)
    issued = await h.say(GRID_CHAT, GRID_WORKER, "/newbuilding 2号楼")
    h.emu.add_group(
        OLD,
        "2号楼群",
        members=[RESIDENT],
        admins=[GRID_WORKER],
        creator=GRID_WORKER,
        type="group",
        added_by=GRID_WORKER,
    )
    await h.emu.wait_for_bot_message(OLD)
    bound = await h.say(OLD, GRID_WORKER, f"/bind {code_in(issued.text)}")
    assert "2号楼" in (bound.text or "")


async def test_a_queued_outcome_goes_to_the_supergroup_at_once_and_the_rest_follows(
    both: Harness,
) -> None:
    h = both
    await basic_group_building(h)
    closing = await publish(h, "修缮自行车棚 期限=1h", chat=OLD, by=GRID_WORKER)
    staying = await publish(h, "加装楼道照明 期限=3d", chat=OLD, by=GRID_WORKER)
    pressed = await h.press(OLD, closing.message_id, RESIDENT, "同意")
    assert pressed["text"] == "已记录：同意"
    await schedule(h, "2026-12-02 19:00 楼栋议事会", chat=OLD, by=GRID_WORKER)
    await h.settle()

    h.emu.migrate_to_supergroup(OLD, NEW, announce=False)
    upgraded_at = len(h.emu.calls)
    await h.pass_time(timedelta(hours=1))  # the deadline: an outcome queued for the old id

    # Delivered to the new id within this step: no retry waited for (the clock stood still).
    outcome = next(m for m in h.emu.bot_messages(NEW) if "结果：通过" in (m.text or ""))
    assert f"#{topic_id(closing)}" in (outcome.text or "") and "同意：1" in (outcome.text or "")
    refused = [call for call in to_chat(h.emu.calls[upgraded_at:], OLD) if call.ok is False]
    assert refused, "the bot never tried the old id"
    assert all(call.error_code == 400 for call in refused)
    assert all("upgraded to a supergroup" in (call.description or "") for call in refused)
    # Each kind of message tried the old id once at most (the outcome, the closed ballot's
    # last edit): whichever met the refusal first moved the chat for both.
    assert len([call for call in refused if call.method == "sendMessage"]) <= 1
    assert len([call for call in refused if call.method == "editMessageText"]) <= 1

    # The open topic's ballot is posted again in the supergroup, and voting goes on there.
    (reposted,) = [
        m for m in h.emu.bot_messages(NEW) if (m.text or "").startswith(f"📋 #{topic_id(staying)}")
    ]
    asked = len(h.emu.calls_of("getChatMember"))
    voted = await h.press(NEW, reposted.message_id, RESIDENT, "反对")
    assert voted["text"] == "已记录：反对"
    await h.settle()
    assert tally(h.emu.message(NEW, reposted.message_id))["反对"] == 1
    assert len(h.emu.calls_of("getChatMember")) == asked  # the membership moved with it
    # The coming meeting's announcement too, and its reminder goes to the new id.
    announced = [m for m in h.emu.bot_messages(NEW) if (m.text or "").startswith("📅")]
    assert len(announced) == 1 and "楼栋议事会" in (announced[0].text or "")
    await h.pass_time(timedelta(hours=9))  # 24 h before 19:00 tomorrow
    assert len(reminders(h, NEW)) == 1 and reminders(h, OLD) == []

    # The chat moved everywhere: the binding and the ballot's post.
    async with h.services.database.transaction() as repos:
        binding = (
            await repos.connection.execute(
                select(chat_bindings.c.chat_id, chat_bindings.c.active).where(
                    chat_bindings.c.chat_id.in_((OLD, NEW))
                )
            )
        ).all()
        post_chat = (
            await repos.connection.execute(
                select(topic_posts.c.chat_id).where(topic_posts.c.topic_id == topic_id(staying))
            )
        ).scalar_one()
    assert [tuple(row) for row in binding] == [(NEW, True)]
    assert post_chat == NEW

    # Later messages go to the new id directly: a command there, and its outcome.
    before = len(h.emu.calls)
    await h.say(NEW, GRID_WORKER, f"/close {topic_id(staying)}")
    await h.settle()
    (second,) = [
        m
        for m in h.emu.bot_messages(NEW)
        if "结果" in (m.text or "") and f"#{topic_id(staying)}" in (m.text or "")
    ]
    assert "反对：1" in (second.text or "")
    assert to_chat(h.emu.calls[before:], OLD) == []


async def test_the_service_message_after_the_refused_send_changes_nothing_more(
    h: Harness,
) -> None:
    """Both ways of learning of the upgrade, one after the other: one move, one greeting."""
    await basic_group_building(h)
    await publish(h, "修缮自行车棚 期限=1h", chat=OLD, by=GRID_WORKER)
    h.emu.migrate_to_supergroup(OLD, NEW, announce=False)
    await h.pass_time(timedelta(hours=1))
    assert any("结果" in (m.text or "") for m in h.emu.bot_messages(NEW))
    # The service messages arrive late (as a real bot may fetch them after its sends).
    h.emu.announce_migration(OLD)
    greeting = await h.emu.wait_for_bot_message(NEW, predicate=lambda m: "超级群" in (m.text or ""))
    assert "2号楼" in (greeting.text or "")
    reply = await h.say(NEW, GRID_WORKER, "/roles")
    assert "2号楼" in (reply.text or "")
    async with h.services.database.transaction() as repos:
        node = await repos.orgs.node_of_chat(NEW)
        assert node is not None and node.name == "2号楼"
        assert await repos.orgs.node_of_chat(OLD) is None
        chat = await repos.chats.get(NEW)
    assert chat is not None and chat.bot_status != "migrated"


async def test_after_the_service_message_nothing_is_sent_to_the_old_id(both: Harness) -> None:
    """The usual order (the bot sees the upgrade first): the open ballot moves at once, and
    neither it nor its outcome is ever tried at the old id."""
    h = both
    await basic_group_building(h)
    ballot = await publish(h, "加装楼道照明 期限=3d", chat=OLD, by=GRID_WORKER)
    await h.press(OLD, ballot.message_id, RESIDENT, "同意")
    await h.settle()
    upgraded_at = len(h.emu.calls)
    h.emu.migrate_to_supergroup(OLD, NEW)
    await h.emu.wait_for_bot_message(NEW, predicate=lambda m: "超级群" in (m.text or ""))
    reposted = await h.emu.wait_for_bot_message(
        NEW, predicate=lambda m: (m.text or "").startswith(f"📋 #{topic_id(ballot)}")
    )
    assert tally(reposted)["同意"] == 1
    await h.say(NEW, GRID_WORKER, f"/close {topic_id(ballot)}")
    await h.settle()
    assert any("结果：通过" in (m.text or "") for m in h.emu.bot_messages(NEW))
    assert to_chat(h.emu.calls[upgraded_at:], OLD) == []


async def test_a_pending_registration_card_follows_the_group_into_the_supergroup(
    both: Harness,
) -> None:
    """Requests waiting for approval are not stranded in the old group, whose buttons Telegram
    no longer accepts: the card is posted in the supergroup, and approving there works."""
    h = both
    await basic_group_building(h)
    await request_registration(h, RESIDENT, "3-101", "75", chat=OLD)
    await h.settle()
    h.emu.migrate_to_supergroup(OLD, NEW)
    await h.emu.wait_until(lambda: pending_card(h, "3-101", NEW) is not None)
    card = pending_card(h, "3-101", NEW)
    assert card is not None and "待审核登记：1" in (card.text or "")
    answer = await h.press(NEW, card.message_id, GRID_WORKER, "✅ 3-101 通过")
    assert answer["text"] == "已通过", answer
