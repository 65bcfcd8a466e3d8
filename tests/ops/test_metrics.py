"""/metrics: Prometheus text that moves with what happens, and the Grafana dashboard's queries
all found in it."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.auxil.topics import publish
from tests.auxil.world import BUILDING_CHAT, NEIGHBOUR, RESIDENT, community
from tests.ops.conftest import Served

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-yishi.json"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


async def _scrape(hs: Served) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = await hs.get("/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_presses_escalations_and_failures_move_the_metrics(hs: Served) -> None:
    await community(hs)
    ballot = await publish(hs, "更换电梯 期限=30m")
    before = await _scrape(hs)
    assert _value(before, "yishi_ballots_cast_total", channel="button", change="new") == 0
    presses = [(RESIDENT, "同意"), (NEIGHBOUR, "同意"), (RESIDENT, "反对"), (RESIDENT, "反对")]
    for user, option in presses:  # the last one repeats a choice: no ballot is cast
        answer = await hs.press(BUILDING_CHAT, ballot.message_id, user, option)
        assert option in answer["text"], answer
    # Telegram fails a reply twice with 502, then asks the bot to slow down once.
    hs.emu.fail_next("sendMessage", 502, "Bad Gateway", count=2)
    await hs.say(BUILDING_CHAT, RESIDENT, "/topics")
    hs.emu.fail_next("sendMessage", 429, retry_after=1)
    await hs.say(BUILDING_CHAT, RESIDENT, "/topics")
    await hs.settle()

    after = await _scrape(hs)
    assert _value(after, "yishi_ballots_cast_total", channel="button", change="new") == 2
    assert _value(after, "yishi_ballots_cast_total", channel="button", change="changed") == 1
    for name in ("yishi_updates_received_total", "yishi_updates_handled_total"):
        moved = _value(after, name, type="callback_query") - _value(
            before, name, type="callback_query"
        )
        assert moved == 4, name
        assert _value(after, name, type="message") > _value(before, name, type="message")
    presses_timed = _value(
        after, "yishi_handler_duration_seconds_count", type="callback_query"
    ) - _value(before, "yishi_handler_duration_seconds_count", type="callback_query")
    assert presses_timed == 4
    assert _value(after, "yishi_telegram_retries_total", method="sendMessage", cause="5xx") == 2
    assert _value(after, "yishi_telegram_too_many_requests_total", method="sendMessage") == 1
    assert _value(after, "yishi_lease_held") == 1
    assert _value(after, "yishi_ready") == 1
    assert _value(after, "yishi_database_up") == 1
    assert _value(after, "yishi_outbox_backlog") == 0
    assert _value(after, "yishi_due_work_pending") == 0

    # The tie goes up to the grid at the deadline: one escalation open there, none overdue.
    await hs.pass_time(timedelta(minutes=31))
    escalated = await _scrape(hs)
    assert _value(escalated, "yishi_escalations_open", level="grid") == 1
    assert _value(escalated, "yishi_escalations_overdue", level="grid") == 0
    # Past the grid's three days, with the due work not run: overdue, and the lag shows it.
    hs.clock.advance(timedelta(days=3, hours=1))
    late = await _scrape(hs)
    assert _value(late, "yishi_escalations_overdue", level="grid") == 1
    assert _value(late, "yishi_due_work_pending") >= 1
    assert _value(late, "yishi_due_work_lag_seconds") >= 3600
    assert _value(late, "yishi_ready") == 0
    assert _value(late, "yishi_ready_check", check="due_work") == 0
    await hs.services.timers.run_due()


def _queried_metrics(dashboard: dict) -> set[str]:
    names: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            names |= set(re.findall(r"\byishi_[a-z_]+", target["expr"]))
    return names


async def test_every_metric_the_dashboard_queries_is_exposed(hs: Served) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    status, body = await hs.get("/metrics")
    assert status == 200
    exposed = {
        family.name + suffix
        for family in text_string_to_metric_families(body)
        for suffix in SUFFIXES.get(family.type, ("",))
    }
    queried = _queried_metrics(dashboard)
    assert queried - exposed == set(), (
        f"the dashboard queries what /metrics lacks: {queried - exposed}"
    )
    # Every metric the issue names has a panel.
    for needed in (
        "yishi_updates_received_total",
        "yishi_updates_handled_total",
        "yishi_handler_duration_seconds_bucket",
        "yishi_ballots_cast_total",
        "yishi_outbox_backlog",
        "yishi_outbox_oldest_age_seconds",
        "yishi_telegram_retries_total",
        "yishi_telegram_too_many_requests_total",
        "yishi_due_work_lag_seconds",
        "yishi_escalations_open",
        "yishi_escalations_overdue",
        "yishi_lease_holder",
    ):
        assert needed in queried, needed
