"""The digest as staff read it: golden files per locale, splitting, the CSV, the chart."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.catalogue import load_catalogue
from bot.services.announcement_texts import MAX_LISTED
from bot.services.reports.digest import Digest, DigestItem, GridParticipation, WeeklySeries
from bot.services.reports.digest_chart import ChartLabels, cjk_font, covers, render_chart
from channels.telegram.reports.digest_render import TELEGRAM_LIMIT, DigestRenderer, split_blocks
from locales import Translator
from storage.records import Node

GOLDEN = Path(__file__).parent.parent / "golden"
UNTIL = datetime(2026, 12, 8, 0, 30, tzinfo=UTC)  # 08:30 in Asia/Shanghai
COMMUNITY = Node(1, "community", "幸福社区", None, True, UNTIL - timedelta(days=90))


def item(number: int, **changes: object) -> DigestItem:
    values: dict[str, object] = {
        "topic_id": number,
        "title": f"议题{number}",
        "from_name": "1号楼",
        "to_name": "第一网格",
        "reason": "tie",
        "state": "open",
        "created_at": UNTIL - timedelta(hours=number),
        "sla_due_at": UNTIL + timedelta(days=2),
        "overdue": False,
        "category": "public_affairs",
    }
    values.update(changes)
    return DigestItem(**values)  # type: ignore[arg-type]


def sample() -> Digest:
    return Digest(
        community=COMMUNITY,
        since=UNTIL - timedelta(days=1),
        until=UNTIL,
        new=[item(12), item(13, reason="manual")],
        open=[
            item(
                7,
                overdue=True,
                state="accepted",
                to_name="幸福社区",
                reason="sla_expired",
                created_at=UNTIL - timedelta(days=5),
                sla_due_at=UNTIL - timedelta(days=1),
            ),
            item(12),
            item(13, reason="manual"),
        ],
        resolved=[
            item(
                3,
                state="resolved",
                decision="在西门设置快递柜",
                ratings={"satisfied": 4, "basically": 1, "unsatisfied": 1},
            )
        ],
        participation=[
            GridParticipation("第一网格", cast=15, eligible=24, topics=3),
            GridParticipation("第二网格", cast=0, eligible=0, topics=0),
        ],
        categories=[("public_affairs", 4), ("urgent_needs", 1)],
    )


@pytest.fixture
def renderer() -> DigestRenderer:
    return DigestRenderer(Translator(), load_catalogue(), ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_digest_matches_its_golden_file(renderer: DigestRenderer, locale: str) -> None:
    rendered = renderer.render(locale, sample())
    text = "\n----\n".join(rendered.messages) + "\n"
    golden = GOLDEN / f"digest.{locale}.txt"
    if os.environ.get("YISHI_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    assert rendered.csv is None


def test_blocks_are_never_split_and_messages_stay_under_the_limit() -> None:
    blocks = [f"• #{n} " + "长" * 400 for n in range(30)]
    messages = split_blocks(blocks)
    assert len(messages) > 1
    assert all(len(message) <= TELEGRAM_LIMIT for message in messages)
    assert "\n".join(messages) == "\n".join(blocks)
    exact = split_blocks(["a" * 2048, "b" * 2047])
    assert exact == ["a" * 2048 + "\n" + "b" * 2047]  # exactly 4096: one message
    assert len(split_blocks(["a" * 2048, "b" * 2048])) == 2


def test_past_50_items_the_full_list_is_attached(renderer: DigestRenderer) -> None:
    many = [item(n) for n in range(1, 80)]
    digest = Digest(COMMUNITY, UNTIL - timedelta(days=1), UNTIL, many, many, [], [], [])
    rendered = renderer.render("zh_CN", digest)
    listed = sum(message.count("• #") for message in rendered.messages)
    assert listed == MAX_LISTED
    assert "共 158 项" in rendered.messages[-1]
    assert all(len(message) <= TELEGRAM_LIMIT for message in rendered.messages)
    assert rendered.csv is not None and rendered.csv.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(rendered.csv.decode("utf-8-sig"))))
    assert len(rows) == 1 + 158 and rows[1][1] == "#1"


def test_the_weekly_chart_renders_chinese_labels_with_a_cjk_font() -> None:
    weeks = [UNTIL - timedelta(weeks=8 - n) for n in range(8)]
    series = WeeklySeries(
        weeks=weeks,
        grids=["第一网格", "第二网格"],
        opened={"第一网格": [1, 0, 2, 1, 0, 3, 1, 2], "第二网格": [0] * 8},
        resolved={"第一网格": [0, 1, 1, 1, 0, 2, 1, 1], "第二网格": [0] * 8},
        turnout={"第一网格": [0.5, None, 0.6, 0.7, None, 0.4, 0.55, 0.62], "第二网格": [None] * 8},
    )
    labels = ChartLabels("近 8 周各网格上报与参与率", "上报", "解决", "参与率")
    chart = render_chart(series, labels)
    assert chart.png.startswith(b"\x89PNG\r\n\x1a\n") and len(chart.png) > 10_000
    font = cjk_font()
    if font is None:
        pytest.skip("no CJK font here (apt-get install fonts-noto-cjk); labels fell back")
    assert chart.font == font[0]
    assert "第一网格" in chart.labels and "参与率" in chart.labels
    assert covers(font[1], "".join(chart.labels))


def test_a_cjk_font_installed_after_matplotlib_listed_the_fonts_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # matplotlib lists the system's fonts once and keeps the list (~/.cache/matplotlib): an
    # operator who installs fonts-noto-cjk after Yishi first drew a chart has a list without it.
    from bot.services.reports import digest_chart

    _, font_manager, _ = digest_chart._matplotlib()
    files = [Path(path).name for path in font_manager.findSystemFonts()]
    if not any(hint in name for name in files for hint in ("CJK", "wqy", "SourceHan")):
        pytest.skip("no CJK font here (apt-get install fonts-noto-cjk)")
    installed = cjk_font()  # found, whatever matplotlib's kept list holds on this machine
    assert installed is not None
    cjk_files = {
        entry.fname
        for entry in font_manager.fontManager.ttflist
        if any(hint in entry.name for hint in digest_chart._CJK_HINTS)
    }
    listed_before = [
        entry for entry in font_manager.fontManager.ttflist if entry.fname not in cjk_files
    ]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", listed_before)
    cjk_font.cache_clear()
    try:
        assert cjk_font() == installed
    finally:
        cjk_font.cache_clear()
