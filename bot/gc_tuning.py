"""The garbage collector tuned for a long-running bot process (``yishi run``, any channel)."""

from __future__ import annotations

import gc


def tune_garbage_collector() -> None:
    """For a long-running bot (``yishi run``): what start-up built lives as long as the
    process, so move it out of the collector's sight (``gc.freeze``), and collect the young
    generation less often. The full collections that walked the start-up heap (~100 MB) were
    the tail of press latency: over HTTP, p99 went from 1.37x to about 1.1x the bare bot's
    (docs/PERFORMANCE.md). Not for tests: a frozen object is never collected."""
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
