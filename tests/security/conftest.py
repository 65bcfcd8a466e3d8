from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.auxil.harness import Harness
from tests.e2e.conftest import running

# `h`: the running bot and its emulated Telegram, as in tests/e2e (the test fails if the bot
# logged an error).


@pytest.fixture
async def h(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    async with running(tmp_path, caplog) as harness:
        yield harness
