"""Vote-card presses over WeCom's long connection: Yishi against two baselines, same run.

The WeCom emulator (``emulators/wecom``) and this driver run in this process; the bot in its
own: Yishi (``python -m bot run --channel wecom``, the real ``WeComChannel`` on SQLite or
PostgreSQL) or a baseline that answers every press with the card as it was, nothing stored:
the stock bot on WeCom's own Python SDK (``benchmarks/sdk_wecom.py``, as ``ingest_http``'s is a
stock python-telegram-bot bot), and the bare adapter on Yishi's own connection code
(``benchmarks/bare_wecom.py``: what is left when only the storing and the logic are taken
away). 50 WeCom building groups of 40 residents each (``--residents``); in each, the
community's officer binds the group (``@议事 /bind <code>``, Yishi only) and publishes a topic
(``@议事 /topic ...``), whose vote card everyone presses (every resident once, a third change
their minds, a few press the same option again): 100 presses one at a time, then the rest with
200 in flight (``--in-flight``). A press counts as answered when the emulator took the card
update on its req_id; WeCom takes one only within 5 s of the press. Afterwards every topic's
stored counts, and the tally its card shows, are checked against the residents' last choices.
The processes go where the system puts them; ``--pin`` gives the emulator and driver one CPU
and the bot another.

    .venv/bin/python -m benchmarks.wecom_presses                 # SQLite and PostgreSQL
    .venv/bin/python -m benchmarks.wecom_presses --db sqlite --rounds 3
    .venv/bin/python -m benchmarks.wecom_presses --db sqlite --count OUT   # Yishi once, counted
    .venv/bin/python -m benchmarks.wecom_presses --db sqlite --alone 3     # Yishi's CPU per press
    .venv/bin/python -m benchmarks.wecom_presses --residents 200           # a longer load
    .venv/bin/python -m benchmarks.wecom_presses --pin                     # a core each
    .venv/bin/python -m benchmarks.wecom_presses --in-flight 1000          # more at once
    .venv/bin/python -m benchmarks.wecom_presses --db sqlite --cost-curve 0,50,100,150

``--count`` runs Yishi alone under ``benchmarks/counted_bot.py`` and prints what the load cost
per press in counts (statements, transactions, function calls), as ``ingest_http --count``.
``--cost-curve`` runs the bare adapter once per added CPU cost of a press, then Yishi: the rate
a bot that answers every press at once gets for the CPU it spends on one, beside Yishi's
(docs/PERFORMANCE.md, the WeCom section).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import re
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from benchmarks.common import (
    against_baseline,
    bench_database,
    counted_report,
    cpu_seconds,
    figure,
    heading,
    machine_note,
    median,
    peak_rss_mb,
    percentile,
    postgres_cpu_seconds,
    profile_process,
    python_process,
    stop_process,
)
from benchmarks.community import check_counts
from benchmarks.ingest_http import counted
from benchmarks.presses import OPTIONS, Answer, Ballot, Plan, Played, make_plan, play, press_queue
from emulators.wecom.replies import Issued
from emulators.wecom.server import Frame, WeComEmulator
from emulators.wecom.world import Place as WeComPlace

BOT_ID, SECRET = "aib_bench", "bench-secret-of-the-long-connection"
OFFICER = "wangzhuren"  # the community's officer, in every group
BUILDINGS, RESIDENTS_PER_BUILDING = 50, 40
WINDOW = 5.0  # WeCom takes a card update within 5 s of the press
IN_FLIGHT = 200  # presses unanswered at once during the load (the issue's figure)
# The baselines by kind: each a process that only answers (see the module's docstring).
BASELINES = {"sdk": "benchmarks.sdk_wecom", "bare": "benchmarks.bare_wecom"}
NAMES = {"sdk": "stock WeCom SDK bot", "bare": "bare adapter"}
TALLY = re.compile(r"(同意|反对|弃权)：(\d+)")


def userid(resident: int) -> str:
    return f"resident{resident:05d}"


def chatid(index: int) -> str:
    return f"wrBuilding{index:04d}"


class WeComPresses:
    """Presses as people make them in the emulator: submit the vote card; answered when the
    emulator took the card update (refused or later than 5 s: a problem)."""

    def __init__(self, emu: WeComEmulator, plan: Plan, task_ids: dict[int, str]) -> None:
        self.emu, self.plan, self.task_ids = emu, plan, task_ids
        self._answered: asyncio.Queue[Answer] = asyncio.Queue()
        self._waiting: set[asyncio.Task[None]] = set()

    async def press(self, batch: list[tuple[int, str]]) -> list[str]:
        ids = []
        for resident, option in batch:
            task_id = self.task_ids[self.plan.ballot_of[resident].chat_id]
            choice = f"o{OPTIONS.index(option)}"
            issued = await self.emu.submit_vote(userid(resident), task_id, [choice])
            task = asyncio.ensure_future(self._wait(issued))
            self._waiting.add(task)
            task.add_done_callback(self._waiting.discard)
            ids.append(issued.req_id)
        return ids

    async def _wait(self, issued: Issued) -> None:
        try:
            frame: Frame | None = await self.emu.wait_answered(issued.req_id, timeout=30.0)
        except TimeoutError:
            frame = None
        if frame is None:
            answer = Answer(issued.req_id, issued.at, issued.at + 30.0, "not answered in 30 s")
        else:
            late = frame.at - issued.at > WINDOW
            refused = f"refused {frame.errcode} {frame.errmsg}" if frame.errcode else None
            problem = refused or (f"answered after {frame.at - issued.at:.1f} s" if late else None)
            answer = Answer(issued.req_id, issued.at, frame.at, problem)
        self._answered.put_nowait(answer)

    async def answers(self, ids: list[str]) -> list[Answer]:
        answered = [await self._answered.get()]
        while not self._answered.empty():
            answered.append(self._answered.get_nowait())
        return answered


def build_world(emu: WeComEmulator, residents_each: int) -> list[Ballot]:
    emu.add_bot(BOT_ID, SECRET)
    emu.add_person(OFFICER, "王主任")
    ballots = []
    for index in range(BUILDINGS):
        first = 100_000 + index * residents_each
        residents = list(range(first, first + residents_each))
        for resident in residents:
            emu.add_person(userid(resident), f"居民{resident}")
        members = [OFFICER, *(userid(resident) for resident in residents)]
        emu.add_group(chatid(index), f"{index + 1}号楼居民群", members)
        ballots.append(Ballot(index, 0, residents))
    return ballots


async def said(emu: WeComEmulator, index: int, text: str) -> None:
    """The officer writes in building ``index``'s group; the bot's answer was taken."""
    issued = await emu.mention(OFFICER, chatid(index), text)
    frame = await emu.wait_answered(issued.req_id, timeout=30.0)
    if frame.errcode:
        raise RuntimeError(f"{text!r} answered with a refused frame: {frame}")


def cards_in(emu: WeComEmulator, index: int) -> list[dict[str, object]]:
    place = WeComPlace("group", chatid(index))
    return [bubble.card for bubble in emu.world.in_place(place) if bubble.card is not None]


def card_of(emu: WeComEmulator, index: int) -> dict[str, object]:
    """The vote card in building ``index``'s group as its residents see it now."""
    cards = cards_in(emu, index)
    if not cards:
        raise RuntimeError(f"no card in {chatid(index)}: {emu.world.describe(OFFICER)[-500:]}")
    return cards[-1]


