"""Ballot ingestion over HTTP, the real path: emulator, bot and driver in three processes.

50 building chats, each with a topic and 40 residents (2,000), set up through the emulator
as people would (``/setup``, ``/newgrid``, ``/newbuilding``, ``/bind``, ``/topic``); then every
resident presses, a third change their minds, ~200 presses in flight. The same load runs
against the bare stock PTB bot (``benchmarks/bare_bot.py``) as the baseline.

    .venv/bin/python -m benchmarks.ingest_http [--db postgres] [--http-client httpx]
    .venv/bin/python -m benchmarks.ingest_http --count OUT   # Yishi once, counted per press

``--count`` runs Yishi alone under ``benchmarks/counted_bot.py`` and prints what the load cost
per press in counts (statements, transactions, function calls; ``benchmarks/counts.py``
compares two such runs).
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
from pathlib import Path

from benchmarks.common import (
    against_baseline,
    bench_database,
    counted_report,
    cpu_seconds,
    figure,
    free_port,
    heading,
    machine_cpu_seconds,
    machine_note,
    median,
    parser,
    peak_rss_mb,
    percentile,
    postgres_cpu_seconds,
    profile_process,
    python_process,
    stop_process,
    wait_for_port,
)
from benchmarks.community import (
    ADMIN,
    RemotePeople,
    check_counts,
    set_up_bare,
    set_up_yishi,
    shown_tally,
)
from benchmarks.presses import Plan, TelegramPresses, make_plan, play, press_queue
from emulators.telegram import EmulatorClient

TOKEN = "123456:TEST-TOKEN"


async def verify(client: EmulatorClient, plan: Plan, database_url: str | None) -> list[str]:
    """Every topic's stored and shown counts equal the residents' last choices."""
    if database_url is None:
        return []
    problems = await check_counts(database_url, plan)
    for ballot in plan.ballots:
        message = await client.call("message", chat_id=ballot.chat_id, message_id=ballot.message_id)
        if shown_tally(message["text"]) != plan.last_choices(ballot):
            problems.append(f"topic {ballot.topic_id} shows {shown_tally(message['text'])}")
    return problems


async def counted(out: Path) -> None:
    """Wait for ``benchmarks.counted_bot`` to write its counts after SIGUSR2."""
    for _ in range(600):
        if await asyncio.to_thread(out.exists):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"the counted bot wrote no {out}")


async def measure(
    kind: str,
    db: str,
    folder: Path,
    http_client: str,
    profile: str | None = None,
    count: Path | None = None,
) -> dict[str, float]:
    port = free_port()
    emulator = python_process(
        ["-m", "emulators.telegram", "--port", str(port)], log=folder / f"emulator-{kind}.log"
    )
    bot = None
    try:
        await wait_for_port(port)
        base_url = f"http://127.0.0.1:{port}/bot"
        async with (
            EmulatorClient(f"http://127.0.0.1:{port}") as client,
            bench_database(db, folder) as database_url,
        ):
            if kind == "yishi":
                env = {
                    "TELEGRAM_BOT_TOKEN": TOKEN,
                    "TELEGRAM_BASE_URL": base_url,
                    "DATABASE_URL": database_url,
                    "YISHI_ADMIN_IDS": str(ADMIN),
                    "YISHI_HTTP_CLIENT": http_client,
                }
                run = ["-m", "bot", "run"]
                if count is not None:
                    run = ["-m", "benchmarks.counted_bot", "--out", str(count), "run"]
                bot = python_process(run, env=env, log=folder / "yishi.log")
                ballots = await set_up_yishi(RemotePeople(client))
            else:
                args = ["-m", "benchmarks.bare_bot", "--base-url", base_url, "--token", TOKEN]
                bot = python_process(args, log=folder / "bare.log")
                ballots = await set_up_bare(RemotePeople(client))
            plan = make_plan(ballots)
            queue = press_queue(plan)
            await client.wait_idle(quiet=3.5, timeout=60)
            pressed: set[int] = set()
            presses = TelegramPresses(client, plan)
            single = await play(presses, queue, in_flight=1, limit=100, pressed=pressed)
            await client.wait_idle(quiet=3.5, timeout=60)
            bot_cpu, emu_cpu = cpu_seconds(bot.pid), cpu_seconds(emulator.pid)
            db_cpu, machine = postgres_cpu_seconds(), machine_cpu_seconds()
            spy = profile_process(bot.pid, profile) if profile and kind == "yishi" else None
            if count is not None:
                os.kill(bot.pid, signal.SIGUSR1)
            load = await play(presses, queue, in_flight=200, pressed=pressed)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            bot_cpu, emu_cpu = cpu_seconds(bot.pid) - bot_cpu, cpu_seconds(emulator.pid) - emu_cpu
            db_cpu = postgres_cpu_seconds() - db_cpu
            machine_busy, machine_all = (
                now - before for now, before in zip(machine_cpu_seconds(), machine, strict=True)
            )
            edits = await client.call(
                "call_counts", method="editMessageText", since=load.started_at
            )
            await client.wait_idle(quiet=4.0, timeout=120)
            if count is not None:  # the load and the tally refreshes it left behind
                os.kill(bot.pid, signal.SIGUSR2)
                await counted(count.with_suffix(".json"))
            problems = await verify(client, plan, database_url if kind == "yishi" else None)
            rss = peak_rss_mb(bot.pid)
    finally:
        if bot is not None:
            stop_process(bot)
        stop_process(emulator)
    per_message = [edits["per_message"].get(f"{b.chat_id}:{b.message_id}", 0) for b in ballots]
    unexpected = single.unexpected + load.unexpected
    result = {
        "rate": load.rate,
        "p50": percentile(load.latencies, 0.5) * 1000,
        "p99": percentile(load.latencies, 0.99) * 1000,
        "first_p99": percentile(load.first_latencies, 0.99) * 1000,
        "single_p50": median(single.latencies) * 1000,
        "single_p99": percentile(single.latencies, 0.99) * 1000,
        "edits_mean": sum(per_message) / len(per_message),
        "edits_max": max(per_message),
        # At most one edit per 3 s, the first at once: per message, during the load.
        "edits_allowed": 1 + load.seconds // 3,
        "cpu_ms": bot_cpu * 1000 / load.presses,
        "bot_cpu_share": bot_cpu / load.seconds,
        "emulator_cpu_share": emu_cpu / load.seconds,
        "db_cpu_ms": db_cpu * 1000 / load.presses,
        "machine_busy": machine_busy / machine_all,
        "rss": rss,
        "presses": load.presses + single.presses,
        "problems": len(problems) + len(unexpected),
    }
    print(f"\n{kind}: {load.presses + single.presses} presses ({plan.total} planned)")
    figure("answered presses/s (200 in flight)", result["rate"], "/s")
    figure("injection -> answer p50", result["p50"], "ms")
    figure("injection -> answer p99", result["p99"], "ms")
    figure("  of residents' first presses", result["first_p99"], "ms")
    figure("one at a time p50", result["single_p50"], "ms")
    figure("one at a time p99", result["single_p99"], "ms")
    figure(f"tally edits per message in the {load.seconds:.1f} s load (mean)", result["edits_mean"])
    allowed = f"<= {result['edits_allowed']:.0f}: one per 3 s" if kind == "yishi" else ""
    figure(
        f"tally edits per message in the {load.seconds:.1f} s load (max)",
        result["edits_max"],
        "",
        allowed,
    )
    figure("bot CPU per press", result["cpu_ms"], "ms")
    figure("bot CPU busy during load", result["bot_cpu_share"] * 100, "%")
    figure("emulator CPU busy during load", result["emulator_cpu_share"] * 100, "%")
    if db == "postgres":
        figure("PostgreSQL server CPU per press", result["db_cpu_ms"], "ms")
    figure("machine CPU busy during load (all cores)", result["machine_busy"] * 100, "%")
    figure("bot peak RSS", result["rss"], "MB", "<= 150 MB" if kind == "yishi" else "")
    if count is not None:
        counted_report(count, presses=load.presses, result=result)
    for problem in (problems + unexpected)[:10]:
        print(f"  PROBLEM: {problem}")
    if kind == "yishi":
        print(f"  counts checked: {'all equal the last choices' if not problems else 'MISMATCH'}")
    return result


async def main() -> None:
    arguments = parser(__doc__)
    arguments.add_argument("--http-client", choices=["aiohttp", "httpx"], default="aiohttp")
    arguments.add_argument("--profile", help="py-spy the Yishi bot during the load (raw stacks)")
    arguments.add_argument(
        "--count",
        type=Path,
        help="Yishi once, no baseline, under counters (benchmarks/counted_bot.py): writes "
        "COUNT.json and COUNT.pstats and prints the counts per press",
    )
    arguments.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="bare, Yishi, bare, Yishi...: the neighbours' load drifts within minutes here, "
        "so alternate and report each round's ratios and their median",
    )
    args = arguments.parse_args()
    machine_note()
    heading(f"ballot ingestion over HTTP ({args.db}, Yishi on {args.http_client})")
    with tempfile.TemporaryDirectory(prefix="yishi-bench-") as folder:
        if args.count is not None:
            count = args.count.resolve()
            count.with_suffix(".json").unlink(missing_ok=True)
            ours = await measure("yishi", args.db, Path(folder), args.http_client, count=count)
            if ours["problems"]:
                raise SystemExit("some counts or answers were wrong (see PROBLEM lines)")
            return

        async def measured(
            kind: str, db: str, folder: Path, profile: str | None
        ) -> dict[str, float]:
            return await measure(kind, db, folder, args.http_client, profile)

        problems = await against_baseline(
            measured,
            baseline="bare stock PTB bot",
            databases=[args.db],
            rounds=args.rounds,
            compared=[
                ("answered presses/s", "rate", "(target >= 1.0)"),
                ("p99 injection -> answer", "p99", "(target <= 1.0)"),
                ("one at a time p50", "single_p50", ""),
                ("bot CPU per press", "cpu_ms", ""),
            ],
            folder=Path(folder),
            profile=args.profile,
            baseline_db=args.db,
        )
    if problems:
        raise SystemExit("some counts or answers were wrong (see PROBLEM lines)")


if __name__ == "__main__":
    asyncio.run(main())
