"""The web's sign-in rows on both databases: a code is used once even when brought twice at
once, says why it no longer works, and sessions end when they expire or are revoked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage.database import Database
from storage.repositories.web_sessions import CodeState

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
USER = 5


async def a_person(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.users.seen(
            user_id=USER,
            first_name="钱阿姨",
            last_name=None,
            username=None,
            language_code="zh-hans",
            now=NOW,
        )


async def test_a_code_is_used_once_even_when_brought_twice_at_once(database: Database) -> None:
    await a_person(database)
    async with database.transaction() as repos:
        await repos.web_sessions.add_code("hash-1", USER, NOW, NOW + timedelta(minutes=10))
        await repos.web_sessions.add_code("hash-2", USER, NOW, NOW + timedelta(minutes=10))

    async def bring() -> CodeState:
        async with database.transaction() as repos:
            return (await repos.web_sessions.take_code("hash-1", NOW)).state

    states = await asyncio.gather(bring(), bring())
    assert sorted(state.value for state in states) == ["taken", "used"]
    async with database.transaction() as repos:
        late = await repos.web_sessions.take_code("hash-2", NOW + timedelta(minutes=10))
        unknown = await repos.web_sessions.take_code("hash-3", NOW)
        good = await repos.web_sessions.take_code("hash-2", NOW + timedelta(minutes=9))
    assert (late.state, unknown.state) == (CodeState.EXPIRED, CodeState.UNKNOWN)
    assert (good.state, good.user_id) == (CodeState.TAKEN, USER)


async def test_a_session_lives_until_it_expires_or_is_revoked(database: Database) -> None:
    await a_person(database)
    async with database.transaction() as repos:
        await repos.web_sessions.add_session("s-1", USER, NOW, NOW + timedelta(days=30))
        await repos.web_sessions.add_session("s-2", USER, NOW, NOW + timedelta(days=30))
        live = await repos.web_sessions.live_session("s-1", NOW + timedelta(days=29))
        assert live is not None and live.user_id == USER
        assert await repos.web_sessions.live_session("s-1", NOW + timedelta(days=30)) is None
        assert await repos.web_sessions.live_session("nobody", NOW) is None
        assert await repos.web_sessions.revoke("s-1", NOW)
        assert not await repos.web_sessions.revoke("s-1", NOW)  # once
        assert await repos.web_sessions.live_session("s-1", NOW) is None
        assert await repos.web_sessions.revoke_user(USER, NOW) == 1  # s-2, what was left
        assert await repos.web_sessions.live_session("s-2", NOW) is None