async def published_card(emu: WeComEmulator, index: int) -> dict[str, object]:
    """The vote card a topic just published in building ``index`` (posted after the ballot
    message that answers the command)."""
    with contextlib.suppress(TimeoutError):  # if none came, card_of says what the group holds
        await emu.wait_for(lambda: cards_in(emu, index), timeout=30.0)
    return card_of(emu, index)


async def prepare_yishi(database_url: str, buildings: int) -> tuple[list[str], int]:
    """The community and its grid (on Telegram, as ``/setup`` and ``/newgrid`` would make
    them), a building code per WeCom group, and the officer's Yishi id (a super-admin)."""
    from datetime import UTC, datetime

    from bot.catalogue import load_catalogue
    from bot.clock import SystemClock
    from bot.services import Services
    from bot.services.actors import Actor, ChatKind, Place
    from bot.settings import load_settings
    from storage import migrate
    from storage.database import Database
    from storage.records import Platform

    database = Database(database_url)
    try:
        await migrate.upgrade(database)
        settings = load_settings(TELEGRAM_BOT_TOKEN="1:x", YISHI_ADMIN_IDS="1", _env_file=None)
        services = Services.build(
            database, SystemClock(), settings, load_catalogue(), realtime=False
        )
        admin = Actor(1, is_superadmin=True)
        staff = Place(-1009000000001, ChatKind.GROUP, "幸福社区工作群")
        await services.orgs.setup(admin, staff, "幸福社区")
        grid_code = await services.orgs.issue_code(admin, staff, "第一网格", "grid")
        grid = Place(-1009000000002, ChatKind.GROUP, "第一网格群")
        await services.orgs.bind(admin, grid, grid_code.code, is_chat_admin=True)
        codes = [
            (await services.orgs.issue_code(admin, grid, f"{index + 1}号楼", "building")).code
            for index in range(buildings)
        ]
        async with database.transaction() as repos:
            officer, _ = await repos.users.seen_on(
                Platform.WECOM, OFFICER, name=OFFICER, now=datetime.now(UTC)
            )
        await services.outbox.close()
        return codes, officer
    finally:
        await database.close()


