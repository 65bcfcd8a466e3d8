"""UtcDateTime: the moment stored is the moment read back, in UTC, on both databases, and on
SQLite the stored text is exactly what SQLAlchemy's DATETIME writes (rows written before its
one-step processor, and by 0.1.0, compare and sort with the new ones)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime, select
from sqlalchemy.dialects import sqlite

from storage.database import Database
from storage.tables import UtcDateTime, timers

SHANGHAI = timezone(timedelta(hours=8))
MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(9998, 12, 30),
    timezones=st.sampled_from([UTC, SHANGHAI, timezone(timedelta(hours=-5, minutes=-30))]),
)


@given(MOMENTS)
def test_the_text_on_sqlite_is_sqlalchemys_own(moment: datetime) -> None:
    dialect = sqlite.dialect()
    ours = UtcDateTime().bind_processor(dialect)
    theirs = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None and theirs is not None
    assert ours(moment) == theirs(moment.astimezone(UTC).replace(tzinfo=None))


def test_a_naive_datetime_is_refused_on_sqlite() -> None:
    process = UtcDateTime().bind_processor(sqlite.dialect())
    assert process is not None and process(None) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        process(datetime(2026, 12, 6, 10, 0))


async def test_a_moment_comes_back_as_the_same_instant_in_utc(database: Database) -> None:
    moment = datetime(2026, 12, 6, 18, 30, 15, 123456, tzinfo=SHANGHAI)
    async with database.transaction() as repos:
        await repos.timers.schedule("test.utc", "1", moment)
        found = await repos.connection.execute(
            select(timers.c.due_at).where(timers.c.kind == "test.utc")
        )
        due = found.scalar_one()
        earlier = await repos.connection.execute(
            select(timers.c.ref).where(timers.c.due_at < moment + timedelta(microseconds=1))
        )
    assert due == moment and due.tzinfo is UTC
    assert earlier.scalars().all() == ["1"]
