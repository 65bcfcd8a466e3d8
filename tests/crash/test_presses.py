"""(a) a burst of presses and (e) a kill between fetching an update and handling it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from sqlalchemy import select

from storage.tables import ballots, topic_posts, topics
from tests.auxil.process import ProcessHarness
from tests.auxil.topics import publish, tally, topic_id
from tests.auxil.world import BUILDING_CHAT, BUILDING_HEAD, NEIGHBOUR, RESIDENT, community

OPTIONS = ("同意", "反对", "弃权")
VOTERS = range(100, 140)


async def stored_ballots(h: ProcessHarness, topic: int) -> list[tuple[int, int]]:
    query = select(ballots.c.user_id, ballots.c.option).where(ballots.c.topic_id == topic)
    return sorted((row.user_id, row.option) for row in await h.rows(query))


async def shows_tally(h: ProcessHarness, message_id: int, expected: Mapping[str, int]) -> None:
    """The ballot message comes to show this tally (edits are coalesced, 3 s apart)."""
    await h.emu.wait_until(
        lambda: tally(h.emu.message(BUILDING_CHAT, message_id)) == dict(expected)
    )


async def test_a_burst_of_presses_killed_midway_counts_every_press_once(
    ph: ProcessHarness,
) -> None:
    h = ph
    await community(h)
    ballot = await publish(h, "加装快递柜")
    for voter in VOTERS:
        h.user(voter, f"居民{voter}")
        h.emu.add_member(BUILDING_CHAT, voter)
    await h.settle()
    choice = {voter: voter % len(OPTIONS) for voter in VOTERS}
    queries: dict[int, str] = {}

    def press(voters: list[int]) -> None:
        for voter in voters:
            option = OPTIONS[choice[voter]]
            queries[voter] = h.emu.press_button(BUILDING_CHAT, ballot.message_id, voter, option)

    def answered() -> set[int]:
        return {voter for voter, query in queries.items() if h.emu.answer(query) is not None}

    # A quarter are answered; then the bot dies in the middle of the rest: some ballots
    # committed whose answers are in flight (held), others fetched or not yet fetched.
    first, rest = VOTERS[: len(VOTERS) // 4], VOTERS[len(VOTERS) // 4 :]
    press(first)
    await h.emu.wait_until(lambda: answered() == set(first))
    h.emu.hold("answerCallbackQuery")
    press(rest)
    await h.emu.wait_until(lambda: len(h.emu.held_calls) >= 5)
    await h.kill_bot()
    answered_before_the_kill = answered()
    assert answered_before_the_kill == set(first)  # it died in the middle of the burst
    h.emu.release("answerCallbackQuery")
    await h.start_bot()
    for query in queries.values():
        await h.emu.wait_for_answer(query)
    counted = await stored_ballots(h, topic_id(ballot))
    # Every press counted (those answered before the kill among them), none twice.
    assert counted == sorted(choice.items())
    assert answered_before_the_kill <= {user for user, _ in counted}
    await shows_tally(h, ballot.message_id, Counter(OPTIONS[n] for n in choice.values()))


async def test_updates_fetched_and_confirmed_but_not_handled_survive_a_kill(
    ph_both: ProcessHarness,
) -> None:
    h = ph_both
    await community(h)
    ballot = await publish(h, "楼道加装扶手")
    # The bot handles updates one by one: while it waits for the answer to this press to go
    # through, the updates after it are fetched but not handled.
    h.emu.hold("answerCallbackQuery")
    first = h.emu.press_button(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.emu.wait_until(lambda: len(h.emu.held_calls) == 1)
    second = h.emu.press_button(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    h.emu.send_message(BUILDING_CHAT, BUILDING_HEAD, "/topic 东门加装充电桩")
    last = h.emu.world.updates.next_update_id - 1
    # ...and confirmed: the bot's next getUpdates carried a higher offset, so Telegram will
    # never deliver them again. python-telegram-bot alone loses them if it dies now.
    await h.emu.wait_until(lambda: h.emu.confirmed_offset > last)
    await h.kill_bot()
    h.emu.release("answerCallbackQuery")
    assert h.emu.pending_updates == 0
    await h.start_bot()
    # The first press was being answered when the bot died: its vote had been recorded, and
    # handled again it is found there ("你已选择"), not counted a second time.
    assert (await h.emu.wait_for_answer(first))["text"] == "你已选择：同意"
    assert (await h.emu.wait_for_answer(second))["text"] == "已记录：反对"
    charging = await h.emu.wait_for_bot_message(
        BUILDING_CHAT, predicate=lambda m: "东门加装充电桩" in (m.text or "")
    )
    await h.settle()
    assert await stored_ballots(h, topic_id(ballot)) == [(RESIDENT, 0), (NEIGHBOUR, 1)]
    titled = select(topics.c.id).where(topics.c.title == "东门加装充电桩")
    assert [row.id for row in await h.rows(titled)] == [topic_id(charging)]  # published once
    posts = select(topic_posts.c.message_id).where(topic_posts.c.topic_id == topic_id(charging))
    assert len(await h.rows(posts)) == 1
    assert [m for m in h.emu.bot_messages(BUILDING_CHAT) if "东门加装充电桩" in (m.text or "")] == [
        charging
    ]
    await shows_tally(h, ballot.message_id, {"同意": 1, "反对": 1, "弃权": 0})
