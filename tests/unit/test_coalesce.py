"""Coalesced refreshes: items changed together are refreshed across the interval."""

from __future__ import annotations

import asyncio

from channels.telegram.delivery.coalesce import CoalescedRefresh

INTERVAL = 0.4


class Recorded(CoalescedRefresh):
    def __init__(self) -> None:
        super().__init__(interval=INTERVAL)
        self.synced: dict[int, list[float]] = {}

    async def _sync(self, key: int) -> None:
        self.synced.setdefault(key, []).append(asyncio.get_running_loop().time())


async def test_items_changed_together_are_refreshed_one_after_another() -> None:
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
        assert INTERVAL <= second - first < 2 * INTERVAL + 0.1
    # ...and spread over the interval, not all at once.
    gaps = [b - a for a, b in zip(sorted(seconds), sorted(seconds)[1:], strict=False)]
    assert max(seconds) - min(seconds) > INTERVAL / 2
    assert max(gaps) < INTERVAL / 3


async def test_a_change_after_a_quiet_spell_is_refreshed_at_once() -> None:
    refresh = Recorded()
    refresh.touch(7)
    await refresh.idle()
    await asyncio.sleep(INTERVAL)
    touched = asyncio.get_running_loop().time()
    refresh.touch(7)
    await refresh.idle()
    assert refresh.synced[7][1] - touched < INTERVAL / 4
