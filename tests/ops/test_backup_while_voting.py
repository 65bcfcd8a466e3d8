"""`yishi db backup` while residents press buttons, then `yishi db restore` into a new
database: every press the bot had acknowledged before the backup began is in it."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from sqlalchemy import func, select

from storage.backup.facts import code_head
from storage.database import Database
from storage.tables import ballots, instance_lease
from tests.auxil.harness import Harness
from tests.auxil.topics import publish, topic_id
from tests.auxil.world import BUILDING_CHAT, community
from tests.ops.conftest import another_database, yishi

OPTIONS = ("同意", "反对", "弃权")
PRESSERS = 4  # residents pressing at the same time, each pressing again once answered


class Residents:
    """Residents who press a ballot's buttons one after another, each a new voter."""

    def __init__(self, h: Harness, message_id: int) -> None:
        self.h = h
        self.message_id = message_id
        self.voters = itertools.count(1000)
        self.chose: dict[int, int] = {}  # voter -> option pressed
        self.acknowledged: dict[int, int] = {}  # voter -> option, once answered "已记录"

    async def press_once(self) -> None:
        voter = next(self.voters)
        self.h.user(voter, f"居民{voter}")
        self.h.emu.add_member(BUILDING_CHAT, voter)
        option = voter % len(OPTIONS)
        self.chose[voter] = option
        query = self.h.emu.press_button(BUILDING_CHAT, self.message_id, voter, OPTIONS[option])
        answer = await self.h.emu.wait_for_answer(query, timeout=60)
        assert answer["text"] == f"已记录：{OPTIONS[option]}", answer
        self.acknowledged[voter] = option

    async def press_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.press_once()


async def restored_ballots(url: str, topic: int) -> dict[int, int]:
    database = Database(url)
    try:
        async with database.connection() as connection:
            rows = await connection.execute(
                select(ballots.c.user_id, ballots.c.option).where(ballots.c.topic_id == topic)
            )
            return {row.user_id: row.option for row in rows}
    finally:
        await database.close()


async def count_rows(url: str, table: object) -> int:
    database = Database(url)
    try:
        async with database.connection() as connection:
            query = select(func.count()).select_from(table)  # type: ignore[arg-type]
            return int((await connection.execute(query)).scalar_one())
    finally:
        await database.close()


async def test_a_backup_taken_while_residents_vote_restores_every_acknowledged_ballot(
    bot: Harness, tmp_path: Path
) -> None:
    h = bot
    await community(h)
    ballot = await publish(h, "加装电梯")
    secret = await publish(h, "更换物业 匿名=yes")
    residents = Residents(h, ballot.message_id)
    await residents.press_once()  # the voting is under way before the backup begins
    stop = asyncio.Event()
    pressing = [asyncio.create_task(residents.press_until(stop)) for _ in range(PRESSERS)]
    backup_file = tmp_path / "yishi.backup"

    acknowledged_before = dict(residents.acknowledged)
    made = await yishi("db", "backup", str(backup_file), database_url=h.database_url, cwd=tmp_path)
    acknowledged_during = len(residents.acknowledged) - len(acknowledged_before)
    stop.set()
    await asyncio.gather(*pressing)
    for _ in range(3):  # and the voting goes on after the backup
        await residents.press_once()
    await h.settle()

    assert made.status == 0, made.err
    assert f"schema revision {code_head()}" in made.out
    # The backup names the open secret ballot whose salt it holds, and says what to do.
    assert f"#{topic_id(secret)}" in made.out
    assert "salts of 1 open secret ballot" in made.out
    assert f"#{topic_id(ballot)}" not in made.out
    assert acknowledged_during > 0  # presses were answered while the backup ran

    # The running bot's own database is not restored into, --force or not.
    refused = await yishi(
        "db", "restore", str(backup_file), "--force", database_url=h.database_url, cwd=tmp_path
    )
    assert refused.status == 1
    assert "A Yishi instance is running on" in refused.err
    assert "stop it before restoring" in refused.err

    async with another_database(h.database_url, tmp_path) as target:
        restored = await yishi("db", "restore", str(backup_file), database_url=target, cwd=tmp_path)
        assert restored.status == 0, restored.err
        assert f"Schema revision {code_head()}." in restored.out
        in_backup = await restored_ballots(target, topic_id(ballot))
        # No bot runs on the copy: a bot started on it does not wait for a lease.
        assert await count_rows(target, instance_lease) == 0

    live = await restored_ballots(h.database_url, topic_id(ballot))
    assert live == residents.chose  # the bot itself counted every press
    # Every press acknowledged before the backup began is in it, as pressed...
    assert acknowledged_before.items() <= in_backup.items()
    # ...it holds only real presses, as pressed, and it is one moment: the presses
    # answered after the backup finished are not in it.
    assert in_backup.items() <= live.items()
    assert len(in_backup) < len(live)
