"""Ballot ingestion in process: only the bot's own work (parsing, eligibility, the durable
ballot, tally scheduling), its Bot API calls answered instantly.

The community and presses of ``ingest_http`` (50 chats, 2,000 residents, ~3,000 presses,
200 in flight), in two ways:

* ``process_update``: presses handed to ``Application.process_update`` directly, 200 at once;
* ``update_queue``: presses put into the application's update queue one after another, as
  the Updater does after ``getUpdates`` (for Yishi this includes the durable inbox).

A press counts when the bot has answered it (Yishi answers after the ballot is committed).
Baseline: the bare stock PTB bot the same way.

While setting up, Yishi's sends are not held to Telegram's flood limits (the 50 building codes
posted in the grid chat would wait 20 a minute: two and a half minutes of sleeping); while
measuring, its own rate limiter works as in production. ``--profile`` profiles the measured
phase (200 in flight) only.

    .venv/bin/python -m benchmarks.ingest_inprocess [--db postgres] [--profile out.txt]
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from telegram import Update

from benchmarks.bare_bot import build_bare_bot
from benchmarks.common import (
    bench_database,
    figure,
    heading,
    machine_note,
    median,
    parser,
    percentile,
    ratio,
)
from benchmarks.community import LocalPeople, check_counts, set_up_bare, set_up_yishi
from benchmarks.inprocess import WorldRequest
from benchmarks.presses import Plan, make_plan
from channels.telegram.ratelimit import SendRateLimiter
from channels.telegram.transport import JSONDict
from emulators.telegram import BotApiEmulator

IN_FLIGHT = 200
Script = dict[int, list[tuple[str, dict[str, Any]]]]


def script_presses(emu: BotApiEmulator, plan: Plan) -> Script:
    """Every planned press as a ready update, per resident in order."""
    script: Script = {}
    for resident, options in plan.presses.items():
        ballot = plan.ballot_of[resident]
        presses = []
        for option in options:
            query_id = emu.press_button(ballot.chat_id, ballot.message_id, resident, option)
            presses.append((query_id, emu.world.updates.pending.pop()))
        script[resident] = presses
    return script


async def play(
    app: Any,
    request: WorldRequest,
    script: Script,
    residents: list[int],
    submit: Callable[[Update], Awaitable[None]],
    in_flight: int,
) -> dict[str, float]:
    """Residents' presses, ``in_flight`` residents at a time, each waiting for its answer."""
    queue = deque(residents)
    latencies: list[float] = []
    loop = asyncio.get_running_loop()

    async def resident_after_resident() -> None:
        while queue:
            for query_id, raw in script[queue.popleft()]:
                answered = request.expect_answer(query_id)
                began = loop.time()
                await submit(Update.de_json(raw, app.bot))
                latencies.append(await answered - began)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(resident_after_resident() for _ in range(in_flight)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "presses": len(latencies),
        "rate": len(latencies) / wall,
        "p50": median(latencies) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "cpu_ms": cpu * 1000 / len(latencies),
    }


class SetUpLimiter(SendRateLimiter):
    """Production's limiter, idle (sends go straight through) until ``measuring``."""

    measuring = False

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if not self.measuring:
            return await callback(*args, **kwargs)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


def submitter(app: Any, how: str) -> Callable[[Update], Awaitable[None]]:
    if how == "process_update":
        return app.process_update  # type: ignore[no-any-return]
    inbox = getattr(app.update_queue, "_inbox", None)
    if inbox is not None:
        inbox.deferred = True  # as when polling: stored together, handled once stored
    lock = asyncio.Lock()

    async def put(update: Update) -> None:  # one after another, like the Updater
        async with lock:
            await app.update_queue.put(update)

    return put


