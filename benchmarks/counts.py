"""What ``benchmarks.ingest_http --count`` counted, per press; two runs side by side.

    .venv/bin/python -m benchmarks.counts OUT.json                # one run
    .venv/bin/python -m benchmarks.counts BEFORE.json AFTER.json  # what moved between them

Each ``.json`` has its ``.pstats`` beside it (the cProfile of the bot's main thread). Functions
are compared by file name and function name, so a module that moved to another package is
still the same function.
"""

from __future__ import annotations

import argparse
import json
import pstats
from collections import Counter
from pathlib import Path
from typing import Any

Report = dict[str, Any]
# The project's top-level packages, before and after issue 19's reshaping.
PROJECT = ("bot", "channels", "storage", "handlers", "locales", "benchmarks", "emulators")


def per_press(report: Report) -> dict[str, float]:
    presses = report["presses"]
    start, end = report["start"], report["end"]
    transactions = report["transactions"]
    figures = {
        "function calls": report["function_calls"],
        "SQL statements (execute)": sum(report["statements"].values()),
        "SQL executemany calls": sum(report["executemany"].values()),
        "SQL executemany rows": report["executemany_rows"],
        "transactions begun": transactions.get("begin", 0),
        "transactions committed": transactions.get("commit", 0),
        "transactions rolled back": transactions.get("rollback", 0),
        "savepoints": transactions.get("savepoint", 0),
        "log records": sum(report["logs"].values()),
        "process CPU ms (profiled)": (end["process_cpu"] - start["process_cpu"]) * 1000,
        "main thread CPU ms (profiled)": (end["thread_cpu"] - start["thread_cpu"]) * 1000,
        "young collections": end["collections"][0] - start["collections"][0],
    }
    return {name: value / presses for name, value in figures.items()}


def whole(report: Report) -> dict[str, float]:
    start, end = report["start"], report["end"]
    return {
        "RSS before the load MB": start["rss_mb"],
        "RSS after the load MB": end["rss_mb"],
        "allocated blocks before (k)": start["allocated_blocks"] / 1000,
        "allocated blocks after (k)": end["allocated_blocks"] / 1000,
        "modules loaded": start["modules"],
        "presses": report["presses"],
    }


def functions(pstats_path: Path) -> dict[str, tuple[int, float, float]]:
    """``file:function`` -> (calls, own seconds, cumulative seconds), merged over lines."""
    stats: dict[Any, Any] = pstats.Stats(str(pstats_path)).stats  # type: ignore[attr-defined]
    merged: dict[str, tuple[int, float, float]] = {}
    for (path, _line, name), (_primitive, calls, own, cumulative, _callers) in stats.items():
        key = f"{Path(path).name}:{name}"
        before = merged.get(key, (0, 0.0, 0.0))
        merged[key] = (before[0] + calls, before[1] + own, before[2] + cumulative)
    return merged