async def measure_presses(
    kind: str,
    db: str,
    folder: Path,
    profile: str | None = None,
    count: Path | None = None,
    *,
    residents: int = RESIDENTS_PER_BUILDING,
    pin: bool = False,
    in_flight: int = IN_FLIGHT,
    cost_us: float = 0.0,
) -> dict[str, float]:
    """One bot under the load; ``cost_us``: CPU the bare adapter spends on each press."""
    emu = WeComEmulator()
    cpus = os.sched_getaffinity(0)
    ballots = build_world(emu, residents)
    await emu.start()
    bot = None
    try:
        async with bench_database(db, folder) as database_url:
            if kind == "yishi":
                codes, officer = await prepare_yishi(database_url, len(ballots))
                env = {
                    "DATABASE_URL": database_url,
                    "YISHI_WECOM_BOT_ID": BOT_ID,
                    "YISHI_WECOM_SECRET": SECRET,
                    "YISHI_WECOM_WS_URL": emu.ws_url,
                    "YISHI_ADMIN_IDS": str(officer),
                }
                args = ["-m", "bot", "run", "--channel", "wecom"]
                if count is not None:
                    args = ["-m", "benchmarks.counted_bot", "--out", str(count), *args[2:]]
                bot = python_process(args, env=env, log=folder / f"yishi-{db}.log")
            else:
                args = ["-m", BASELINES[kind], "--url", emu.ws_url]
                args += ["--bot-id", BOT_ID, "--secret", SECRET]
                if cost_us:
                    args += ["--cost-us", str(cost_us)]
                bot = python_process(args, log=folder / f"{kind}.log")
            if pin:
                pin_apart(bot.pid)
            await emu.wait_for(lambda: BOT_ID in emu.live, timeout=60)
            task_ids: dict[int, str] = {}
            for ballot in ballots:
                if kind == "yishi":
                    await said(emu, ballot.chat_id, f"/bind {codes[ballot.chat_id]}")
                await said(emu, ballot.chat_id, f"/topic 加装电梯{ballot.chat_id + 1} 期限=7d")
                card = await published_card(emu, ballot.chat_id)
                task_ids[ballot.chat_id] = str(card["task_id"])
                key = str(card["submit_button"]["key"])  # type: ignore[index]
                ballot.topic_id = int(key.split(":")[1]) if kind == "yishi" else None
            plan = make_plan(ballots)
            queue = press_queue(plan)
            presses = WeComPresses(emu, plan, task_ids)
            pressed: set[int] = set()
            single = await play(presses, queue, in_flight=1, limit=100, pressed=pressed)
            bot_cpu, own_cpu, db_cpu = cpu_seconds(bot.pid), time.process_time(), 0.0
            db_cpu = postgres_cpu_seconds()
            spy = profile_process(bot.pid, profile) if profile and kind == "yishi" else None
            if count is not None:
                os.kill(bot.pid, signal.SIGUSR1)
            load = await play(presses, queue, in_flight=in_flight, pressed=pressed)
            if count is not None:
                os.kill(bot.pid, signal.SIGUSR2)
                await counted(count.with_suffix(".json"))
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            bot_cpu = cpu_seconds(bot.pid) - bot_cpu
            own_cpu = time.process_time() - own_cpu
            db_cpu = postgres_cpu_seconds() - db_cpu
            problems = single.unexpected + load.unexpected
            if kind == "yishi":
                problems += await check_counts(database_url, plan)
                problems += shown_problems(emu, plan, lambda ballot: card_of(emu, ballot.chat_id))
            rss = peak_rss_mb(bot.pid)
    finally:
        if bot is not None:
            stop_process(bot)
        await emu.stop()
        os.sched_setaffinity(0, cpus)
    name = NAMES.get(kind, f"Yishi on {db}") + (f" + {cost_us:g} µs a press" if cost_us else "")
    result = report(
        kind, name, db, plan, single, load, problems, bot_cpu, own_cpu, db_cpu, rss, in_flight
    )
    if count is not None:
        counted_report(count, presses=load.presses)
    return result


