"""Durations as officers type them: a generated table of numerals, units and halves, each
compared with its canonical value, and what is not a duration refused."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.durations import DurationError, format_duration, parse_duration

# How each count may be written: ASCII digits, full-width digits, Chinese numerals.
WRITTEN = {
    1: ("1", "１", "一"),
    2: ("2", "２", "二", "两"),
    3: ("3", "三"),
    7: ("7", "７", "七"),
    10: ("10", "十"),
    12: ("12", "十二"),
    15: ("15", "１５", "十五"),
    20: ("20", "二十"),
    24: ("24", "二十四"),
}


UNITS = {
    timedelta(days=1): ("天", "日", "d"),
    timedelta(hours=1): ("小时", "个小时", "钟头", "个钟头", "h"),
    timedelta(minutes=1): ("分钟", "m", "min"),
    timedelta(weeks=1): ("周", "星期", "个星期", "w"),
}


def duration_table() -> list[tuple[str, timedelta]]:
    table = []
    for (count, forms), (unit, names) in itertools.product(WRITTEN.items(), UNITS.items()):
        for form, name in itertools.product(forms, names):
            if name.isascii() and not form.isascii():
                continue  # 三d is nobody's way of writing
            table.append((f"{form}{name}", count * unit))
            if not name.isascii():
                # "1天半", "一个半小时" (the 个 belongs before the 半)
                table.append((f"{form}{name}半", count * unit + unit / 2))
                if not name.startswith("个"):
                    table.append((f"{form}个半{name}", count * unit + unit / 2))
    for name in ("小时", "个小时", "天", "钟头", "个钟头"):
        unit = next(u for u, names in UNITS.items() if name in names)
        table.append((f"半{name}", unit / 2))
    return table


DURATIONS = duration_table()


def test_the_duration_table_is_large_and_every_phrase_means_its_canonical_value() -> None:
    assert len(DURATIONS) >= 300
    wrong = [(text, parse_duration(text), want) for text, want in DURATIONS]
    assert [row for row in wrong if row[1] != row[2]] == []


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("三天", timedelta(days=3)),
        ("两小时", timedelta(hours=2)),
        ("半小时", timedelta(minutes=30)),
        ("1天半", timedelta(days=1, hours=12)),
        ("一周", timedelta(weeks=1)),
        ("一天两小时", timedelta(days=1, hours=2)),
        ("3d 12h", timedelta(days=3, hours=12)),
    ],
)
def test_the_durations_of_the_issue(text: str, want: timedelta) -> None:
    assert parse_duration(text) == want


@pytest.mark.parametrize(
    "text", ["半", "天", "三", "半天半", "一个半天半", "零天", "半秒", "十十天", "1十天", "两 两天"]
)
def test_what_is_not_a_duration_is_refused(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


@given(st.text(alphabet="零一二两三五十百半个天日小时钟头分周星期0123456789dhm ", max_size=12))
def test_any_mix_of_the_words_is_a_duration_that_reads_back_or_is_refused(text: str) -> None:
    try:
        value = parse_duration(text)
    except DurationError:
        return
    assert timedelta() < value <= timedelta(days=3650)
    assert parse_duration(format_duration(value)) == value
