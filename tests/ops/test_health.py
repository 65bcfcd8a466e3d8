"""/healthz and /readyz on a running bot: ready when every check passes, and not ready, saying
which check failed, when due work lags, the lease expires or the database stops answering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text, update

from bot.health import DATABASE_TIMEOUT
from storage.database import Database
from storage.tables import instance_lease
from tests.auxil.topics import publish, topic_id
from tests.auxil.world import BUILDING_CHAT, community
from tests.conftest import POSTGRES_URL
from tests.ops.conftest import Served, wait_for_readiness

CHECKS = {"database", "lease", "updates", "due_work"}


async def test_alive_and_ready(hs: Served) -> None:
    status, body = await hs.get("/healthz")
    assert (status, body) == (200, {"alive": True})
    # Ready once a getUpdates has answered (the harness polls with a 1 s timeout).
    body = await wait_for_readiness(hs, True)
    assert set(body["checks"]) == CHECKS
    assert all(check["ok"] for check in body["checks"].values()), body
    assert body["checks"]["updates"]["detail"].startswith("polling: getUpdates answered")
    assert body["lease_holder"] and body["lease_holder"] in body["checks"]["lease"]["detail"]


async def test_due_work_running_late_makes_it_not_ready(hs: Served) -> None:
    """A deadline passes and nothing runs it (the scheduler stands still with the test clock):
    not ready once it is over five minutes late; ready again once the due work ran."""
    await community(hs)
    ballot = await publish(hs, "更换电梯 期限=30m")
    hs.clock.advance(timedelta(minutes=33))  # 3 minutes late: within the bound
    body = await wait_for_readiness(hs, True)
    assert "1 due, the oldest 180 s late" in body["checks"]["due_work"]["detail"]
    hs.clock.advance(timedelta(minutes=10))
    status, body = await hs.get("/readyz")
    assert status == 503 and body["ready"] is False
    assert body["checks"]["due_work"]["ok"] is False
    assert "1 due, the oldest 780 s late" in body["checks"]["due_work"]["detail"]
    assert all(body["checks"][name]["ok"] for name in CHECKS - {"due_work"}), body
    await hs.services.timers.run_due()  # what the scheduler's wake-up does
    await hs.settle()
    assert f"#{topic_id(ballot)}" in (hs.last_bot_message(BUILDING_CHAT).text or "")  # outcome
    body = await wait_for_readiness(hs, True)
    assert body["checks"]["due_work"]["detail"] == "nothing is due"


async def test_an_expired_lease_makes_it_not_ready_until_the_heartbeat(hs: Served) -> None:
    """The lease row says it expired (heartbeats stalled: another instance could take over):
    not ready; the next heartbeat renews it and the bot is ready again."""
    await wait_for_readiness(hs, True)
    database = hs.services.database
    past = datetime.now(UTC) - timedelta(minutes=1)
    body: dict = {}
    for _ in range(20):  # a heartbeat may renew it between the update and the request
        async with database.transaction() as repos:
            await repos.connection.execute(update(instance_lease).values(expires_at=past))
        status, body = await hs.get("/readyz")
        if status == 503:
            break
    assert body["ready"] is False and body["checks"]["lease"]["ok"] is False, body
    assert "expired" in body["checks"]["lease"]["detail"]
    # The heartbeat (every YISHI_LEASE_TTL / 5 = 4 s) renews it.
    await wait_for_readiness(hs, True, timeout=60)


async def test_a_database_that_does_not_answer_makes_it_not_ready(hs: Served) -> None:
    """SQLite: a transaction holds the bot's one connection; PostgreSQL: the database refuses
    connections and the bot's are cut. Not ready, saying so; ready once it answers again."""
    await wait_for_readiness(hs, True)
    database = hs.services.database
    if database.dialect == "sqlite":
        async with database.transaction():
            status, body = await hs.get("/readyz")
        expected = f"no answer within {DATABASE_TIMEOUT:.0f} s"
    else:
        name = database.engine.url.database
        admin = Database(POSTGRES_URL)
        try:
            async with admin.engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
                try:
                    status, body = await hs.get("/readyz")
                finally:
                    await connection.execute(
                        text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
                    )
        finally:
            await admin.close()
        expected = "unreachable"
    assert status == 503, body
    assert body["checks"]["database"]["ok"] is False
    assert expected in body["checks"]["database"]["detail"], body
    assert body["checks"]["lease"]["detail"].startswith("the lease cannot be read"), body
    assert body["checks"]["updates"]["ok"] is True  # Telegram is still answering
    await wait_for_readiness(hs, True, timeout=60)
