"""Yishi on WeCom when WeCom or the network goes wrong, on SQLite and PostgreSQL: the long
connection dropped in the middle of a burst of presses, a frame refused, a slow WeCom.
Whatever happens to the answers, every press WeCom delivered counts once, in the tally
stored and in the card people see."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.services.actors import ChatKind, Place
from emulators.wecom.replies import Issued
from emulators.wecom.server import Frame
from emulators.wecom.world import Place as WeComPlace
from tests.e2e_wecom.conftest import BOT_ID, BUILDING_GROUP, GRID_CHAT, SUPERADMIN, World

OPTIONS = {"同意": "o0", "反对": "o1", "弃权": "o2"}


@dataclass
class Topic:
    people: list[str]  # the residents' userids
    task_id: str  # its card's
    topic_id: int


async def a_topic_with_residents(
    world: World, residents: int, chatid: str = BUILDING_GROUP, code: str | None = None
) -> Topic:
    """``chatid`` bound with zhangsan as its head, ``residents`` more members, and an open
    topic with its card."""
    emu = world.emu
    if chatid not in emu.world.groups:
        emu.add_group(chatid, chatid, ["zhangsan"])
    issued = await emu.mention("zhangsan", chatid, f"/bind {code or world.building_code}")
    assert (await emu.wait_answered(issued.req_id)).errcode == 0
    place = Place(await world.chat_id(chatid), ChatKind.GROUP)
    head = await world.yishi_id("zhangsan")
    await world.services.roles.grant(SUPERADMIN, place, head, "building_head")
    people = [f"{chatid}-r{n:02d}" for n in range(residents)]
    for userid in people:
        emu.add_person(userid, userid)
        emu.world.group(chatid).members.append(userid)
    issued = await emu.mention("zhangsan", chatid, "/topic 加装电梯 期限=3d")
    assert (await emu.wait_answered(issued.req_id)).errcode == 0
    card = emu.world.seen_by("zhangsan", WeComPlace("group", chatid))[-1].card
    assert card is not None and card["card_type"] == "vote_interaction"
    topic_id = int(str(card["submit_button"]["key"]).removeprefix("vote:"))
    return Topic(people, str(card["task_id"]), topic_id)


def accepted(world: World, issued: Issued) -> list[Frame]:
    """The card updates WeCom took on the press's req_id."""
    return [
        frame
        for frame in world.emu.frames
        if frame.req_id == issued.req_id
        and frame.cmd == "aibot_respond_update_msg"
        and frame.errcode == 0
    ]


async def all_answered(world: World, presses: list[Issued]) -> None:
    """Waits until WeCom took a card update for every press (WeCom takes one only within 5 s
    of the press: a press answered later stays unanswered, and this times out)."""
    await world.emu.wait_for(lambda: all(accepted(world, press) for press in presses), timeout=15)


def shown_tally(world: World, chatid: str = BUILDING_GROUP) -> str:
    card = world.emu.world.seen_by("zhangsan", WeComPlace("group", chatid))[-1].card
    assert card is not None
    return str(card["main_title"]["desc"])


async def stored_counts(world: World, topic: Topic) -> dict[int, int]:
    async with world.services.database.transaction() as repos:
        return await repos.topics.counts(topic.topic_id)


async def test_a_connection_dropped_mid_burst_loses_no_press_and_counts_none_twice(
    world: World,
) -> None:
    emu, connection = world.emu, world.channel.connection
    emu.behaviour.redeliver_after_reconnect = True  # WeCom: callbacks may come again
    topic = await a_topic_with_residents(world, 30)
    people, task_id = topic.people, topic.task_id
    emu.drop_connection_after(BOT_ID, frames=10)  # the 10th answer is taken, its ack lost
    presses = await asyncio.gather(
        *(emu.submit_vote(userid, task_id, [f"o{n % 3}"]) for n, userid in enumerate(people))
    )
    await emu.wait_for(lambda: connection.connects == 2, timeout=15)  # back, with backoff
    await all_answered(world, presses)
    assert emu.redelivered, "the drop should have left presses to deliver again"
    assert await stored_counts(world, topic) == {0: 10, 1: 10, 2: 10}
    assert "同意：10 · 反对：10 · 弃权：10" in shown_tally(world)

    # A press delivered again after its person changed their mind does not undo the change.
    first = await emu.submit_vote(people[0], task_id, [OPTIONS["反对"]])
    await all_answered(world, [first])
    second = await emu.submit_vote(people[0], task_id, [OPTIONS["弃权"]])
    await all_answered(world, [second])
    answers = len(accepted(world, first))
    await emu.deliver(first, "aibot_event_callback")  # WeCom repeats the first press
    await emu.wait_for(lambda: len(accepted(world, first)) > answers, timeout=15)
    assert await stored_counts(world, topic) == {0: 9, 1: 10, 2: 11}
    assert "同意：9 · 反对：10 · 弃权：11" in shown_tally(world)


