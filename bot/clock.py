"""The one source of "now". Services ask a :class:`Clock`; tests and the demo move it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests, ``yishi demo``)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware time")
        self._now = moment


class FileClock:
    """For tests of the real process only: "now" is the ISO-8601 time written in a file.

    ``yishi run`` uses it when the hidden variable ``YISHI_CLOCK_FILE`` names a file, so that
    tests which run the bot as a subprocess (tests/crash/) can move time as the in-process
    tests move a :class:`ManualClock`. The file is read on every call; when its content
    changes, the due work is run (as the scheduler would when the time comes).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last = self._read()
        self._watcher: asyncio.Task[None] | None = None

    def _read(self) -> datetime:
        moment = datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())
        if moment.tzinfo is None:
            raise ValueError(f"{self.path} must hold a timezone-aware time")
        return moment.astimezone(UTC)

    def now(self) -> datetime:
        with contextlib.suppress(OSError, ValueError):  # half-written: keep the last time
            self._last = self._read()
        return self._last

    def start_watching(self, on_change: Callable[[], Awaitable[object]]) -> None:
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch(on_change), name="clock file")

    async def stop_watching(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _watch(self, on_change: Callable[[], Awaitable[object]]) -> None:
        seen = self.now()
        while True:
            await asyncio.sleep(0.05)
            if self.now() != seen:
                seen = self.now()
                try:
                    await on_change()
                except Exception:
                    log.exception("running what fell due at %s failed", seen)
