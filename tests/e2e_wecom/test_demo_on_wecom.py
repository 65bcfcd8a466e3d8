"""`yishi demo --channel wecom` plays its script on the WeCom emulator and exits 0, printing
what each group sees: the vote card and its tally, the outcome, a tie's escalation card taken
on and decided, the rating card, and the consultation day's reminder card answered."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.demo.wecom import run_wecom_demo


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "zh",
            [
                "🗂 #1 东门加装电动车充电桩",
                "同意：2 · 反对：1",
                "(card updated)",
                "通过",
                "参与：3 人（不知道群里共有多少人，不计参与率）",
                "未决（平票）",
                "状态：🛠 已受理（ZhangWei）",
                "@议事 /resolve 2 决定内容",
                "已记录你的评价：满意",
                "🗂 ⏰ 会议提醒 #1 协商议事日",
                "回复：参加 1 · 请假 1",
            ],
        ),
        (
            "en",
            [
                "E-bike chargers",
                "Agree: 2 · Against: 1",
                "(card updated)",
                "passed",
                "unresolved (tie)",
                "Status: 🛠 taken on (ZhangWei)",
                "Your rating is recorded: Satisfied",
                "Replies: attending 1 · can't come 1",
            ],
        ),
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
