"""The bot as a real process (``python -m bot run``) against the emulator in the test process.

:class:`ProcessHarness` drives it as :class:`~tests.auxil.harness.Harness` drives the
in-process bot (``h.say``, ``h.press``, ``community(h)``), and can also kill it with SIGKILL.
Time comes from a file (``YISHI_CLOCK_FILE``), which ``pass_time`` and ``set_time`` rewrite.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql import Select

from bot.services import Services
from storage.database import Database
from storage.tables import inbox, outbox, timers
from tests.auxil.harness import SUPERADMIN, Harness

ROOT = Path(__file__).resolve().parents[2]
LEASE_TTL = "2s"
# What the bot logs when a graceful stop begins to finish its sends in flight (bot.runtime).
STOPPING = "stopping: finishing the sends in flight"
# What python-telegram-bot logs when it begins to stop: it then waits for the running handlers
# (a /meeting posting its announcements), before the sends in flight (STOPPING).
HANDLERS_STOPPING = "Application is stopping"
# How long the harness waits for the bot process (to start, to reach a held call, to do the
# work a clock move made due, to stop) before calling it stuck: a failure detector, not a speed
# requirement. With four test workers on two cores a cold start, or a digest's first chart
# (importing matplotlib), takes many seconds; on a machine shared with other runs, over 60 s.
PATIENCE = 120.0


class BotProcess:
    """One ``python -m bot run`` and its log file."""

    def __init__(self, popen: subprocess.Popen[bytes], log: Path) -> None:
        self.popen = popen
        self.log = log

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def wait(self, timeout: float = PATIENCE) -> int:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.popen.poll() is None:
            if loop.time() > deadline:
                raise TimeoutError(f"the bot did not exit within {timeout}s\n{self.output()}")
            await asyncio.sleep(0.05)
        return self.popen.returncode

    async def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        await self.wait()

    async def stop(self) -> int:
        if self.running:
            self.popen.send_signal(signal.SIGTERM)
        return await self.wait()


class ProcessHarness(Harness):
    """The emulated Telegram here, the bot in a subprocess, one database for both."""

    def __init__(self, tmp_path: Path, *, database_url: str | None = None) -> None:
        super().__init__(tmp_path, database_url=database_url)
        self.tmp_path = tmp_path
        self.clock_file = tmp_path / "clock.txt"
        self._write_clock()
        self.process: BotProcess | None = None
        self.processes: list[BotProcess] = []
        self.database = Database(self.database_url)

    # The process ---------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        keep = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("YISHI_", "TELEGRAM_", "DATABASE_URL"))
        }
        return {
            **keep,
            "TELEGRAM_BOT_TOKEN": self.emu.token,
            "TELEGRAM_BASE_URL": self.emu.base_url,
            "DATABASE_URL": self.database_url,
            "YISHI_ADMIN_IDS": str(SUPERADMIN),
            "YISHI_LOCALE": self.locale,
            "YISHI_LEASE_TTL": LEASE_TTL,
            "YISHI_CLOCK_FILE": str(self.clock_file),
            # Not the shared default port: tests on one machine run bots side by side.
            "YISHI_HEALTH_LISTEN": "off",
            "PTB_TIMEDELTA": "1",
            "PYTHONPATH": str(ROOT),
        }

    def spawn(self, *args: str, **environment: str) -> BotProcess:
        """Start ``python -m bot run [args]`` (``environment`` overriding) without waiting."""
        log = self.tmp_path / f"bot-{len(self.processes) + 1}.log"
        with log.open("wb") as handle:  # the child writes to its own copy of the descriptor
            popen = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", *args],
                cwd=self.tmp_path,  # no .env of the developer's
                env={**self.environment(), **environment},
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        process = BotProcess(popen, log)
        self.processes.append(process)
        return process

    async def start_bot(self, **environment: str) -> None:
        """Start the bot (``environment`` overriding) and wait until it polls."""
        first_call = len(self.emu.calls)
        process = self.spawn(**environment)
        self.process = process
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        while not any(c.method == "getUpdates" for c in self.emu.calls[first_call:]):
            if not process.running:
                status = process.popen.returncode
                raise AssertionError(f"the bot exited ({status}):\n{process.output()}")
            if loop.time() > deadline:
                await process.kill()
                raise TimeoutError(f"the bot did not start polling:\n{process.output()}")
            await asyncio.sleep(0.05)

    async def held(self, method: str, chat_id: int, timeout: float = PATIENCE) -> None:  # noqa: ASYNC109
        """Wait until the bot's call of ``method`` to ``chat_id`` waits at an emulator hold."""

        def waiting() -> bool:
            return any(
                call.method == method and str(call.params.get("chat_id")) == str(chat_id)
                for call in self.emu.held_calls
            )

        await self.emu.wait_until(waiting, timeout=timeout)

    async def kill_bot(self) -> None:
        """SIGKILL: no shutdown, no lease released; calls it had in flight never complete."""
        assert self.process is not None
        await self.process.kill()
        self.process = None
        # A call the emulator holds belongs to the dead process: let it be cancelled first.
        await self.emu.wait_until(lambda: not self.emu.held_calls, timeout=PATIENCE)

    async def stop_bot(self) -> None:
        """SIGTERM: a clean shutdown."""
        if self.process is not None:
            status = await self.process.stop()
            self.process = None
            assert status == 0, f"the bot exited with {status}"

    async def stop_bot_holding(
        self, release: Callable[[], None], *, stopping: str = STOPPING
    ) -> None:
        """SIGTERM while the emulator holds some of the bot's calls: once the bot says it is
        finishing its sends in flight (or logs ``stopping``: ``HANDLERS_STOPPING`` for calls a
        handler makes, which the stop waits for), ``release`` them; it must then exit with
        status 0."""
        process = self.process
        assert process is not None
        process.popen.send_signal(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        while stopping not in process.output():
            if loop.time() > deadline or not process.running:
                raise AssertionError(f"the bot did not begin a graceful stop:\n{process.output()}")
            await asyncio.sleep(0.05)
        release()
        status = await process.wait()
        self.process = None
        assert status == 0, f"the bot exited with {status}\n{process.output()}"

    async def stop(self) -> None:
        for process in self.processes:
            if process.running:
                await process.kill()
            else:
                await process.wait()
        self.process = None
        await self.emu.stop()
        await self.database.close()

    def logs(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.output()}" for p in self.processes)

    @property
    def services(self) -> Services:
        raise AttributeError("the bot runs in another process: read h.database instead")

    # Time ------------------------------------------------------------------------------------

    def _write_clock(self) -> None:
        written = self.clock_file.with_suffix(".new")
        written.write_text(self.clock.now().isoformat(), encoding="utf-8")
        written.replace(self.clock_file)  # atomic: the bot never reads half a time

    def set_time(self, moment: datetime) -> None:
        self.clock.set(moment)
        self._write_clock()

    def move_clock(self, delta: timedelta) -> None:
        """Move the clock without waiting for the bot (e.g. while the emulator holds calls)."""
        self.clock.advance(delta)
        self._write_clock()

    async def pass_time(self, delta: timedelta) -> None:
        """Move the clock; a running bot notices and runs what fell due (``work_done``), then
        what that sent settles."""
        self.move_clock(delta)
        await self.settle()

    async def settle(self) -> None:
        """The emulator is quiet and a running bot has handled every update it took, run its
        due work and sent what that queued (``work_done``); then the emulator is quiet again."""
        await self.emu.wait_idle(quiet=0.3, timeout=PATIENCE)
        if self.process is not None:
            await self.work_done()
            await self.emu.wait_idle(quiet=0.3, timeout=PATIENCE)

    async def work_done(self, timeout: float = PATIENCE) -> None:  # noqa: ASYNC109
        """Wait until the bot has handled every update it stored, run every timer due by now
        and tried once every outbox row due by now, as its database shows. A quiet moment at
        the emulator says none of that on a busy machine: a digest a clock move made due may
        still be queued, an update's reply still to come."""
        now = self.clock.now()
        unhandled = rows(inbox).where(inbox.c.handled_at.is_(None))
        due_timers = rows(timers).where(timers.c.done_at.is_(None), timers.c.due_at <= now)
        untried = rows(outbox).where(
            outbox.c.sent_at.is_(None),
            outbox.c.failed.is_(False),
            outbox.c.attempts == 0,
            outbox.c.next_attempt_at <= now,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = [await self.count(query) for query in (unhandled, due_timers, untried)]
            if not any(left):
                return
            if loop.time() > deadline:
                raise TimeoutError(
                    f"after {timeout}s the bot still has {left[0]} update(s) to handle,"
                    f" {left[1]} due timer(s) to run and {left[2]} outbox row(s) never tried"
                    f" (an emulator hold left on?)\n{self.logs()}"
                )
            await asyncio.sleep(0.05)

    # Reading what the bot stored ---------------------------------------------------------------

    async def count(self, query: Select[Any]) -> int:
        async with self.database.transaction() as repos:
            return int((await repos.connection.execute(query)).scalar_one())

    async def rows(self, query: Select[Any]) -> list[Any]:
        async with self.database.transaction() as repos:
            return list(await repos.connection.execute(query))


def rows(table: Any) -> Select[Any]:
    return select(func.count()).select_from(table)
