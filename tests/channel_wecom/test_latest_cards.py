"""Presses answered meanwhile share one read (or one drawing) of the cards, and no answer
shows an older card than one already given."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from channels.wecom.latest_cards import Key, LatestCards


class Tallies:
    """Reads that return each card's tally as it was when the read began, and wait until
    released, so a test decides when a read finishes."""

    def __init__(self) -> None:
        self.tally = 0
        self.order = 0  # the tallies' numbers, in the order read
        self.reads: list[list[Key]] = []
        self.release: asyncio.Queue[None] = asyncio.Queue()

    async def __call__(self, keys: Sequence[Key]) -> tuple[int, dict[Key, dict[str, Any] | None]]:
        seen = self.tally
        self.order += 1
        order = self.order
        self.reads.append(list(keys))
        await self.release.get()
        return order, {key: {"tally": seen, "key": key} for key in keys}


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_callers_during_a_read_share_the_next_one_which_counts_their_ballots() -> None:
    tallies = Tallies()
    cards = LatestCards(tallies)
    first = asyncio.ensure_future(cards.current(1, 10))
    await settle()
    tallies.tally = 1  # a ballot committed while the first read runs
    second = [asyncio.ensure_future(cards.current(1, 10)) for _ in range(3)]
    other = asyncio.ensure_future(cards.current(2, 20))
    await settle()
    assert tallies.reads == [[(1, 10)]]
    tallies.release.put_nowait(None)
    assert (await first)["tally"] == 0
    await settle()
    assert tallies.reads == [[(1, 10)], [(1, 10), (2, 20)]]  # one read for all who waited
    tallies.release.put_nowait(None)
    assert [(await card)["tally"] for card in second] == [1, 1, 1]
    assert (await other)["key"] == (2, 20)


async def test_a_caller_answers_with_the_newest_card_read() -> None:
    tallies = Tallies()
    cards = LatestCards(tallies)
    first = asyncio.ensure_future(cards.current(1, 10))
    await settle()
    tallies.tally = 5
    later = asyncio.ensure_future(cards.current(1, 10))
    await settle()
    tallies.release.put_nowait(None)
    tallies.release.put_nowait(None)
    # The first read's caller resumes only after the second read finished: it answers
    # with the newer card, so the answers WeCom takes never go back to an older tally.
    assert [(await first)["tally"], (await later)["tally"]] == [5, 5]


async def test_a_failed_read_fails_its_callers_and_the_next_read_goes_on() -> None:
    calls = 0

    async def read(keys: Sequence[Key]) -> tuple[int, dict[Key, dict[str, Any] | None]]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the database went away")
        return calls, {key: {"ok": True} for key in keys}

    cards = LatestCards(read)
    with pytest.raises(RuntimeError):
        await cards.current(1, 10)
    assert await cards.current(1, 10) == {"ok": True}


def drawing(tally: int, drawn: list[int], gate: asyncio.Event | None = None) -> Any:
    """A card's drawing from the tally ``tally`` (each drawing noted in ``drawn``)."""

    async def draw() -> dict[str, Any]:
        drawn.append(tally)
        if gate is not None:
            await gate.wait()
        return {"tally": tally}

    return draw


async def test_the_presses_of_one_tally_share_one_drawing_of_their_card() -> None:
    cards = LatestCards(Tallies())
    drawn: list[int] = []
    gate = asyncio.Event()
    answers = [
        asyncio.ensure_future(cards.as_of(1, 10, 3, drawing(3, drawn, gate))) for _ in range(5)
    ]
    await settle()
    gate.set()
    assert [(await answer)["tally"] for answer in answers] == [3] * 5
    assert drawn == [3]  # drawn once, while the others waited for it
    assert (await cards.as_of(1, 10, 2, drawing(2, drawn)))["tally"] == 3  # never older
    assert drawn == [3]


async def test_a_newer_tally_is_drawn_and_the_older_ones_answer_with_it() -> None:
    cards = LatestCards(Tallies())
    drawn: list[int] = []
    slow = asyncio.Event()
    older = asyncio.ensure_future(cards.as_of(1, 10, 4, drawing(4, drawn, slow)))
    await settle()
    newer = await cards.as_of(1, 10, 5, drawing(5, drawn))
    slow.set()  # the older drawing finishes last: its caller answers with the newer card
    assert [(await older)["tally"], newer["tally"]] == [5, 5]
    assert (await cards.as_of(1, 10, 4, drawing(4, drawn)))["tally"] == 5


async def test_a_read_older_than_a_drawn_tally_answers_with_the_newer_card() -> None:
    tallies = Tallies()
    cards = LatestCards(tallies)
    assert (await cards.as_of(1, 10, 7, drawing(7, []))) == {"tally": 7}
    read = asyncio.ensure_future(cards.current(1, 10))
    await settle()
    tallies.release.put_nowait(None)  # tally number 1: older than the 7th
    assert await read == {"tally": 7}
