"""Summarise py-spy's raw (collapsed) stacks: where the busy samples of a process went.

.venv/bin/python -m benchmarks.stacks profile.txt [--top 40]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

IDLE = ("select (selectors.py", "_connection_worker_thread", "wait (threading.py", "_worker (")


def summarise(path: Path, top: int) -> None:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    busy = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        if any(marker in frames[-1] for marker in IDLE):
            continue
        samples = int(count)
        busy += samples
        own[_name(frames[-1])] += samples
        for name in {_name(frame) for frame in frames}:
            inclusive[name] += samples
    print(f"busy samples: {busy}")
    print("inclusive:")
    for name, samples in inclusive.most_common(top):
        print(f"  {samples / busy * 100:5.1f}%  {name}")
    print("own:")
    for name, samples in own.most_common(top // 2):
        print(f"  {samples / busy * 100:5.1f}%  {name}")


def _name(frame: str) -> str:
    function, _, where = frame.partition(" (")
    return f"{function} ({where.split(':')[0].rsplit('/', 2)[-1]}"


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("path", type=Path)
    arguments.add_argument("--top", type=int, default=40)
    args = arguments.parse_args()
    summarise(args.path, args.top)