async def cost_curve(
    measure: Callable[..., Awaitable[dict[str, float]]], costs: list[float], db: str, rounds: int
) -> bool:
    """The bare adapter at each added cost (microseconds of CPU a press), then Yishi on
    ``db``, ``rounds`` times; the medians as a table. True if any measure found problems."""
    costs = sorted({0.0, *costs})
    names = [NAMES["bare"] + (f" + {cost:g} µs a press" if cost else "") for cost in costs]
    names.append(f"Yishi on {db}")
    measured: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    problems = False
    with tempfile.TemporaryDirectory(prefix="yishi-bench-") as folder:
        for _ in range(rounds):
            results = [await measure("bare", "none", Path(folder), cost_us=cost) for cost in costs]
            results.append(await measure("yishi", db, Path(folder)))
            for name, result in zip(names, results, strict=True):
                problems = problems or bool(result["problems"])
                measured[name].append(result | {"ratio": result["rate"] / results[0]["rate"]})
    heading(f"What a bot's CPU per press allows (median of {rounds} rounds)")
    print(f"  {'bot':<44} {'CPU a press':>12} {'taken/s':>10} {'/ bare':>8}", flush=True)
    for name, results in measured.items():
        cpu, rate, against = (
            median([result[key] for result in results]) for key in ("cpu_ms", "rate", "ratio")
        )
        print(f"  {name:<44} {cpu:>9.3f} ms {rate:>10,.0f} {against:>7.2f}x", flush=True)
    return problems


