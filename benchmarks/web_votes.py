"""Votes on the web page: Yishi's topic page and vote against a bare aiohttp handler, same run.

Three processes for Yishi: the Telegram emulator (``python -m emulators.telegram``), the real
``yishi run`` (``python -m bot run`` with ``YISHI_PUBLIC_URL`` and ``YISHI_WEB_LISTEN``: the web
server beside the Telegram adapter, on SQLite or PostgreSQL) and this driver. Set up through
the emulator as people would (``/setup``, ``/newgrid``, ``/newbuilding``, ``/bind``, ``/topic``):
one building group of 1,000 residents with an open topic. Every resident signs in as a
Telegram Mini App does (``GET /tg`` for the CSRF value, ``POST /tg/signin`` with ``initData``
signed with the bot's token, each from an address of their own as the reverse proxy's
``X-Forwarded-For`` names it; ``WebSessionService.telegram_person`` and ``open_session`` make
the person and the session) and opens the topic's page (Yishi asks Telegram once whether they
are in the group). Then, measured:

1. **pages**: all 1,000 residents at once load the page and poll its live tally three times
   (``/t/<id>/live.json``, as the page's script does), each request sent when the last was
   answered: page requests/s.
2. **votes**: 200 of them vote at once (each GETs the page for its CSRF token, POSTs the vote,
   follows the 303 to the page; a third change their minds, some twice, a few vote the same
   again), while the 800 others poll the tally every 3 s as the page's script does: votes/s
   and vote latency (POST -> its answer, and until the page it leads to).

The baseline is ``benchmarks/bare_web.py`` (the same routes, a static page, a form post
answered with a 303), under the identical load. Afterwards the topic's stored counts, the
tally on the group's ballot message in the emulator and the page's live tally are checked
against the voters' last choices; the command exits non-zero on any difference or failed
request. The driver is an aiohttp client with one connection pool; its CPU is printed
beside the server's (at 100 % of a core it would be the bottleneck).

    .venv/bin/python -m benchmarks.web_votes                     # SQLite and PostgreSQL
    .venv/bin/python -m benchmarks.web_votes --db sqlite --rounds 3
    .venv/bin/python -m benchmarks.web_votes --db sqlite --profile stacks.txt   # py-spy
    .venv/bin/python -m benchmarks.web_votes --db sqlite --count OUT   # Yishi once, counted
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

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
    peak_rss_mb,
    percentile,
    postgres_cpu_seconds,
    profile_process,
    python_process,
    stop_process,
    wait_for_port,
)
from benchmarks.community import ADMIN, GRID_CHAT, STAFF_CHAT, RemotePeople, code_in, shown_tally
from benchmarks.ingest_http import counted
from benchmarks.presses import OPTIONS, Ballot, Plan, make_plan
from channels.web.telegram_login import data_check_string, signature
from emulators.telegram import EmulatorClient

TOKEN = "123456:TEST-TOKEN"
RESIDENTS, VOTERS = 1000, 200
BUILDING_CHAT = -1009000001000
FIRST_RESIDENT = 100_000
POLLS_PER_PAGE = 3  # phase 1: each resident's page load and the polls after it
POLL_EVERY = 3.0  # the page's script polls the tally every 3 s
CSRF = re.compile(r'csrf(?:" value="|: ")([0-9a-f]{64})')


@dataclass
class Resident:
    user_id: int
    address: str  # their X-Forwarded-For
    cookie: str = ""  # the Cookie header their browser sends
    csrf: str = ""


@dataclass
class Requests:
    """What one phase measured, per kind of request."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def took(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def count(self, *kinds: str) -> int:
        return sum(len(self.latencies.get(kind, [])) for kind in kinds)

    def rate(self, *kinds: str) -> float:
        return self.count(*kinds) / self.seconds if self.seconds else 0.0

    def p(self, kind: str, fraction: float) -> float:
        return percentile(self.latencies.get(kind, []), fraction) * 1000


