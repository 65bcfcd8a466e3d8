"""`yishi demo --channel wecom` plays its script on the WeCom emulator and exits 0, printing
the vote card and its tally as the group sees them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.demo.wecom import run_wecom_demo


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", ["🗂 #1 东门加装电动车充电桩", "同意：2 · 反对：1", "(card updated)", "通过"]),
        ("en", ["E-bike chargers", "Agree: 2 · Against: 1", "(card updated)", "passed"]),
    ],
)
async def test_the_wecom_demo_runs_to_the_end(
    tmp_path: Path, lang: str, expected: list[str]
) -> None:
    out = io.StringIO()
    status = await run_wecom_demo(lang=lang, db_path=str(tmp_path / "demo.db"), out=out)
    transcript = out.getvalue()
    assert status == 0, transcript[-2000:]
    for text in expected:
        assert text in transcript, (text, transcript[-3000:])