def pin_apart(bot: int) -> None:
    """The emulator and driver (this process) on the first CPU, the bot on the second: each
    has a core of its own, as WeCom's servers are not on the bot's machine (PostgreSQL's
    server processes stay where the system put them)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("--pin needs two CPUs; this process may use one")
    first, second = cpus[:2]
    os.sched_setaffinity(0, {first})
    os.sched_setaffinity(bot, {second})


def shown_problems(
    emu: WeComEmulator, plan: Plan, card: Callable[[Ballot], dict[str, object]]
) -> list[str]:
    """Cards whose tally is not the residents' last choices."""
    problems = []
    for ballot in plan.ballots:
        title = card(ballot)["main_title"]
        shown = {option: int(n) for option, n in TALLY.findall(str(title["desc"]))}  # type: ignore[index]
        if shown != plan.last_choices(ballot):
            problems.append(f"{chatid(ballot.chat_id)}'s card shows {shown}")
    return problems


def report(
    kind: str,
    name: str,
    db: str,
    plan: Plan,
    single: Played,
    load: Played,
    problems: list[str],
    bot_cpu: float,
    own_cpu: float,
    db_cpu: float,
    rss: float,
    in_flight: int,
) -> dict[str, float]:
    latencies = single.latencies + load.latencies
    result = {
        "rate": load.rate,
        "p50": percentile(load.latencies, 0.5) * 1000,
        "p99": percentile(load.latencies, 0.99) * 1000,
        "max": max(load.latencies) * 1000,
        "single_p50": median(single.latencies) * 1000,
        "within": sum(1 for latency in latencies if latency <= WINDOW) / len(latencies),
        "cpu_ms": bot_cpu * 1000 / load.presses,
        "driver_cpu_ms": own_cpu * 1000 / load.presses,
        "db_cpu_ms": db_cpu * 1000 / load.presses,
        "rss": rss,
        "problems": len(problems),
    }
    # The cores each process kept busy during the load: one near 1.0 is what holds the rate;
    # none near it, and the rate is held by how long a press is out (docs/PERFORMANCE.md).
    seconds = load.seconds or 1.0
    print(f"\n{name}: {single.presses + load.presses} presses ({plan.total} planned)", flush=True)
    figure(f"card updates taken/s ({in_flight} in flight)", result["rate"], "/s")
    figure("press -> card update p50", result["p50"], "ms")
    figure("press -> card update p99", result["p99"], "ms")
    figure("press -> card update max", result["max"], "ms", "< 5,000 ms")
    figure("one at a time p50", result["single_p50"], "ms")
    figure("presses answered within 5 s", result["within"] * 100, "%", "100 %")
    figure("bot CPU per press", result["cpu_ms"], "ms")
    figure("emulator + driver CPU per press", result["driver_cpu_ms"], "ms")
    if kind == "yishi" and db == "postgres":
        figure("PostgreSQL server CPU per press", result["db_cpu_ms"], "ms")
    figure("bot peak RSS", result["rss"], "MB")
    shares = f"bot {bot_cpu / seconds:.2f} + emulator and driver {own_cpu / seconds:.2f}"
    if kind == "yishi" and db == "postgres":
        shares += f" + PostgreSQL {db_cpu / seconds:.2f}"
    print(f"  cores busy during the load: {shares}", flush=True)
    for problem in problems[:10]:
        print(f"  PROBLEM: {problem}", flush=True)
    if kind == "yishi":
        verdict = "all equal the last choices" if not problems else "MISMATCH"
        print(f"  counts stored and shown on the cards: {verdict}", flush=True)
    return result


