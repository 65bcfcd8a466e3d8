"""How long the machine kept this process from running: the slack a real-time bound may add.

Some tests hold the bot to a wall-clock promise (WeCom's 5 s to answer a press, a retry one
second after a 429). On a machine whose two cores are shared with other test runs, the process
may wait for a core for seconds, and the promise looks broken when the bot did nothing wrong.

``Starvation`` measures that wait while it is entered: a ticker asks to wake every ``tick``
seconds; each time it wakes late, the part of the lateness that the process did not spend on
its own CPU (the bot's work, the emulator's, the test's) is time the operating system gave to
other processes. A bound is then ``promise + starvation.seconds``: on an idle machine that is
the promise itself; what the bot spends working, or waiting on a timer of its own (a send
held back behind a rate limit), is never excused.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType


class Starvation:
    def __init__(self, tick: float = 0.01) -> None:
        self.tick = tick
        self.seconds = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            wall, cpu = time.monotonic(), time.process_time()
            await asyncio.sleep(self.tick)
            late = time.monotonic() - wall - max(self.tick, time.process_time() - cpu)
            self.seconds += max(0.0, late)

    async def __aenter__(self) -> Starvation:
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
