"""Secret ballots (匿名=yes): nothing the bot says, exports, audits, logs or keeps pairs a voter
with a choice.

Three residents vote on a secret per-person topic (one changes their vote), a household votes
by button and another is recorded offline on a secret household topic, and one gives a
private opinion. Officers then ask for everything there is — /result (group and private),
/topics, /export, /stats, /audit, /digest and the daily digest — while the topics are open
and after they close. Every line of every message (each version of edited ones), of every
exported file, every audit row and every log line (INFO, DEBUG for the bot's own loggers) is
searched for a voter (name, unit, user link) together with a choice.

Then what the database holds: while a topic is open its salt is there, so an operator with
the database can recompute a voter's key (the documented trade-off that lets people change
their vote); from the close on, nothing links a ballot to a voter: no salt, no user, no
household, no recorder, no area, and no time of its own.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.services.topics.eligibility import secret_key
from tests.auxil.harness import SUPERADMIN, Harness
from tests.auxil.topics import publish, register_household, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    community,
)

LATECOMER = 8
VOTERS = {  # user -> what identifies them in a text
    RESIDENT: ("钱阿姨", "tg://user?id=5", "2-502"),
    NEIGHBOUR: ("孙大爷", "tg://user?id=6", "2-503"),
    LATECOMER: ("吴阿姨", "tg://user?id=8"),
}
CHOICES = ("甲方案", "乙方案", "丙方案", "赞成维修", "反对维修")


def _press(h: Harness, ballot: Any, user: int, option: str) -> Any:
    return h.press(BUILDING_CHAT, ballot.message_id, user, option)


async def _ask_everything(h: Harness, ids: list[int]) -> None:
    """Every command whose output could show a ballot, by those allowed to use it."""
    for topic in ids:
        for chat, user in ((BUILDING_CHAT, RESIDENT), (BUILDING_CHAT, BUILDING_HEAD)):
            await h.say(chat, user, f"/result {topic}")
        await h.say(BUILDING_HEAD, BUILDING_HEAD, f"/result {topic}")
        await h.say(GRID_CHAT, GRID_WORKER, f"/result {topic}")
        for chat, user in ((BUILDING_CHAT, BUILDING_HEAD), (BUILDING_HEAD, BUILDING_HEAD)):
            h.emu.send_message(chat, user, f"/export {topic}")
    await h.say(BUILDING_CHAT, RESIDENT, "/topics")
    await h.say(BUILDING_CHAT, BUILDING_HEAD, "/stats")
    await h.say(GRID_CHAT, GRID_WORKER, "/stats")
    await h.say(STAFF_CHAT, STAFF, "/stats")
    await h.say(STAFF_CHAT, SUPERADMIN, "/audit")
    await h.say(SUPERADMIN, SUPERADMIN, "/audit")
    await h.say(STAFF_CHAT, STAFF, "/digest")
    await h.settle()


async def _vote_and_close(h: Harness) -> tuple[int, int]:
    await community(h)
    h.user(LATECOMER, "吴阿姨")
    h.emu.add_member(BUILDING_CHAT, LATECOMER)
    await h.say(STAFF_CHAT, STAFF, "/subscribe")
    await register_household(h, "2-502", "89.5", user=RESIDENT)
    await register_household(h, "2-503", "76", user=NEIGHBOUR)
    people = await publish(h, "更换物业 匿名=yes 选项=甲方案,乙方案,丙方案")
    homes = await publish(h, "维修基金 匿名=yes 按户=yes 选项=赞成维修,反对维修")
    await _press(h, people, RESIDENT, "甲方案")
    await _press(h, people, NEIGHBOUR, "乙方案")
    await _press(h, people, LATECOMER, "丙方案")
    await _press(h, people, RESIDENT, "丙方案")  # changed: the last choice counts
    await _press(h, homes, RESIDENT, "赞成维修")
    await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/ballot {topic_id(homes)} 2-503 反对维修 方式=纸质")
    await h.say(RESIDENT, RESIDENT, f"/opinion {topic_id(people)} 物业费太高")
    await h.settle()
    return topic_id(people), topic_id(homes)


def _texts(h: Harness) -> dict[str, str]:
    """Everything the bot said, sent or exported, as (where, text)."""
    found: dict[str, str] = {}
    for chat, messages in h.emu.world.messages.items():
        for message in messages.values():
            if not message.from_bot:
                continue
            versions = [message.text, message.caption]
            versions += [v.text for v in message.history] + [v.caption for v in message.history]
            body = "\n".join(v for v in versions if v)
            found[f"message {message.message_id} in {chat}"] = body
    for file in h.emu.world.files.values():
        if file.kind == "document":
            found[f"file {file.filename}"] = file.data.decode("utf-8", errors="replace")
    return found


def _pairings(where: str, text: str) -> list[str]:
    """Lines (or CSV rows) naming a voter next to a choice."""
    leaks = []
    for line in text.splitlines():
        for user, marks in VOTERS.items():
            if any(mark in line for mark in marks) and any(c in line for c in CHOICES):
                leaks.append(f"{where}: voter {user} and a choice in {line[:200]!r}")
    return leaks


async def _sql(h: Harness, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of a query on the bot's own database, SQLite or PostgreSQL."""
    async with h.services.database.transaction() as repos:
        return [tuple(row) for row in await repos.connection.execute(text(statement), params)]


