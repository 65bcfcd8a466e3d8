"""`yishi db downgrade`: back where a migration can go back, refused with the reason where it
cannot (storage/downgrade.py), on a database the bot has really used."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from storage.backup.facts import code_head, script_directory
from storage.downgrade import RULES
from storage.tables import ballots
from tests.auxil.harness import Harness
from tests.auxil.meetings import schedule
from tests.auxil.topics import publish, topic_id
from tests.auxil.world import BUILDING_CHAT, NEIGHBOUR, RESIDENT, community
from tests.ops.conftest import yishi
from tests.ops.test_restore_refusals import migrated, revision, set_revision


def test_every_migration_says_whether_it_can_go_back() -> None:
    revisions = {script.revision for script in script_directory().walk_revisions()}
    assert set(RULES) == revisions


async def test_downgrade_goes_back_where_nothing_is_lost_and_says_why_not_further(
    bot: Harness, tmp_path: Path
) -> None:
    h = bot
    url = h.database_url
    await community(h)
    ballot = await publish(h, "楼道加装声控灯")
    assert (await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意"))[
        "text"
    ] == "已记录：同意"
    await schedule(h, "2026-12-15 19:00 楼道议事会")

    running = await yishi("db", "downgrade", database_url=url, cwd=tmp_path)
    assert running.status == 1
    assert "A Yishi instance is running on" in running.err
    assert "stop it before downgrading" in running.err
    assert await revision(url) == code_head()

    await h.stop_bot()
    one_step = await yishi("db", "downgrade", database_url=url, cwd=tmp_path)
    assert one_step.status == 0, one_step.err
    before_head = script_directory().get_revision(code_head()).down_revision
    assert one_step.out == f"Downgraded from revision {code_head()} to {before_head}.\n"
    further = await yishi("db", "downgrade", "0004", database_url=url, cwd=tmp_path)
    assert further.status == 0, further.err
    assert await revision(url) == "0004"

    refused = await yishi("db", "downgrade", "base", database_url=url, cwd=tmp_path)
    assert refused.status == 1
    assert "from 0004 to base" in refused.err
    assert "0004 cannot go back now: 1 meetings (with their agenda, RSVPs and minutes)" in (
        refused.err
    )
    assert "0002 cannot go back: it drops topics, ballots and opinions" in refused.err
    assert "0001 cannot go back" in refused.err
    assert "Nothing was changed" in refused.err
    assert await revision(url) == "0004"
    wrong = await yishi("db", "downgrade", "0009", database_url=url, cwd=tmp_path)
    assert "that is an upgrade (`yishi db upgrade`)" in wrong.err
    unknown = await yishi("db", "downgrade", "0042", database_url=url, cwd=tmp_path)
    assert "There is no revision 0042" in unknown.err

    # Upgraded again, the bot runs on what it had: the ballot is there and counts on.
    assert (await yishi("db", "upgrade", database_url=url, cwd=tmp_path)).status == 0
    await h.start_bot()
    again = await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    assert again["text"] == "你已选择：同意"
    neighbour = await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    assert neighbour["text"] == "已记录：反对"
    async with h.services.database.transaction() as repos:
        counted = select(func.count()).select_from(ballots)
        counted = counted.where(ballots.c.topic_id == topic_id(ballot))
        assert (await repos.connection.execute(counted)).scalar_one() == 2


async def test_a_schema_from_a_newer_yishi_is_left_to_that_release(
    empty_url: str, tmp_path: Path
) -> None:
    await migrated(empty_url)
    await set_revision(empty_url, "0999")
    refused = await yishi("db", "downgrade", database_url=empty_url, cwd=tmp_path)
    assert refused.status == 1
    assert "is at revision 0999, which this Yishi does not know" in refused.err
    assert "Downgrade it with that release's `yishi db downgrade`" in refused.err
    assert await revision(empty_url) == "0999"