async def measure(
    kind: str, db: str, folder: Path, how: str, profile: Path | None = None
) -> dict[str, float]:
    emu = BotApiEmulator()
    request = WorldRequest(emu)
    limiter = SetUpLimiter(max_retries=3)  # as channels.telegram.app builds it
    async with bench_database(db, folder / f"{kind}-{how}") as url:
        (folder / f"{kind}-{how}").mkdir(exist_ok=True)
        if kind == "yishi":
            from bot.settings import load_settings
            from channels.telegram.app import build_application

            settings = load_settings(
                TELEGRAM_BOT_TOKEN=emu.token, DATABASE_URL=url, YISHI_ADMIN_IDS="1", _env_file=None
            )
            app: Any = build_application(settings, request=request, rate_limiter=limiter)
        else:
            app = build_bare_bot(emu.token, request=request, get_updates_request=request)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        try:
            people = LocalPeople(emu, app.update_queue.put, app.bot)
            ballots = await (set_up_yishi if kind == "yishi" else set_up_bare)(people)
            if kind == "yishi":
                await app.bot_data.runtime.settle()
            plan = make_plan(ballots)
            script = script_presses(emu, plan)
            residents = list(plan.presses)
            random.Random(8).shuffle(residents)
            request.instant = True
            limiter.measuring = True
            submit = submitter(app, how)
            single = await play(app, request, script, residents[:40], submit, 1)
            profiler = start_profiler() if profile is not None else None
            result = await play(app, request, script, residents[40:], submit, IN_FLIGHT)
            if profiler is not None and profile is not None:
                profiler.stop()
                report = profiler.output_text(unicode=True, show_all=False, color=False)
                await asyncio.to_thread(profile.write_text, report)
            result["single_p50"] = single["p50"]
            if kind == "yishi":
                await app.bot_data.runtime.settle()
                problems = await check_counts(url, plan)
                for problem in problems[:5]:
                    print(f"  PROBLEM: {problem}")
                result["problems"] = len(problems)
        finally:
            await app.stop()
            await app.shutdown()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)
    print(f"\n{kind}, presses via {how}: {result['presses'] + single['presses']:.0f} presses")
    target = "5,000/s" if kind == "yishi" and how == "process_update" else ""
    figure("answered presses/s (200 in flight)", result["rate"], "/s", target)
    figure("press -> answer p50", result["p50"], "ms")
    figure("press -> answer p99", result["p99"], "ms")
    figure("one at a time p50", single["p50"], "ms")
    figure("CPU per press", result["cpu_ms"], "ms")
    if kind == "yishi":
        print(f"  counts checked: {'all equal' if not result['problems'] else 'MISMATCH'}")
    return result


def start_profiler() -> Any:
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="disabled")
    profiler.start()
    return profiler


async def main() -> None:
    arguments = parser(__doc__)
    arguments.add_argument("--only", choices=["process_update", "update_queue"])
    arguments.add_argument("--profile", help="write a pyinstrument profile (text) of Yishi here")
    args = arguments.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    machine_note()
    heading(f"ballot ingestion in process ({args.db})")
    failed = False
    with tempfile.TemporaryDirectory(prefix="yishi-bench-") as folder:
        for how in [args.only] if args.only else ["process_update", "update_queue"]:
            bare = await measure("bare", args.db, Path(folder), how)
            profile = Path(args.profile) if args.profile else None
            if profile is not None and not args.only:  # one profile per way in
                profile = profile.with_name(f"{profile.stem}-{how}{profile.suffix}")
            ours = await measure("yishi", args.db, Path(folder), how, profile)
            failed = failed or bool(ours["problems"])
            heading(f"Yishi / bare stock PTB bot, presses via {how}")
            ratio("answered presses/s", ours["rate"], bare["rate"])
            ratio("p99 press -> answer", ours["p99"], bare["p99"])
            ratio("CPU per press", ours["cpu_ms"], bare["cpu_ms"])
    if failed:
        raise SystemExit("stored counts differ from the residents' last choices")


if __name__ == "__main__":
    asyncio.run(main())