async def _audit_leaks(h: Harness) -> list[str]:
    leaks = []
    for actor, action, details in await _sql(h, "SELECT actor_id, action, details FROM audit_log"):
        found = json.dumps(
            json.loads(details) if isinstance(details, str) else details, ensure_ascii=False
        )
        names_voter = actor in VOTERS or any(
            mark in found for marks in VOTERS.values() for mark in marks
        )
        if names_voter and (any(c in found for c in CHOICES) or re.search(r'"option": \d', found)):
            leaks.append(f"audit {action} by {actor}: {found}")
    return leaks


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    for ours in ("bot", "channels", "emulators", "storage"):
        caplog.set_level(logging.DEBUG, logger=ours)
    return caplog


async def test_no_output_audit_row_or_log_line_pairs_a_voter_with_a_choice(
    both: Harness, logs: pytest.LogCaptureFixture
) -> None:
    h = both
    people, homes = await _vote_and_close(h)
    await _ask_everything(h, [people, homes])
    for topic in (people, homes):
        await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/close {topic}")
    await h.settle()
    await _ask_everything(h, [people, homes])
    await h.pass_time(timedelta(days=1))  # the daily digest

    leaks = [leak for where, text in _texts(h).items() for leak in _pairings(where, text)]
    for record in logs.records:
        line = record.getMessage() + (logs.handler.formatter or logging.Formatter()).format(record)
        leaks += _pairings(f"log {record.name}", line)
        assert not any(mark in line for mark in ("callback_data", "'data': 'v:")), line
    leaks += await _audit_leaks(h)
    assert leaks == []
    # The things searched were there to be found: tallies, exports, the audit, the digest.
    texts = "\n".join(_texts(h).values())
    assert "丙方案：2" in texts and "反对维修：1" in texts
    assert any(
        name.endswith(".csv") for name in (f.filename or "" for f in h.emu.world.files.values())
    )
    offline = "SELECT count(*) FROM audit_log WHERE action = 'ballot.offline'"
    assert await _sql(h, offline) == [(1,)]


async def test_the_database_links_a_voter_only_while_the_topic_is_open(both: Harness) -> None:
    h = both
    people, homes = await _vote_and_close(h)

    async def ballots(topic: int) -> list[tuple[Any, ...]]:
        return await _sql(
            h,
            "SELECT voter_key, option, user_id, household_id, recorded_by, area, updated_at "
            "FROM ballots WHERE topic_id = :topic ORDER BY option",
            topic=topic,
        )

    [(salt,)] = await _sql(h, "SELECT ballot_salt FROM topics WHERE id = :id", id=people)
    keys = {row[0]: row[1] for row in await ballots(people)}
    # Open: the salt is in the database, and with it a voter's key can be recomputed.
    assert keys[secret_key(salt, f"u:{RESIDENT}")] == 2
    assert all(row[2] is None and row[3] is None for row in await ballots(people))
    assert all(row[2] is None and row[3] is None for row in await ballots(homes))

    for topic in (people, homes):
        await h.say(BUILDING_CHAT, BUILDING_HEAD, f"/close {topic}")
    await h.settle()
    closed = dict(await _sql(h, "SELECT id, closed_at FROM topics"))
    assert await _sql(h, "SELECT ballot_salt FROM topics WHERE secret") == [(None,), (None,)]
    for topic in (people, homes):
        for _, _, user, household, recorder, area, at in await ballots(topic):
            assert (user, household, recorder, area) == (None, None, None, None)
            assert at == closed[topic]  # no time of its own to match with anything else
    assert await _sql(h, "SELECT count(*) FROM inbox WHERE payload IS NOT NULL") == [(0,)]
    # The tallies survive the forgetting.
    assert sorted(row[1] for row in await ballots(people)) == [1, 2, 2]
