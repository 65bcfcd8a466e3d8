from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.auxil.harness import Harness
from tests.conftest import fresh_postgres_database

# `h` is the running bot and its emulated Telegram; tests read as h.say(chat, user, text).


def _no_handler_errors(caplog: pytest.LogCaptureFixture) -> None:
    failures = [
        record.getMessage()
        for record in caplog.get_records("call")
        if record.levelno >= logging.ERROR
    ]
    assert failures == [], f"the bot logged errors: {failures}"


@pytest.fixture
async def h(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    running = Harness(tmp_path)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
    _no_handler_errors(caplog)


@pytest.fixture
async def h_en(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    running = Harness(tmp_path, locale="en")
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
    _no_handler_errors(caplog)


@pytest.fixture
async def h_pg(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    """The bot on PostgreSQL instead of SQLite."""
    async with fresh_postgres_database() as url:
        running = Harness(tmp_path, database_url=url)
        await running.start()
        try:
            yield running
        finally:
            await running.stop()
    _no_handler_errors(caplog)
