"""/export's files, from records built by hand: CSV for Excel, the vote record (light Markdown)."""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.reports.export import (
    ExportLabels,
    OpinionRow,
    TopicRecord,
    ballot_rows,
    render_csv,
    render_markdown,
)
from locales import Translator
from storage.records import Ballot, Topic

ZONE = ZoneInfo("Asia/Shanghai")
CREATED = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
TRANSLATOR = Translator()
VOTER_ID, NEIGHBOUR_ID, OFFICER_ID = 987654321, 876543219, 765432198
NAMES = {VOTER_ID: "钱阿姨", NEIGHBOUR_ID: "孙大爷", OFFICER_ID: "赵楼长"}
UNITS = {41: ("2-502", Decimal("89.50")), 42: ("3-101", Decimal("70.25"))}


def labels(locale: str = "zh_CN") -> ExportLabels:
    return ExportLabels(t=functools.partial(TRANSLATOR.plain, locale), zone=ZONE, locale=locale)


def make_topic(**changes: Any) -> Topic:
    topic = Topic(
        id=12,
        node_id=3,
        title="加装电梯",
        description="第一行说明\n第二行 | 有竖线",
        options=("同意", "反对", "弃权"),
        rule="278",
        category=None,
        quorum_percent=None,
        secret=False,
        household=True,
        hide_results=False,
        scope="here",
        status="closed",
        deadline=CREATED + timedelta(hours=2),
        created_by=OFFICER_ID,
        created_at=CREATED,
        closed_at=CREATED + timedelta(hours=2),
        outcome={
            "verdict": "unresolved",
            "reason": "no_quorum",
            "winner": None,
            "cast": 2,
            "eligible": 4,
            "counts": [1, 1, 0],
            "turnout": [1, 2],
            "area_participation": [1, 2],
            "household_participation": [1, 2],
            "area_agree": [358, 639],
            "household_agree": [1, 2],
            "total_area": "319.50",
            "unknown_area": 0,
            "opinions": [1, 1],
        },
        ballot_salt=None,
        last_nudge_at=None,
    )
    return replace(topic, **changes)


def ballots(topic: Topic) -> list[Ballot]:
    """A button ballot of 2-502 (agree) and a door-to-door one of 3-101 (against)."""
    household = not topic.secret
    return [
        Ballot(
            topic_id=topic.id,
            voter_key="h:41",
            option=0,
            user_id=VOTER_ID,
            household_id=41 if household else None,
            area=Decimal("89.50"),
            node_id=3,
            channel="button",
            recorded_by=None,
            updated_at=CREATED + timedelta(minutes=10),
        ),
        Ballot(
            topic_id=topic.id,
            voter_key="h:42",
            option=1,
            user_id=None,
            household_id=42 if household else None,
            area=Decimal("70.25"),
            node_id=3,
            channel="visit",
            recorded_by=OFFICER_ID,
            updated_at=CREATED + timedelta(minutes=20),
        ),
    ]


def record(topic: Topic, *, private: bool = False, hidden: bool = False) -> TopicRecord:
    cast = ballots(topic)
    return TopicRecord(
        topic=topic,
        path=("幸福社区", "第一网格", "1号楼"),
        level="building",
        category=None,
        creator=NAMES[OFFICER_ID],
        ballots=ballot_rows(topic, cast, names=NAMES, units=UNITS, hidden=hidden),
        counts=None if hidden else (1, 1, 0),
        cast=2,
        eligible=4,
        channels={"button": 1, "visit": 1},
        outcome=topic.outcome,
        public_opinions=(
            OpinionRow(author=NAMES[NEIGHBOUR_ID], at=CREATED, text="=HYPERLINK(1) 我支持"),
        ),
        private_count=1,
        private_opinions=("电梯噪音怎么办",) if private else (),
        exported_at=CREATED + timedelta(hours=3),
    )


def parse_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_csv_opens_in_excel_and_lists_every_ballot_then_the_summary() -> None:
    data = render_csv(record(make_topic()), labels())
    assert data.startswith(b"\xef\xbb\xbf")
    table = parse_csv(data)
    assert table[0] == ["投票人", "户号", "面积（㎡）", "选项", "方式", "登记人", "时间"]
    assert table[1] == ["钱阿姨", "2-502", "89.5", "同意", "按钮", "", "2026-12-01 09:10:00"]
    assert table[2] == ["", "3-101", "70.25", "反对", "上门", "赵楼长", "2026-12-01 09:20:00"]
    assert table[3] == []  # the blank line before the summary
    summary = {row[0]: row[1] for row in table[4:] if len(row) == 2}
    assert summary["同意"] == "1" and summary["反对"] == "1" and summary["弃权"] == "0"
    assert summary["已投 / 应投"] == "2 / 4"
    assert summary["结果"] == "未决（未达法定人数）"
    assert summary["原因"] == "未达法定人数"
    assert summary["参与面积占总面积"] == "50.0%"
    assert summary["参与户数占总户数"] == "50.0%"
    assert summary["同意户数占参与户数"] == "50.0%"
    assert summary["总面积（㎡）"] == "319.5"
    assert summary["上门票数"] == "1"
    opinion = next(row for row in table if row and row[0] == "孙大爷")
    # A formula from a resident stays text in a spreadsheet.
    assert opinion == ["孙大爷", "2026-12-01 09:00:00", "'=HYPERLINK(1) 我支持"]
    assert "电梯噪音怎么办" not in data.decode("utf-8-sig")


