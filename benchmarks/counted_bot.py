"""``yishi`` under counters, for ``benchmarks.ingest_http --count``: what a press costs in
counts rather than in wall-clock time, which a shared machine blurs.

    python -m benchmarks.counted_bot --out OUT run

runs ``python -m bot run`` with counters installed. SIGUSR1 starts counting, SIGUSR2 stops
and writes ``OUT.json`` (the counts) and ``OUT.pstats`` (a cProfile of the main thread, where
the event loop and SQLite's calls run). Counted meanwhile: SQL statements (by their text,
``executemany`` apart), transactions begun, committed and rolled back, savepoints, log
records, Python function calls, CPU time of the process and of the main thread, garbage
collections; at the start and the end, the resident set, the heap's allocated blocks and the
modules loaded. The cProfile makes the run several times slower: only its counts mean
anything, not its rates.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import logging
import re
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from benchmarks.common import resident_mb


class Counters:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.on = False
        self.statements: Counter[str] = Counter()
        self.many: Counter[str] = Counter()
        self.rows_many = 0
        self.transactions: Counter[str] = Counter()
        self.logs: Counter[str] = Counter()
        self.profile = cProfile.Profile()
        self.started: dict[str, Any] = {}

    def install(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._statement)
        for name in ("begin", "commit", "rollback", "savepoint", "release_savepoint"):
            event.listen(Engine, name, self._transaction(name))
        handle = logging.Logger.handle

        def counted(logger: logging.Logger, record: logging.LogRecord) -> None:
            if self.on:  # a record past its logger's level, about to be handled
                self.logs[f"{record.name} {record.levelname}"] += 1
            handle(logger, record)

        logging.Logger.handle = counted  # type: ignore[method-assign]
        signal.signal(signal.SIGUSR1, self.start)
        signal.signal(signal.SIGUSR2, self.stop)

    def _statement(
        self, _c: Any, _cursor: Any, text: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        if not self.on:
            return
        key = _shape(text)
        if many:
            self.many[key] += 1
            self.rows_many += len(params)
        else:
            self.statements[key] += 1

    def _transaction(self, name: str) -> Any:
        def count(*_args: Any) -> None:
            if self.on:
                self.transactions[name] += 1

        return count

    def _state(self) -> dict[str, Any]:
        return {
            "process_cpu": time.process_time(),
            "thread_cpu": time.thread_time(),
            "rss_mb": resident_mb(),
            "allocated_blocks": sys.getallocatedblocks(),
            "modules": len(sys.modules),
            "collections": [generation["collections"] for generation in gc.get_stats()],
        }

    def start(self, _signal: int, _frame: FrameType | None) -> None:
        self.started = self._state()
        self.on = True
        self.profile.enable()

    def stop(self, _signal: int, _frame: FrameType | None) -> None:
        self.profile.disable()
        self.on = False
        ended = self._state()
        self.profile.create_stats()
        self.profile.dump_stats(self.out.with_suffix(".pstats"))
        calls = sum(entry[1] for entry in self.profile.stats.values())  # type: ignore[attr-defined]
        report = {
            "start": self.started,
            "end": ended,
            "function_calls": calls,
            "statements": dict(self.statements.most_common()),
            "executemany": dict(self.many.most_common()),
            "executemany_rows": self.rows_many,
            "transactions": dict(self.transactions),
            "logs": dict(self.logs.most_common()),
        }
        partial = self.out.with_suffix(".part")
        partial.write_text(json.dumps(report, indent=1))
        partial.rename(self.out.with_suffix(".json"))  # the driver waits for this name


def _shape(text: str) -> str:
    """A statement's text with its lists of parameters (``VALUES``, ``IN``) of any length
    written alike, so a batch of 3 and one of 30 count as the same statement."""
    text = re.sub(r"\?(, \?)*", "?", " ".join(text.split()))
    return re.sub(r"\(\?\)(, \(\?\))+", "(?), ...", text)[:200]


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--out", type=Path, required=True, help="OUT.json and OUT.pstats")
    args, rest = arguments.parse_known_args()
    Counters(args.out).install()
    from bot.cli import main as yishi

    return yishi(rest)


if __name__ == "__main__":
    raise SystemExit(main())
