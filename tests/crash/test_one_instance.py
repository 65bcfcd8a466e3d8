"""(f) A second instance refuses to start instead of fighting over getUpdates."""

from __future__ import annotations

from pathlib import Path

from tests.auxil.harness import SUPERADMIN
from tests.auxil.process import PATIENCE, ProcessHarness
from tests.auxil.world import STAFF_CHAT


async def test_a_second_instance_refuses_to_start_and_the_first_keeps_working(
    ph: ProcessHarness, tmp_path: Path
) -> None:
    ph.user(SUPERADMIN, "王主任")
    await ph.group(STAFF_CHAT, "幸福社区工作群", admins=[SUPERADMIN])  # the first one works
    # On the same database: the lease is held and its heartbeat moves.
    same_database = ph.spawn()
    assert await same_database.wait(timeout=PATIENCE) == 2
    assert "Another Yishi instance is running on this database" in same_database.output()
    # It never polled: no long poll of the first instance was cut short by a 409 Conflict.
    assert [c for c in ph.emu.calls_of("getUpdates") if c.error_code == 409] == []
    # On another database with the same token: Telegram's 409 Conflict shows it.
    other_database = ph.spawn(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    assert await other_database.wait(timeout=PATIENCE) == 2
    assert "Another process is polling Telegram with this bot token" in other_database.output()
    assert ph.process is not None and ph.process.running
    await ph.say(STAFF_CHAT, SUPERADMIN, "/help")  # the first one still answers
    # A clean stop gives the lease up: a new instance starts without waiting for it to expire.
    await ph.stop_bot()
    await ph.start_bot()
    assert "waiting to see whether it is alive" not in ph.process.output()