def summarise(report: Report, *, top: int = 12) -> None:
    presses = report["presses"]
    print(f"\n  counted over {presses} presses (the load and the refreshes after it), per press:")
    for name, value in per_press(report).items():
        print(f"    {name:<40} {value:>12,.3f}")
    for name, value in whole(report).items():
        print(f"    {name:<40} {value:>12,.1f}")
    print("  statements per press, most frequent:")
    for text, count in Counter(report["statements"]).most_common(top):
        print(f"    {count / presses:7.3f}  {text[:110]}")
    for text, count in Counter(report["executemany"]).most_common(top // 2):
        print(f"    {count / presses:7.3f}  (many) {text[:103]}")


def compare(before: Report, after: Report, *, top: int = 25) -> None:
    a, b = per_press(before), per_press(after)
    print("per press                                     before        after    after/before")
    for name in a:
        ratio = b[name] / a[name] if a[name] else float("nan")
        print(f"  {name:<40} {a[name]:>12,.3f} {b[name]:>12,.3f} {ratio:>10.2f}")
    wa, wb = whole(before), whole(after)
    for name in wa:
        print(f"  {name:<40} {wa[name]:>12,.1f} {wb[name]:>12,.1f}")
    print("\nstatements per press that differ (before -> after):")
    texts = set(before["statements"]) | set(after["statements"])
    texts |= {f"(many) {t}" for t in set(before["executemany"]) | set(after["executemany"])}

    def rate(report: Report, text: str) -> float:
        if text.startswith("(many) "):
            return report["executemany"].get(text[7:], 0) / report["presses"]
        return report["statements"].get(text, 0) / report["presses"]

    moved = sorted(texts, key=lambda t: -abs(rate(after, t) - rate(before, t)))
    for text in moved[:top]:
        old, new = rate(before, text), rate(after, text)
        if abs(new - old) >= 0.005:
            print(f"  {old:7.3f} -> {new:7.3f}  {text[:100]}")
    print("\nlog records per press (before -> after):")
    for name in sorted(set(before["logs"]) | set(after["logs"])):
        old = before["logs"].get(name, 0) / before["presses"]
        new = after["logs"].get(name, 0) / after["presses"]
        print(f"  {old:7.3f} -> {new:7.3f}  {name}")


Functions = dict[str, tuple[int, float, float]]


def _moved(before: Functions, after: Functions, index: int, presses: tuple[int, int]) -> list[str]:
    """Names ordered by how much their figure ``index`` per press moved, most first."""

    def moved(key: str) -> float:
        old = before.get(key, (0, 0.0, 0.0))[index] / presses[0]
        return -abs(after.get(key, (0, 0.0, 0.0))[index] / presses[1] - old)

    return sorted(set(before) | set(after), key=moved)


def package(path: str) -> str:
    """Where a profiled function lives: a package of site-packages, the standard library,
    or the project's top-level package."""
    parts = Path(path).parts
    for marker in ("site-packages", "python3.11", "python3.12", "python3.13"):
        if marker in parts:
            rest = parts[parts.index(marker) + 1 :]
            return rest[0] if marker == "site-packages" and rest else "stdlib"
    if path == "~":
        return "builtins"
    for index, part in enumerate(parts[:-1]):
        if part in PROJECT:
            return "/".join(parts[index : min(index + 2, len(parts) - 1)])
    return path


def packages(pstats_path: Path) -> Counter[str]:
    """Function calls by the package of the function called: exact, unlike cumulative
    figures, which asyncio's suspended coroutines blur."""
    stats: dict[Any, Any] = pstats.Stats(str(pstats_path)).stats  # type: ignore[attr-defined]
    calls: Counter[str] = Counter()
    for (path, _line, _name), (_primitive, count, _own, _cumulative, _callers) in stats.items():
        calls[package(path)] += count
    return calls


def compare_functions(before: Path, after: Path, presses: tuple[int, int], top: int) -> None:
    pa, pb = packages(before), packages(after)
    print("\nfunction calls per press by package (before -> after):")
    for name in sorted(set(pa) | set(pb), key=lambda n: -(pa[n] + pb[n]))[:top]:
        print(f"  {pa[name] / presses[0]:9.1f} -> {pb[name] / presses[1]:9.1f}  {name}")
    fa, fb = functions(before), functions(after)
    for index, what in ((0, "function calls"), (1, "own time (µs, profiled)")):
        print(f"\n{what} per press that moved most (before -> after):")
        scale = 1.0 if index == 0 else 1e6
        for key in _moved(fa, fb, index, presses)[:top]:
            old = fa.get(key, (0, 0.0, 0.0))[index] / presses[0] * scale
            new = fb.get(key, (0, 0.0, 0.0))[index] / presses[1] * scale
            print(f"  {old:9.2f} -> {new:9.2f}  {key[:80]}")


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("reports", type=Path, nargs="+", help="one or two OUT.json")
    arguments.add_argument("--top", type=int, default=25)
    args = arguments.parse_args()
    reports = [json.loads(path.read_text()) for path in args.reports]
    if len(reports) == 1:
        summarise(reports[0], top=args.top)
        return
    before, after = reports[:2]
    compare(before, after, top=args.top)
    compare_functions(
        args.reports[0].with_suffix(".pstats"),
        args.reports[1].with_suffix(".pstats"),
        (before["presses"], after["presses"]),
        args.top,
    )


if __name__ == "__main__":
    main()
