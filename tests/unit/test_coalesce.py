"""Coalesced refreshes: items changed together are refreshed across the interval.

The refreshes are timed by the event loop's clock, so they run on a loop whose clock moves
only when everything waits (tests/auxil/virtual_time.py): the times below are what an idle
machine would show, exactly, however loaded this one is."""

from __future__ import annotations

import asyncio

from channels.telegram.delivery.coalesce import CoalescedRefresh
from tests.auxil.virtual_time import run_in_virtual_time

INTERVAL = 0.4


class Recorded(CoalescedRefresh):
    def __init__(self) -> None:
        super().__init__(interval=INTERVAL)
        self.synced: dict[int, list[float]] = {}

    async def _sync(self, key: int) -> None:
        self.synced.setdefault(key, []).append(asyncio.get_running_loop().time())


def test_items_changed_together_are_refreshed_one_after_another() -> None:
    run_in_virtual_time(items_changed_together())


async def items_changed_together() -> None:
    refresh = Recorded()
    keys = range(1, 11)
    for key in keys:
        refresh.touch(key)
    await asyncio.sleep(0)  # each first change is shown at once
    for key in keys:
        refresh.touch(key)  # and changes again while its refresh is still recent
    await refresh.idle()
    firsts = [refresh.synced[key][0] for key in keys]
    seconds = [refresh.synced[key][1] for key in keys]
    assert max(firsts) - min(firsts) < INTERVAL / 4
    # Never sooner than the interval after the item's last refresh, at most twice that...
    for first, second in zip(firsts, seconds, strict=True):
        assert INTERVAL <= second - first < 2 * INTERVAL
    # ...and spread over the interval, not all at once.
    gaps = [b - a for a, b in zip(sorted(seconds), sorted(seconds)[1:], strict=False)]
    assert max(seconds) - min(seconds) > INTERVAL / 2
    assert max(gaps) < INTERVAL / 3


def test_a_change_after_a_quiet_spell_is_refreshed_at_once() -> None:
    run_in_virtual_time(a_change_after_a_quiet_spell())


async def a_change_after_a_quiet_spell() -> None:
    refresh = Recorded()
    refresh.touch(7)
    await refresh.idle()
    await asyncio.sleep(INTERVAL)
    touched = asyncio.get_running_loop().time()
    refresh.touch(7)
    await refresh.idle()
    assert refresh.synced[7][1] - touched < INTERVAL / 4