def microseconds(text: str) -> list[float]:
    """``--cost-curve``'s list: non-negative numbers, comma-separated."""
    try:
        costs = [float(cost) for cost in text.split(",") if cost.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not numbers: {text!r}") from None
    if not costs or min(costs) < 0:
        raise argparse.ArgumentTypeError(f"give costs of 0 microseconds or more: {text!r}")
    return costs


async def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    arguments.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="bare, then Yishi on each database, that many times: the neighbours' load "
        "drifts within minutes here, so each round's ratios and their median are reported",
    )
    arguments.add_argument("--profile", help="py-spy Yishi during the load (raw stacks, per db)")
    arguments.add_argument(
        "--count",
        type=Path,
        metavar="OUT",
        help="Yishi once on --db (sqlite or postgres), no baseline, under counters "
        "(benchmarks/counted_bot.py): writes OUT.json and OUT.pstats, prints counts per press",
    )
    arguments.add_argument(
        "--alone",
        type=int,
        metavar="N",
        help="Yishi alone N times on --db (sqlite or postgres), no baseline: its CPU per press "
        "each time, to compare two checkouts run one after the other, in turns (the machine's "
        "load moves the ratios of one run more than a change does)",
    )
    arguments.add_argument(
        "--residents",
        type=int,
        default=RESIDENTS_PER_BUILDING,
        help="residents of each of the 50 groups (40: 3,014 presses, a load of about half a "
        "second on a quiet machine; 200: about 15,000 presses, a steadier ratio)",
    )
    arguments.add_argument(
        "--pin",
        action="store_true",
        help="the emulator and driver on one CPU, the bot on another (the default lets the "
        "system place them: on two CPUs they share both)",
    )
    arguments.add_argument(
        "--in-flight",
        type=int,
        default=IN_FLIGHT,
        help=f"presses unanswered at once during the load (default {IN_FLIGHT})",
    )
    arguments.add_argument(
        "--cost-curve",
        type=microseconds,
        metavar="US,US,...",
        help="the bare adapter once per added CPU cost of a press (microseconds, the plain "
        "adapter too), then Yishi on --db (sqlite or postgres), --rounds times: the rate a bot "
        "that answers each press at once gets for what it spends on one, beside Yishi's",
    )
    args = arguments.parse_args()
    measure = functools.partial(
        measure_presses, residents=args.residents, pin=args.pin, in_flight=args.in_flight
    )
    if args.alone is not None:
        if args.db == "both":
            raise SystemExit("--alone measures one database: give --db sqlite or --db postgres")
        cpu = []
        for _ in range(args.alone):
            with tempfile.TemporaryDirectory(prefix="yishi-bench-") as folder:
                ours = await measure("yishi", args.db, Path(folder))
            if ours["problems"]:
                raise SystemExit("some presses were not answered in time, or counts were wrong")
            cpu.append(ours["cpu_ms"])
        print(f"\nbot CPU per press, ms: {' '.join(f'{ms:.3f}' for ms in cpu)}", flush=True)
        return
    if args.cost_curve is not None:
        if args.db == "both":
            raise SystemExit("--cost-curve measures one database: give --db sqlite or postgres")
        machine_note()
        if await cost_curve(measure, args.cost_curve, args.db, args.rounds):
            raise SystemExit("some presses were not answered in time, or counts were wrong")
        return
    if args.count is not None:
        if args.db == "both":
            raise SystemExit("--count measures one database: give --db sqlite or --db postgres")
        count = args.count.resolve()
        count.with_suffix(".json").unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(prefix="yishi-bench-") as folder:
            ours = await measure("yishi", args.db, Path(folder), count=count)
        if ours["problems"]:
            raise SystemExit("some counts were wrong (see PROBLEM lines)")
        return
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    machine_note()
    heading(f"WeCom vote-card presses over the long connection ({', '.join(databases)})")
    with tempfile.TemporaryDirectory(prefix="yishi-bench-") as folder:
        problems = await against_baseline(
            measure,
            baseline=NAMES["bare"],
            also=[("sdk", NAMES["sdk"])],
            databases=databases,
            rounds=args.rounds,
            compared=[
                ("card updates taken/s", "rate", "(target >= 1.0)"),
                ("p99 press -> card update", "p99", ""),
                ("bot CPU per press", "cpu_ms", ""),
            ],
            folder=Path(folder),
            profile=args.profile,
        )
    if problems:
        raise SystemExit("some presses were not answered in time, or counts were wrong")


if __name__ == "__main__":
    os.environ.setdefault("YISHI_LOG_LEVEL", "WARNING")
    asyncio.run(main())