class Driver:
    """The residents' browsers: one aiohttp client, one connection pool, no cookie jar (each
    request carries its resident's cookies)."""

    def __init__(self, base: str) -> None:
        self.base = base
        connector = aiohttp.TCPConnector(limit=RESIDENTS + 50, limit_per_host=0)
        self.http = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=60),
        )

    async def close(self) -> None:
        await self.http.close()

    def headers(self, resident: Resident) -> dict[str, str]:
        return {"Cookie": resident.cookie, "X-Forwarded-For": resident.address}

    async def sign_in(self, resident: Resident, topic: int) -> str | None:
        """The Mini App's sign-in, then the topic's page (its CSRF token kept); a problem."""
        headers = {"X-Forwarded-For": resident.address}
        async with self.http.get(f"{self.base}/tg", headers=headers) as response:
            html = await response.text()
            pre = response.cookies.get("yishi_pre")
        found = CSRF.search(html)
        if response.status != 200 or found is None:
            return f"GET /tg answered {response.status}"
        fields = {
            "auth_date": str(int(time.time())),
            "start_param": f"t{topic}",  # a topic's page (bot/services/web_links.py)
            "user": json.dumps(
                {"id": resident.user_id, "first_name": f"居民{resident.user_id}"},
                ensure_ascii=False,
                separators=(",", ":"),
            ),
        }
        fields["hash"] = signature(TOKEN, data_check_string(fields))
        form = {"init_data": urlencode(fields), "csrf": found.group(1)}
        if pre is not None:
            headers["Cookie"] = f"yishi_pre={pre.value}"
        async with self.http.post(f"{self.base}/tg/signin", data=form, headers=headers) as response:
            answer = await response.json(content_type=None)
            session = response.cookies.get("yishi_session")
        if response.status != 200 or session is None:
            return f"POST /tg/signin answered {response.status} {answer}"
        resident.cookie = f"yishi_session={session.value}"
        status, html = await self.get(resident, str(answer["next"]))
        found = CSRF.search(html)
        if status != 200 or found is None:
            return f"GET {answer['next']} answered {status}"
        resident.csrf = found.group(1)
        return None

    async def get(self, resident: Resident, path: str) -> tuple[int, str]:
        async with self.http.get(self.base + path, headers=self.headers(resident)) as response:
            return response.status, await response.text()

    async def post(self, resident: Resident, path: str, form: dict[str, str]) -> tuple[int, str]:
        """(status, the Location of a redirect or the page answered)."""
        async with self.http.post(
            self.base + path, data=form, headers=self.headers(resident), allow_redirects=False
        ) as response:
            if response.status in (302, 303):
                return response.status, response.headers.get("Location", "")
            return response.status, await response.text()


async def timed(
    requests: Requests, kind: str, call: Awaitable[tuple[int, str]]
) -> tuple[int, str] | None:
    start = time.perf_counter()
    try:
        status, body = await call
    except (aiohttp.ClientError, TimeoutError) as error:
        requests.failures.append(f"{kind}: {type(error).__name__} {error}")
        return None
    requests.took(kind, time.perf_counter() - start)
    return status, body


async def pages_phase(driver: Driver, residents: list[Resident], topic: int) -> Requests:
    """Everyone at once: the page, then its tally polled POLLS_PER_PAGE times."""
    requests = Requests()

    async def browse(resident: Resident) -> None:
        got = await timed(requests, "page", driver.get(resident, f"/t/{topic}"))
        if got is not None and got[0] != 200:
            requests.failures.append(f"page answered {got[0]}")
        for _ in range(POLLS_PER_PAGE):
            got = await timed(requests, "live", driver.get(resident, f"/t/{topic}/live.json"))
            if got is not None and got[0] != 200:
                requests.failures.append(f"live.json answered {got[0]}")

    start = time.perf_counter()
    await asyncio.gather(*(browse(resident) for resident in residents))
    requests.seconds = time.perf_counter() - start
    return requests


