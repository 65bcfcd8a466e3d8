"""A digest is several messages (its text, its chart): a stop between them, graceful (SIGTERM)
or not (SIGKILL), must not send again after the restart what was already delivered.

One bot process per database; six Monday digests (text, then the weekly chart), each stopped
at one point: before the text, between the text and the chart, after the chart (its answer
not yet back), by SIGTERM and by SIGKILL (docs/RELIABILITY.md, "Multi-part work").
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.tables import outbox_parts
from tests.auxil.process import ProcessHarness, rows
from tests.auxil.topics import publish
from tests.auxil.world import (
    BUILDING_CHAT,
    GRID_CHAT,
    NEIGHBOUR,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    community,
)


def texts(h: ProcessHarness) -> int:
    return sum(1 for m in h.emu.bot_messages(STAFF_CHAT) if (m.text or "").startswith("📊"))


def charts(h: ProcessHarness) -> int:
    return sum(1 for m in h.emu.bot_messages(STAFF_CHAT) if m.photo)


@dataclass(frozen=True)
class Stop:
    """Where the digest is stopped: the call the emulator holds, and how."""

    name: str
    method: str
    after: bool  # the call is done and only its answer is held
    graceful: bool  # SIGTERM (else SIGKILL)
    before_restart: tuple[int, int]  # (texts, charts) delivered by the stopped process
    after_restart: tuple[int, int]  # ... and in all, once the restarted bot has settled


STOPS = [
    Stop("SIGTERM before the text", "sendMessage", False, True, (1, 0), (1, 1)),
    Stop("SIGTERM between text and chart", "sendPhoto", False, True, (1, 1), (1, 1)),
    Stop("SIGTERM after the chart", "sendPhoto", True, True, (1, 1), (1, 1)),
    Stop("SIGKILL before the text", "sendMessage", False, False, (0, 0), (1, 1)),
    Stop("SIGKILL between text and chart", "sendPhoto", False, False, (1, 0), (1, 1)),
    # Killed between the chart's delivery and its "sent" mark: the chart, and only the chart,
    # is sent again (the one message a SIGKILL may repeat).
    Stop("SIGKILL after the chart", "sendPhoto", True, False, (1, 1), (1, 2)),
]


async def stop_at(h: ProcessHarness, stop: Stop, monday: datetime) -> None:
    def release() -> None:
        h.emu.release(stop.method, chat_id=STAFF_CHAT, after=stop.after)

    h.emu.hold(stop.method, chat_id=STAFF_CHAT, after=stop.after)
    h.set_time(monday + timedelta(minutes=1))  # 08:31 local: the Monday digest falls due
    await h.held(stop.method, STAFF_CHAT)
    if stop.graceful:
        await h.stop_bot_holding(release)
    else:
        await h.kill_bot()
        release()


async def digest_stopped(h: ProcessHarness, stop: Stop, monday: datetime) -> None:
    start = texts(h), charts(h)

    def delivered() -> tuple[int, int]:
        return texts(h) - start[0], charts(h) - start[1]

    await stop_at(h, stop, monday)
    assert delivered() == stop.before_restart, stop.name
    await h.start_bot()
    await h.emu.wait_until(
        lambda: all(got >= want for got, want in zip(delivered(), stop.after_restart, strict=True))
    )
    await h.settle()
    assert delivered() == stop.after_restart, stop.name


async def test_a_digest_stopped_at_each_point_sends_each_part_once(
    ph_both: ProcessHarness,
) -> None:
    h = ph_both
    await community(h)
    await h.say(STAFF_CHAT, STAFF, "/subscribe")  # daily at 08:30 local (00:30 UTC)
    ballot = await publish(h, "东门快递柜 期限=1h")  # a tie goes up: the chart has a grid
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    await h.pass_time(timedelta(hours=1))
    await h.emu.wait_until(
        lambda: any("⬆️ 上报 #" in (m.text or "") for m in h.emu.bot_messages(GRID_CHAT))
    )
    first_monday = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)
    for week, stop in enumerate(STOPS):
        monday = first_monday + timedelta(weeks=week)
        # Sunday: the digest due since Tuesday goes out (late, text only); the next is Monday's.
        await h.pass_time(monday - timedelta(hours=23, minutes=30) - h.clock.now())
        await digest_stopped(h, stop, monday)
    # Every part is on record; the charts, all sent, are not kept.
    assert await h.count(rows(outbox_parts).where(outbox_parts.c.kind == "photo")) == len(STOPS)
    assert await h.count(rows(outbox_parts).where(outbox_parts.c.data.is_not(None))) == 0


async def test_a_daily_digest_with_a_restart_each_morning_is_sent_once_a_day(
    ph_both: ProcessHarness,
) -> None:
    h = ph_both
    await community(h)
    await h.say(STAFF_CHAT, STAFF, "/subscribe")
    for day in range(3):  # 2, 3 and 4 December, 08:30 local
        due = datetime(2026, 12, 2 + day, 0, 30, tzinfo=UTC)
        h.emu.hold("sendMessage", chat_id=STAFF_CHAT)
        h.set_time(due + timedelta(minutes=1))
        await h.held("sendMessage", STAFF_CHAT)
        # The operator restarts the bot while the digest is on its way.
        if day < 2:
            await h.stop_bot_holding(lambda: h.emu.release("sendMessage", chat_id=STAFF_CHAT))
            assert texts(h) == day + 1  # the stopping bot finished sending it
        else:
            # Telegram never answers: the stop gives up after its grace (10 s), exits 0, and
            # the digest waits for the next start.
            await stopped_within(h, GRACEFUL_STOP_BOUND)
            h.emu.release("sendMessage", chat_id=STAFF_CHAT)
            assert texts(h) == day
        await h.start_bot()
        await h.pass_time(timedelta(hours=2))  # the morning goes on
        assert texts(h) == day + 1
    await h.pass_time(timedelta(hours=12))  # and nothing more that day
    assert texts(h) == 3


# The grace is 10 s (channels/telegram/runtime.py); a loaded machine adds start-up and shutdown
# time.
GRACEFUL_STOP_BOUND = 40.0


async def stopped_within(h: ProcessHarness, bound: float) -> None:
    process = h.process
    assert process is not None
    process.popen.send_signal(signal.SIGTERM)
    status = await process.wait(timeout=bound)
    h.process = None
    assert status == 0, process.output()
    assert "stopping with outbox messages still being sent" in process.output()
