"""An event loop whose clock moves only when every task is waiting for a timer.

Code that paces itself with ``loop.time()`` and ``asyncio.sleep`` (coalesced refreshes) then
runs exactly as it would on an idle machine, however busy this one is, and instantly: when
nothing is ready to run, the clock jumps to the next timer instead of the loop sleeping.
Nothing here may wait on a socket or a thread: with no timer left and nothing ready, the
loop is stuck, and says so rather than spinning.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _JumpingSelector:
    """The loop's selector, asked never to block: the wait is added to the virtual clock."""

    def __init__(self, loop: VirtualTimeLoop, real: selectors.BaseSelector) -> None:
        self._loop = loop
        self._real = real

    def select(self, timeout: float | None = None) -> list[Any]:
        events = self._real.select(0)
        if events:
            return events
        if timeout is None:
            raise RuntimeError("nothing is ready and no timer is due: the coroutine is stuck")
        self._loop.advance(timeout)
        return []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self._virtual_now = 0.0
        self._selector: Any = _JumpingSelector(self, self._selector)

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        self._virtual_now += max(seconds, 0.0)


def run_in_virtual_time(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to the end on a fresh virtual-time loop."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
