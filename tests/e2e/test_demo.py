"""`yishi demo`, the README's first command, plays its whole script and exits 0."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.demo import run_demo, web_pages
from bot.demo.web_pages import ResidentPages, screenshots


def suffixes(folder: Path) -> set[str]:
    return {path.suffix for path in folder.iterdir()}


def names(folder: Path, pattern: str = "*") -> set[str]:
    return {path.name for path in folder.glob(pattern)}


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "zh",
            ["结果：通过", "/bind ", "钱阿姨 ▸ [同意]", "⬆️ 上报", "吴阿姨 ▸ [满意]", "📊 幸福社区"],
        ),
        ("en", ["Outcome: passed", "Mrs Qian", "Escalated #", "Mrs Wu ▸ [Satisfied]", "digest"]),
    ],
)
async def test_the_demo_runs_to_the_end(tmp_path: Path, lang: str, expected: list[str]) -> None:
    out = io.StringIO()
    status = await run_demo(lang=lang, db_path=str(tmp_path / "demo.db"), out=out)
    transcript = out.getvalue()
    assert status == 0, transcript[-2000:]
    for text in expected:
        assert text in transcript, text
    assert (tmp_path / "demo.db").exists()
    folder = re.search(r"Output folder: (\S+)", transcript)
    assert folder is not None
    assert suffixes(Path(folder.group(1))) == {".png", ".csv", ".txt"}
    # The resident's pages: their links, and (with Chromium) a screenshot of each.
    assert re.search(r"http://127\.0\.0\.1:\d+/t/1\n", transcript)
    assert re.search(r"http://127\.0\.0\.1:\d+/m/\d+\n", transcript)
    assert re.search(r"http://127\.0\.0\.1:\d+/join/[a-z0-9]{20}\n", transcript)
    if web_pages.HAVE_CHROMIUM:
        shots = names(Path(folder.group(1)), "web-*.png")
        assert shots == {"web-topic.png", "web-meeting.png", "web-me.png", "web-join.png"}


async def test_without_chromium_the_demo_says_so_and_takes_no_screenshots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_pages, "HAVE_CHROMIUM", False)
    out = io.StringIO()
    found = ResidentPages("http://127.0.0.1:1", "x", {"me": "/me"}, "/join/x")
    assert await screenshots(found, tmp_path, out) == []
    assert "/usr/bin/chromium is missing" in out.getvalue()
    assert names(tmp_path) == set()