async def votes_phase(
    driver: Driver, voters: list[Resident], watchers: list[Resident], plan: Plan, topic: int
) -> Requests:
    """The voters at once (page, then each planned vote followed to its page) while the
    watchers poll the tally every POLL_EVERY s, until the last vote is answered."""
    requests = Requests()
    done = asyncio.Event()

    async def vote(voter: Resident) -> None:
        got = await timed(requests, "page", driver.get(voter, f"/t/{topic}"))
        if got is None or got[0] != 200:
            requests.failures.append(f"page before the vote answered {got and got[0]}")
            return
        found = CSRF.search(got[1])
        csrf = found.group(1) if found else voter.csrf
        for option in plan.presses[voter.user_id]:
            chosen = str(OPTIONS.index(option))
            form = {"csrf": csrf, "option": chosen}
            start = time.perf_counter()
            got = await timed(requests, "vote", driver.post(voter, f"/t/{topic}/vote", form))
            if got is None:
                continue
            status, answer = got
            if status == 303 and answer == f"/t/{topic}?voted={chosen}":
                page = await timed(requests, "page", driver.get(voter, answer))
                if page is None or page[0] != 200:
                    requests.failures.append(f"the page after a vote answered {page and page[0]}")
            elif status != 200:  # 200: the same vote again, answered with the page
                requests.failures.append(f"vote answered {status} {answer[:200]}")
            requests.took("vote_and_page", time.perf_counter() - start)

    async def watch(watcher: Resident, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, POLL_EVERY))
        while not done.is_set():
            got = await timed(requests, "live", driver.get(watcher, f"/t/{topic}/live.json"))
            if got is not None and got[0] != 200:
                requests.failures.append(f"live.json answered {got[0]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), POLL_EVERY)

    rng = random.Random(15)
    watching = [asyncio.ensure_future(watch(watcher, rng)) for watcher in watchers]
    start = time.perf_counter()
    await asyncio.gather(*(vote(voter) for voter in voters))
    requests.seconds = time.perf_counter() - start
    done.set()
    await asyncio.gather(*watching)
    return requests


async def set_up_yishi(client: EmulatorClient, residents: list[int]) -> tuple[int, int]:
    """The community, its grid and one building of ``residents``; its topic's id and ballot
    message."""
    people = RemotePeople(client)
    await people.add_user(ADMIN, "王主任")
    for resident in residents:
        await people.add_user(resident, f"居民{resident}")
    await people.add_group(STAFF_CHAT, "幸福社区工作群", [])
    await people.bot_message(STAFF_CHAT)
    await people.say(STAFF_CHAT, "/setup 幸福社区")
    issued = await people.say(STAFF_CHAT, "/newgrid 第一网格")
    await people.add_group(GRID_CHAT, "第一网格群", [])
    await people.bot_message(GRID_CHAT)
    await people.say(GRID_CHAT, f"/bind {code_in(issued)}")
    issued = await people.say(GRID_CHAT, "/newbuilding 1号楼")
    await people.add_group(BUILDING_CHAT, "1号楼", residents)
    await people.bot_message(BUILDING_CHAT)
    await people.say(BUILDING_CHAT, f"/bind {code_in(issued)}")
    ballot = await people.say(BUILDING_CHAT, "/topic 加装电梯 期限=7d", buttons=True)
    found = re.match(r"📋 #(\d+)", ballot["text"] or "")
    assert found, ballot["text"]
    return int(found.group(1)), int(ballot["message_id"])


async def sign_in_everyone(driver: Driver, residents: list[Resident], topic: int) -> list[str]:
    problems: list[str] = []
    gate = asyncio.Semaphore(50)

    async def one(resident: Resident) -> None:
        async with gate:
            problem = await driver.sign_in(resident, topic)
            if problem is not None:
                problems.append(f"resident {resident.user_id}: {problem}")

    await asyncio.gather(*(one(resident) for resident in residents))
    return problems


async def check_tally(
    client: EmulatorClient | None,
    driver: Driver,
    database_url: str | None,
    plan: Plan,
    watcher: Resident,
    caught_up: list[float],
) -> list[str]:
    """The stored counts, the group's ballot message and the page's tally: the last choices."""
    if client is None or database_url is None:
        return []
    from benchmarks.community import check_counts

    ballot = plan.ballots[0]
    expected = plan.last_choices(ballot)
    problems = await check_counts(database_url, plan)
    # The message is edited at most once per 3 s, and under Telegram's 20 a minute per group
    # (the bot's rate limiter may hold an edit longer): it must show the last choices once
    # the bot has caught up, within a minute.
    waited = time.perf_counter()
    while True:
        message = await client.call("message", chat_id=ballot.chat_id, message_id=ballot.message_id)
        shown_message = shown_tally(message["text"])
        if shown_message == expected or time.perf_counter() - waited > 60:
            break
        await asyncio.sleep(0.5)
    if shown_message != expected:
        problems.append(f"the group's ballot message shows {shown_message} after 60 s")
    caught_up[0] = time.perf_counter() - waited
    status, body = await driver.get(watcher, f"/t/{ballot.topic_id}/live.json")
    shown = dict(zip(OPTIONS, json.loads(body)["tally"], strict=True)) if status == 200 else {}
    if shown != expected:
        problems.append(f"the page's live tally shows {shown} ({status})")
    return problems


async def measure(
    kind: str, db: str, folder: Path, profile: str | None = None, count: Path | None = None
) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    user_ids = list(range(FIRST_RESIDENT, FIRST_RESIDENT + RESIDENTS))
    processes = []
    client: EmulatorClient | None = None
    driver = Driver(base)
    caught_up = [float("nan")]  # seconds until the group's ballot message showed the tally
    try:
        async with bench_database(db, folder) as database_url:
            if kind == "yishi":
                emulator_port = free_port()
                emulator = python_process(
                    ["-m", "emulators.telegram", "--port", str(emulator_port)],
                    log=folder / "emulator.log",
                )
                processes.append(emulator)
                await wait_for_port(emulator_port)
                client = EmulatorClient(f"http://127.0.0.1:{emulator_port}")
                env = {
                    "TELEGRAM_BOT_TOKEN": TOKEN,
                    "TELEGRAM_BASE_URL": f"http://127.0.0.1:{emulator_port}/bot",
                    "DATABASE_URL": database_url,
                    "YISHI_ADMIN_IDS": str(ADMIN),
                    "YISHI_PUBLIC_URL": base,
                    "YISHI_WEB_LISTEN": f"127.0.0.1:{port}",
                    "YISHI_LOG_LEVEL": "WARNING",
                }
                run = ["-m", "bot", "run"]
                if count is not None:
                    run = ["-m", "benchmarks.counted_bot", "--out", str(count), "run"]
                server = python_process(run, env=env, log=folder / f"yishi-{db}.log")
                processes.append(server)
                topic, message_id = await set_up_yishi(client, user_ids)
                await wait_for_port(port)
            else:
                server = python_process(
                    ["-m", "benchmarks.bare_web", "--port", str(port)], log=folder / "bare.log"
                )
                processes.append(server)
                await wait_for_port(port)
                topic, message_id = 1, 0
            residents = [Resident(u, f"10.0.{u // 250 % 250}.{u % 250 + 1}") for u in user_ids]
            problems = await sign_in_everyone(driver, residents, topic)
            voters = random.Random(6).sample(residents, VOTERS)
            chosen = {voter.user_id for voter in voters}
            watchers = [resident for resident in residents if resident.user_id not in chosen]
            ballot = Ballot(BUILDING_CHAT, message_id, [v.user_id for v in voters], topic)
            plan = make_plan([ballot])
            if client is not None:
                await client.wait_idle(quiet=3.5, timeout=60)
            server_cpu, own_cpu = cpu_seconds(server.pid), time.process_time()
            db_cpu, machine = postgres_cpu_seconds(), machine_cpu_seconds()
            spy = profile_process(server.pid, profile) if profile and kind == "yishi" else None
            if count is not None:
                os.kill(server.pid, signal.SIGUSR1)
            pages = await pages_phase(driver, residents, topic)
            pages_cpu = cpu_seconds(server.pid) - server_cpu
            pages_own = time.process_time() - own_cpu
            server_cpu, own_cpu = cpu_seconds(server.pid), time.process_time()
            votes = await votes_phase(driver, voters, watchers, plan, topic)
            votes_cpu = cpu_seconds(server.pid) - server_cpu
            votes_own = time.process_time() - own_cpu
            if count is not None:
                os.kill(server.pid, signal.SIGUSR2)
                await counted(count.with_suffix(".json"))
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            db_cpu = postgres_cpu_seconds() - db_cpu
            machine_busy, machine_all = (
                now - before for now, before in zip(machine_cpu_seconds(), machine, strict=True)
            )
            problems += pages.failures + votes.failures
            problems += await check_tally(
                client,
                driver,
                database_url if kind == "yishi" else None,
                plan,
                watchers[0],
                caught_up,
            )
            rss = peak_rss_mb(server.pid)
    finally:
        await driver.close()
        if client is not None:
            await client.close()
        for process in reversed(processes):
            stop_process(process)
    result = {
        "page_rate": pages.rate("page", "live"),
        "page_p50": pages.p("page", 0.5),
        "page_p99": pages.p("page", 0.99),
        "live_p99": pages.p("live", 0.99),
        "vote_rate": votes.rate("vote"),
        "vote_p50": votes.p("vote", 0.5),
        "vote_p99": votes.p("vote", 0.99),
        "vote_page_p99": votes.p("vote_and_page", 0.99),
        "votes_requests_rate": votes.rate("vote", "page", "live"),
        "pages_cpu_ms": pages_cpu * 1000 / max(1, pages.count("page", "live")),
        "votes_cpu_ms": votes_cpu * 1000 / max(1, votes.count("vote")),
        "server_busy_pages": pages_cpu / pages.seconds,
        "driver_busy_pages": pages_own / pages.seconds,
        "server_busy_votes": votes_cpu / votes.seconds,
        "driver_busy_votes": votes_own / votes.seconds,
        "db_cpu_ms": db_cpu * 1000 / max(1, pages.count("page", "live") + votes.count("vote")),
        "machine_busy": machine_busy / machine_all,
        "rss": rss,
        "problems": len(problems),
    }
    name = "bare aiohttp handler" if kind == "bare" else f"Yishi on {db}"
    print(f"\n{name}: {RESIDENTS} residents signed in, {VOTERS} voting", flush=True)
    figure("pages: page requests/s (page + its polls)", result["page_rate"], "/s")
    figure(
        f"  page p50 / p99 ({pages.count('page')} pages)",
        f"{result['page_p50']:.0f} / {result['page_p99']:.0f}",
        "ms",
    )
    figure(f"  live.json p99 ({pages.count('live')} polls)", result["live_p99"], "ms")
    figure("  server CPU per request", result["pages_cpu_ms"], "ms")
    figure(
        "  server / driver CPU busy (of one core)",
        f"{result['server_busy_pages'] * 100:.0f} / {result['driver_busy_pages'] * 100:.0f}",
        "%",
    )
    figure(f"votes: votes/s ({votes.count('vote')} votes)", result["vote_rate"], "/s")
    figure("  vote p50 (POST -> answer)", result["vote_p50"], "ms")
    figure("  vote p99 (POST -> answer)", result["vote_p99"], "ms", "< 300 ms")
    figure("  vote p99 until the page after it", result["vote_page_p99"], "ms")
    figure("  all requests/s meanwhile (votes, pages, polls)", result["votes_requests_rate"], "/s")
    figure("  server CPU per vote (with its pages, the polls)", result["votes_cpu_ms"], "ms")
    figure(
        "  server / driver CPU busy (of one core)",
        f"{result['server_busy_votes'] * 100:.0f} / {result['driver_busy_votes'] * 100:.0f}",
        "%",
    )
    if kind == "yishi":
        figure("group's ballot message exact, after the load", caught_up[0], "s")
    if kind == "yishi" and db == "postgres":
        figure("PostgreSQL server CPU per request", result["db_cpu_ms"], "ms")
    figure("machine CPU busy (all cores, both phases)", result["machine_busy"] * 100, "%")
    figure("server peak RSS", result["rss"], "MB")
    for problem in problems[:10]:
        print(f"  PROBLEM: {problem}", flush=True)
    if kind == "yishi":
        verdict = "all equal the last choices" if not problems else "MISMATCH"
        print(f"  stored, on the group's ballot message, on the page: {verdict}", flush=True)
    if count is not None:
        counted_report(count, presses=votes.count("vote"), result=result)
    return result


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
    arguments.add_argument("--profile", help="py-spy Yishi during both phases (raw stacks, per db)")
    arguments.add_argument(
        "--count",
        type=Path,
        metavar="OUT",
        help="Yishi once on --db (sqlite or postgres), no baseline, under counters "
        "(benchmarks/counted_bot.py): writes OUT.json and OUT.pstats, prints counts per vote",
    )
    arguments.add_argument("--logs", type=Path, help="keep the processes' logs in this folder")
    args = arguments.parse_args()
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    machine_note()
    if args.count is not None:
        if args.db == "both":
            raise SystemExit("--count measures one database: give --db sqlite or --db postgres")
        count = args.count.resolve()
        count.with_suffix(".json").unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(prefix="yishi-bench-") as folder:
            ours = await measure("yishi", args.db, Path(folder), count=count)
        if ours["problems"]:
            raise SystemExit("some requests failed or the tally was wrong (see PROBLEM lines)")
        return
    heading(f"votes on the web page ({', '.join(databases)})")
    with tempfile.TemporaryDirectory(prefix="yishi-bench-") as scratch:
        folder = args.logs.resolve() if args.logs else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        problems = await against_baseline(
            measure,
            baseline="bare aiohttp handler",
            databases=databases,
            rounds=args.rounds,
            compared=[
                ("page requests/s", "page_rate", "(target >= 0.5)"),
                ("votes/s", "vote_rate", "(target >= 0.5)"),
                ("vote p99", "vote_p99", ""),
                ("server CPU per page request", "pages_cpu_ms", ""),
            ],
            folder=folder,
            profile=args.profile,
        )
    if problems:
        raise SystemExit("some requests failed or a tally was wrong (see PROBLEM lines)")


if __name__ == "__main__":
    os.environ.setdefault("YISHI_LOG_LEVEL", "WARNING")
    asyncio.run(main())
