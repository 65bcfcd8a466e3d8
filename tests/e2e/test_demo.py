"""`yishi demo`, the README's first command, plays its whole script and exits 0."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.demo import run_demo


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh", ["结果：通过", "/bind ", "钱阿姨 ▸ [同意]"]), ("en", ["Outcome: passed", "Mrs Qian"])],
)
async def test_the_demo_runs_to_the_end(tmp_path: Path, lang: str, expected: list[str]) -> None:
    out = io.StringIO()
    status = await run_demo(lang=lang, db_path=str(tmp_path / "demo.db"), out=out)
    transcript = out.getvalue()
    assert status == 0, transcript[-2000:]
    for text in expected:
        assert text in transcript
    assert (tmp_path / "demo.db").exists()