class Warnings(logging.Handler):
    """The adapter's warnings, and an event set by each."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.said = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.said.set()


async def test_a_refused_frame_is_logged_and_the_next_presses_work(world: World) -> None:
    emu = world.emu
    topic = await a_topic_with_residents(world, 3)
    people, task_id = topic.people, topic.task_id
    emu.refuse_next("aibot_respond_update_msg", 846601, "system busy")
    warnings = Warnings()
    logger = logging.getLogger("channels.wecom.adapter")
    logger.addHandler(warnings)
    try:
        refused = await emu.submit_vote(people[0], task_id, [OPTIONS["同意"]])
        assert (await emu.wait_answered(refused.req_id)).errcode == 846601
        await asyncio.wait_for(warnings.said.wait(), 15)
    finally:
        logger.removeHandler(warnings)
    assert "846601" in warnings.messages[0], warnings.messages
    assert await stored_counts(world, topic) == {0: 1}  # the ballot stands; its answer is lost
    later = [
        await emu.submit_vote(people[1], task_id, [OPTIONS["反对"]]),
        await emu.submit_vote(people[2], task_id, [OPTIONS["同意"]]),
    ]
    await all_answered(world, later)
    assert "同意：2 · 反对：1 · 弃权：0" in shown_tally(world)

    emu.refuse_next("aibot_respond_msg", 846601, "system busy")  # a command's answer too
    issued = await emu.mention("zhangsan", BUILDING_GROUP, "/help")
    assert (await emu.wait_answered(issued.req_id)).errcode == 846601
    again = await emu.mention("zhangsan", BUILDING_GROUP, "/help")
    assert (await emu.wait_answered(again.req_id)).errcode == 0
    assert world.channel.connection.connects == 1  # no reconnect: nothing was broken


async def test_a_slow_wecom_leaves_every_press_answered_in_time_in_every_chat(
    world: World,
) -> None:
    emu = world.emu
    grid = Place(GRID_CHAT, ChatKind.GROUP)
    second_code = await world.services.orgs.issue_code(SUPERADMIN, grid, "4号楼", "building")
    a = await a_topic_with_residents(world, 12)
    b = await a_topic_with_residents(world, 12, chatid="wrBuilding0004", code=second_code.code)
    emu.drop_unanswered_events(after=5.0)  # as WeCom: an event unanswered in 5 s is dropped
    emu.delay_pushes(2.0)  # each press reaches the bot 2 s after it was made
    emu.delay_acks(1.5)  # and each answer is acknowledged 1.5 s after WeCom took it
    presses = await asyncio.gather(
        *(emu.submit_vote(u, a.task_id, [OPTIONS["同意"]]) for u in a.people),
        *(emu.submit_vote(u, b.task_id, [OPTIONS["反对"]]) for u in b.people),
    )
    # Handled one after another, 24 answers each waiting 1.5 s for its ack would be far past
    # WeCom's 5 s; every press is answered in its window, in both chats.
    await all_answered(world, presses)
    assert emu.dropped_events == []
    assert await stored_counts(world, a) == {0: 12}
    assert await stored_counts(world, b) == {1: 12}
    assert "同意：12 · 反对：0" in shown_tally(world)
    assert "同意：0 · 反对：12" in shown_tally(world, "wrBuilding0004")
