"""What every benchmark shares: processes, /proc readings, databases, figures, ratios."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.counts import summarise

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "YISHI_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parser(description: str | None) -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(description=description)
    arguments.add_argument(
        "--db", choices=["sqlite", "postgres"], default="sqlite", help="the database to run on"
    )
    return arguments


# Databases -----------------------------------------------------------------------------------


@asynccontextmanager
async def bench_database(kind: str, folder: Path) -> AsyncIterator[str]:
    """A fresh database URL: a SQLite file in ``folder``, or a new PostgreSQL database that
    is dropped afterwards."""
    if kind == "sqlite":  # a folder of its own: called again, it must not find the last one
        os.makedirs(folder, exist_ok=True)
        yield f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(dir=folder)) / 'bench.db'}"
        return
    from tests.auxil.scratch import scratch_database  # the tests' own, shared

    async with scratch_database(POSTGRES_URL, prefix="yishi_bench") as url:
        yield url


# Processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def python_process(
    args: Sequence[str], *, env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """``python <args>`` from the project root, its output to ``log`` (or discarded)."""
    environment = {**os.environ, "PTB_TIMEDELTA": "1", **(env or {})}
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (closed with it)
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=environment, stdout=output, stderr=output
    )


def profile_process(pid: int, output: str) -> subprocess.Popen[bytes]:
    """py-spy sampling the bot while the load runs (collapsed stacks, for flame graphs)."""
    spy = Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "-r", "200", "-o", output]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_process(process: subprocess.Popen[bytes], *, timeout: float = 15.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_for_port(port: int, *, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on port {port}") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_cpu_seconds() -> float:
    """User + system CPU time so far of every PostgreSQL server process on this machine."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                # Its own time, and its ended children's (the postmaster's backends).
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                total += sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
        except OSError:  # it ended meanwhile
            continue
    return total


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far, over every core (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS, sum(fields[:8]) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmHWM")


def resident_mb(pid: int | str = "self") -> float:
    return _status_mb(pid, "VmRSS")


def _status_mb(pid: int | str, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# Figures -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    seconds: float = 0.0
    _start: float = 0.0

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def figure(name: str, value: float | str, unit: str = "", target: str = "") -> None:
    shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
    suffix = f"   (target {target})" if target else ""
    print(f"  {name:<44} {shown:>12} {unit}{suffix}", flush=True)


def ratio(name: str, ours: float, baseline: float, *, note: str = "") -> float:
    value = ours / baseline if baseline else float("nan")
    print(f"  {name:<44} {value:>12.2f} x  {note}", flush=True)
    return value


def round_medians(title: str, rounds: Sequence[dict[str, float]]) -> None:
    """Each ratio's median over the rounds, and every round's value (several rounds only)."""
    if len(rounds) < 2:
        return
    heading(f"{title}: median of {len(rounds)} rounds")
    for name in rounds[0]:
        values = sorted(round_[name] for round_ in rounds)
        listed = ", ".join(f"{value:.2f}" for value in values)
        print(f"  {name:<44} {median(values):>12.2f} x  ({listed})", flush=True)


# Yishi against a baseline ---------------------------------------------------------------------

# One measure: (kind "bare", "yishi" or one of against_baseline's ``also``, database, scratch
# folder, py-spy output or None) -> the results by key, and "problems": how many answers or
# counts were wrong.
Measure = Callable[[str, str, Path, str | None], Awaitable[dict[str, float]]]
# What a round compares: its name, the results' key, a note (the target).
Compared = tuple[str, str, str]


async def against_baseline(
    measure: Measure,
    *,
    baseline: str,
    databases: Sequence[str],
    rounds: int,
    compared: Sequence[Compared],
    folder: Path,
    profile: str | None = None,
    baseline_db: str = "none",
    also: Sequence[tuple[str, str]] = (),
) -> bool:
    """Rounds of the baseline, then Yishi on each database: each round's ratios printed as
    it ends, their medians after the last (the neighbours' load drifts within minutes here, so
    the two are measured in turns). ``also``: more baselines, (kind, name), measured in each
    round before the first and compared with Yishi the same way. ``profile``: py-spy Yishi into
    that file (``.<db>`` added when several databases are measured). True if any measure found
    problems."""
    medians: list[dict[str, float]] = []
    problems = False
    for number in range(1, rounds + 1):
        baselines = []
        for kind, name in [*also, ("bare", baseline)]:
            measured = await measure(kind, baseline_db, folder, None)
            problems = problems or bool(measured["problems"])
            baselines.append((name, measured))
        ratios: dict[str, float] = {}
        for db in databases:
            spy = profile if profile is None or len(databases) == 1 else f"{profile}.{db}"
            ours = await measure("yishi", db, folder, spy)
            problems = problems or bool(ours["problems"])
            for name, bare in baselines:
                heading(f"Yishi on {db} / {name} (round {number} of {rounds})")
                against = "" if name == baseline else f" / {name}"
                for what, key, note in compared:
                    ratios[f"{db}{against}: {what}"] = ratio(what, ours[key], bare[key], note=note)
        medians.append(ratios)
    names = " and ".join([baseline, *(name for _, name in also)])
    round_medians(f"Yishi / {names}", medians)
    return problems


def counted_report(count: Path, **measured: object) -> None:
    """Adds what the benchmark measured (the presses or votes counted, its results) to the
    counters' ``OUT.json`` (benchmarks/counted_bot.py) and prints the counts per press."""
    counts = count.with_suffix(".json")
    report = {**json.loads(counts.read_text()), **measured}
    counts.write_text(json.dumps(report, indent=1))
    summarise(report)


def machine_note() -> None:
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f}; python {sys.version.split()[0]}",
        flush=True,
    )