def test_private_opinions_are_text_only_and_only_when_carried() -> None:
    data = render_csv(record(make_topic(), private=True), labels())
    table = parse_csv(data)
    heading = table.index(["私下意见（仅管理员可见，不含作者）"])
    assert table[heading + 1 :] == [["内容"], ["电梯噪音怎么办"]]
    minutes = render_markdown(record(make_topic(), private=True), labels())
    assert "- 电梯噪音怎么办" in minutes


def test_a_secret_ballot_names_nobody_in_either_file() -> None:
    topic = make_topic(secret=True)
    rows = ballot_rows(topic, ballots(topic), names=NAMES, units=UNITS, hidden=False)
    assert all(row.voter is None and row.unit is None and row.at is None for row in rows)
    secret = record(topic)
    table = parse_csv(render_csv(secret, labels()))
    assert table[0] == ["投票人", "选项", "方式", "登记人", "时间"]
    assert table[1:3] == [["匿名", "同意", "", "", ""], ["匿名", "反对", "", "", ""]]
    for text in (
        render_csv(secret, labels()).decode("utf-8-sig"),
        render_markdown(secret, labels()),
    ):
        for forbidden in ("钱阿姨", "2-502", "3-101", "89.5", "70.25", "09:10", "09:20"):
            assert forbidden not in text, forbidden
        for user_id in (VOTER_ID, OFFICER_ID):
            assert str(user_id) not in text
    assert "无记名投票" in render_markdown(secret, labels())


def test_secret_rows_are_sorted_by_option_not_by_time() -> None:
    topic = make_topic(secret=True)
    late_agree = replace(ballots(topic)[0], updated_at=CREATED + timedelta(hours=1))
    rows = ballot_rows(topic, [ballots(topic)[1], late_agree], names={}, units={}, hidden=False)
    assert [row.option for row in rows] == [0, 1]


def test_the_minutes_have_the_facts_the_tally_table_and_the_opinions() -> None:
    minutes = render_markdown(record(make_topic()), labels())
    assert minutes.startswith("# 表决记录：#12 加装电梯\n")
    assert "- **所属**：幸福社区 › 第一网格 › 1号楼（楼栋）" in minutes
    assert "- **规则**：《民法典》第二百七十八条（一般事项）" in minutes
    assert "- **截止时间**：2026-12-01 11:00" in minutes
    assert "- **结束时间**：2026-12-01 11:00" in minutes
    assert "| 选项 | 票数 | 占比 |" in minutes
    assert "| 同意 | 1 | 50.0% |" in minutes
    assert "| 弃权 | 0 | 0.0% |" in minutes
    assert "- **已投 / 应投**：2 / 4" in minutes
    assert "- **结果**：未决（未达法定人数）" in minutes
    assert "| 上门 | 1 |" in minutes
    assert "公开意见 1 条，私下意见 1 条。" in minutes
    assert "孙大爷（2026-12-01 09:00）" in minutes
    # People's text cannot break the table or the layout.
    assert "> 第二行 \\| 有竖线" in minutes
    assert "| 钱阿姨 | 2-502 | 89.5 | 同意 | 按钮 |" in minutes


def test_an_open_topic_is_marked_interim_and_a_hidden_tally_stays_hidden() -> None:
    topic = make_topic(status="open", closed_at=None, outcome=None, hide_results=True)
    hidden = record(topic, hidden=True)
    minutes = render_markdown(hidden, labels())
    assert "中期记录" in minutes and "- **结束时间**：尚未结束" in minutes
    assert "| 同意 | 截止后公布 | — |" in minutes
    assert "- **中期结果（如果现在结束）**：截止后公布" in minutes
    table = parse_csv(render_csv(hidden, labels()))
    assert {row[3] for row in table[1:3]} == {"截止后公布"}
    assert ["同意", "1"] not in table


def test_the_files_speak_english_too() -> None:
    data = render_csv(record(make_topic()), labels("en"))
    table = parse_csv(data)
    assert table[0] == [
        "Voter",
        "Household",
        "Area (m²)",
        "Option",
        "Channel",
        "Recorded by",
        "Time",
    ]
    assert table[2][4] == "door-to-door"
    minutes = render_markdown(record(make_topic()), labels("en"))
    assert minutes.startswith("# Vote record: #12 加装电梯\n")
    assert "- **Outcome**: unresolved (no quorum)" in minutes
    assert "| Option | Ballots | Share |" in minutes
