"""Presses answered meanwhile share one read of the cards, and no answer shows an older card
than one already given."""

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
        self.reads: list[list[Key]] = []
        self.release: asyncio.Queue[None] = asyncio.Queue()

    async def __call__(self, keys: Sequence[Key]) -> dict[Key, dict[str, Any] | None]:
        seen = self.tally
        self.reads.append(list(keys))
        await self.release.get()
        return {key: {"tally": seen, "key": key} for key in keys}


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

    async def read(keys: Sequence[Key]) -> dict[Key, dict[str, Any] | None]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the database went away")
        return {key: {"ok": True} for key in keys}

    cards = LatestCards(read)
    with pytest.raises(RuntimeError):
        await cards.current(1, 10)
    assert await cards.current(1, 10) == {"ok": True}
