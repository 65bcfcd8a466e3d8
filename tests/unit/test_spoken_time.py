"""Chinese as officers type it: generated tables of spoken dates, times and durations, each
compared with its canonical value, and impossible values refused rather than misread.

The Chinese numerals in these tables are written out by hand (not produced by the library the
parser uses), so the tables are an independent statement of what each phrase means.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.errors import Refusal
from bot.services.meetings.recurrence import Recurrence
from bot.services.meetings.syntax import parse_meeting
from bot.services.syntax.spoken_time import Problem, SpokenTimeError, read_spoken
from bot.services.topics.syntax import parse_topic
from storage.records import Repeat

TODAY = date(2026, 12, 1)  # a Tuesday
ZONE = ZoneInfo("Asia/Shanghai")

# How each number may be written: ASCII digits, full-width digits, Chinese numerals.
WRITTEN = {
    1: ("1", "１", "一"),
    2: ("2", "２", "二", "两"),
    3: ("3", "三"),
    5: ("5", "五"),
    7: ("7", "７", "七"),
    9: ("9", "九"),
    10: ("10", "十"),
    11: ("11", "十一"),
    12: ("12", "十二"),
    15: ("15", "１５", "十五"),
    19: ("19", "十九"),
    20: ("20", "二十"),
    21: ("21", "二十一"),
}


def clocks() -> list[tuple[str, time]]:
    """(a time of day as people write it, the time it means)."""
    found: list[tuple[str, time]] = []
    minutes = [
        (0, ("", "整", "00分", "零零")),
        (30, ("半", "30分", "三十分", "30", "三十")),
        (15, ("一刻", "15分", "十五分")),
        (45, ("三刻", "45分")),
        (5, ("零五", "05", "5分", "零五分")),
    ]
    # (part of day, hour as said, hour meant)
    periods = [
        ("晚上", 7, 19),
        ("晚", 7, 19),
        ("下午", 3, 15),
        ("下午", 5, 17),
        ("上午", 9, 9),
        ("早上", 7, 7),
        ("中午", 12, 12),
        ("", 19, 19),
        ("", 9, 9),
        ("晚上", 21, 21),
        ("下午", 15, 15),
    ]
    for (period, said, hour), (minute, minute_forms) in itertools.product(periods, minutes):
        numerals = WRITTEN.get(said, (str(said),))
        for numeral, separator, minute_form in itertools.product(
            numerals, ("点", "时"), minute_forms
        ):
            if separator == "时" and minute_form in ("半", "一刻", "三刻", "整"):
                continue  # 7时半 is not how people write it; 点 carries these
            found.append((f"{period}{numeral}{separator}{minute_form}", time(hour, minute)))
        if numerals[0].isdigit() and said == hour:
            for colon in (":", "："):
                found.append((f"{period}{said}{colon}{minute:02d}", time(hour, minute)))
    return found


# (a day as people write it, the day it means for TODAY)
ONE_OFF_DAYS = [
    ("明天", date(2026, 12, 2)),
    ("明日", date(2026, 12, 2)),
    ("后天", date(2026, 12, 3)),
    ("下周三", date(2026, 12, 9)),
    ("下星期三", date(2026, 12, 9)),
    ("下个礼拜三", date(2026, 12, 9)),
    ("这周五", date(2026, 12, 4)),
    ("本周日", date(2026, 12, 6)),
    ("12月15日", date(2026, 12, 15)),
    ("12月15号", date(2026, 12, 15)),
    ("十二月十五日", date(2026, 12, 15)),
    ("１２月１５日", date(2026, 12, 15)),
    ("2026年12月15日", date(2026, 12, 15)),
    ("二〇二六年十二月十五日", date(2026, 12, 15)),
    ("1月5日", date(2027, 1, 5)),  # already past this year: the next one
]
SERIES_DAYS = [
    ("每月十五号", Recurrence(Repeat.MONTHLY_DAY, time(0), day=15)),
    ("每月15日", Recurrence(Repeat.MONTHLY_DAY, time(0), day=15)),
    ("每个月15号", Recurrence(Repeat.MONTHLY_DAY, time(0), day=15)),
    ("每周五", Recurrence(Repeat.WEEKLY, time(0), day=4)),
    ("每星期五", Recurrence(Repeat.WEEKLY, time(0), day=4)),
    ("每礼拜五", Recurrence(Repeat.WEEKLY, time(0), day=4)),
    ("每月第一个周三", Recurrence(Repeat.MONTHLY_NTH, time(0), day=2, nth=1)),
    ("每月第1个星期三", Recurrence(Repeat.MONTHLY_NTH, time(0), day=2, nth=1)),
    ("每月最后一个周五", Recurrence(Repeat.MONTHLY_NTH, time(0), day=4, nth=-1)),
]


def _at(recurrence: Recurrence, at: time) -> Recurrence:
    return Recurrence(recurrence.repeat, at, recurrence.day, recurrence.nth, recurrence.once)


def spoken_table() -> list[tuple[str, Recurrence]]:
    days = [(text, Recurrence(Repeat.ONCE, time(0), once=day)) for text, day in ONE_OFF_DAYS]
    days += SERIES_DAYS
    table = []
    all_clocks = clocks()
    for index, (day_text, day) in enumerate(days):
        # Every day with a spread of the clocks (all of them would be tens of thousands).
        for step, (clock_text, at) in enumerate(all_clocks[index % 7 :: 7]):
            space = ("", " ", "　")[step % 3]  # none, a space, an ideographic space
            table.append((f"{day_text}{space}{clock_text}", _at(day, at)))
    return table


TABLE = spoken_table()


def test_the_spoken_table_is_large_and_every_phrase_means_its_canonical_value() -> None:
    assert len(TABLE) >= 500
    wrong = [(text, read_spoken(text, TODAY), want) for text, want in TABLE]
    wrong = [row for row in wrong if row[1] != row[2]]
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("明天晚上7点", Recurrence(Repeat.ONCE, time(19), once=date(2026, 12, 2))),
        ("下周三 19:00", Recurrence(Repeat.ONCE, time(19), once=date(2026, 12, 9))),
        ("12月15日下午3点", Recurrence(Repeat.ONCE, time(15), once=date(2026, 12, 15))),
        ("每月十五号晚上七点", Recurrence(Repeat.MONTHLY_DAY, time(19), day=15)),
        ("每周五晚7点半", Recurrence(Repeat.WEEKLY, time(19, 30), day=4)),
        ("每月第一个周三晚上7点", Recurrence(Repeat.MONTHLY_NTH, time(19), day=2, nth=1)),
        ("晚上七点一刻", Recurrence(Repeat.ONCE, time(19, 15), once=TODAY)),
    ],
)
def test_the_phrases_of_the_issue(text: str, want: Recurrence) -> None:
    assert read_spoken(text, TODAY) == want


@pytest.mark.parametrize(
    ("text", "problem", "given_part"),
    [
        ("三十二点", Problem.TIME, "三十二点"),
        ("明天三十二点", Problem.TIME, "三十二点"),
        ("明天晚上25点", Problem.TIME, "晚上25点"),
        ("晚上25点", Problem.TIME, "晚上25点"),
        ("明天7点60分", Problem.TIME, "7点60分"),
        ("明天24:00", Problem.TIME, "24:00"),
        ("明天晚上12点", Problem.TIME, "晚上12点"),  # midnight: 凌晨0点, said plainly
        ("明天晚上3点", Problem.TIME, "晚上3点"),  # small hours are 凌晨
        ("明天上午15点", Problem.TIME, "上午15点"),
        ("13月5日 19:00", Problem.DATE, "13月5日"),
        ("2月30日下午3点", Problem.DATE, "2月30日"),
        ("2027年2月29日 19:00", Problem.DATE, "2027年2月29日"),
        ("下周八 19:00", Problem.WEEKDAY, "八"),
        ("每周十 19:00", Problem.WEEKDAY, "十"),
        ("每月三十二号 19:00", Problem.MONTH_DAY, "三十二号"),
        ("每月0日 19:00", Problem.MONTH_DAY, "0日"),
        ("每月第五个周三 19:00", Problem.NTH, "每月第五个周三"),
        ("明天", Problem.MISSING_TIME, "明天"),
        ("12月15日", Problem.MISSING_TIME, "12月15日"),
        ("13月5日", Problem.DATE, "13月5日"),  # the impossible day is named first
    ],
)
def test_impossible_values_are_refused_and_named(
    text: str, problem: Problem, given_part: str
) -> None:
    with pytest.raises(SpokenTimeError) as caught:
        read_spoken(text, TODAY)
    assert caught.value.problem is problem and caught.value.given == given_part


@pytest.mark.parametrize(
    "text", ["", "开会", "明天开会", "7", "下午", "七点钟声", "19:00pm", "每月中旬 19:00", "3d"]
)
def test_what_is_no_spoken_time_at_all_is_left_to_the_caller(text: str) -> None:
    assert read_spoken(text, TODAY) is None


@given(
    st.text(
        alphabet="明天后下周这本一二三四五六七八九十两零日号月年点时分半刻整晚上午:0123456789 ",
        max_size=14,
    )
)
def test_any_mix_of_the_words_parses_is_refused_or_is_left_alone(text: str) -> None:
    try:
        found = read_spoken(text, TODAY)
    except SpokenTimeError:
        return
    if found is not None and found.once is not None:
        assert found.once >= TODAY and found.once - TODAY <= timedelta(days=366 * 8)


@given(st.sampled_from(TABLE), st.sampled_from(["", " ", "  "]))
def test_space_around_a_phrase_changes_nothing(row: tuple[str, Recurrence], pad: str) -> None:
    text, want = row
    assert read_spoken(f"{pad}{text}{pad}", TODAY) == want


# ---- weeks start on Monday; relative days follow the local date ---------------------------


@pytest.mark.parametrize(
    ("today", "text", "day"),
    [
        (date(2026, 12, 6), "下周三", date(2026, 12, 9)),  # Sunday: next week begins tomorrow
        (date(2026, 12, 7), "下周三", date(2026, 12, 16)),  # Monday
        (date(2026, 12, 9), "下周三", date(2026, 12, 16)),  # Wednesday itself
        (date(2026, 12, 6), "本周三", date(2026, 12, 2)),  # past: the caller refuses it
        (date(2026, 12, 6), "这周日", date(2026, 12, 6)),
        (date(2026, 12, 6), "下下周一", date(2026, 12, 14)),
        (date(2026, 12, 9), "周三", date(2026, 12, 9)),  # a bare weekday: nearest from today
        (date(2026, 12, 10), "周三", date(2026, 12, 16)),
        (date(2026, 12, 28), "下周五", date(2027, 1, 8)),  # across the year
        (date(2026, 12, 31), "明天", date(2027, 1, 1)),
        (date(2026, 12, 31), "1月1日", date(2027, 1, 1)),
    ],
)
def test_relative_days_around_week_boundaries(today: date, text: str, day: date) -> None:
    assert read_spoken(f"{text} 19:00", today) == Recurrence(Repeat.ONCE, time(19), once=day)


def test_the_local_date_decides_what_next_week_is() -> None:
    # Sunday 17:00 UTC is already Monday 01:00 in Shanghai: 下周三 is a week later than in UTC.
    now = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    draft = parse_topic("题 期限=下周三 19:00", now=now, zone=ZONE, catalogue=None)
    assert draft.deadline == datetime(2026, 12, 16, 19, 0, tzinfo=ZONE)
    meeting = parse_meeting("下周三 19:00 会", now=now, zone=ZONE, locale="zh_CN")
    assert meeting.recurrence.once == date(2026, 12, 16)


# ---- the same phrases through /topic and /meeting ------------------------------------------

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai


@pytest.mark.parametrize(("text", "want"), TABLE[::23])
def test_meeting_reads_the_table(text: str, want: Recurrence) -> None:
    if want.once is not None and datetime.combine(want.once, want.at, ZONE) <= NOW:
        pytest.skip("a past moment")
    draft = parse_meeting(f"{text} 议事会", now=NOW, zone=ZONE, locale="zh_CN")
    assert draft.recurrence == want and draft.title == "议事会"


@pytest.mark.parametrize(
    ("typed", "deadline"),
    [(text, want) for text, want in TABLE[::17] if want.once is not None],
)
def test_topic_deadlines_read_the_table(typed: str, deadline: Recurrence) -> None:
    assert deadline.once is not None
    draft = parse_topic(f"题 期限={typed}", now=NOW, zone=ZONE, catalogue=None)
    assert draft.deadline == datetime.combine(deadline.once, deadline.at, ZONE)


def test_a_title_is_never_read_as_the_time() -> None:
    draft = parse_meeting("明天 晚上7点 30 人的会", now=NOW, zone=ZONE, locale="zh_CN")
    assert draft.recurrence.at == time(19) and draft.title == "30 人的会"
    draft = parse_meeting("每周五 19:30 7点前到场", now=NOW, zone=ZONE, locale="zh_CN")
    assert draft.recurrence.at == time(19, 30) and draft.title == "7点前到场"


def test_a_topic_deadline_in_the_past_is_refused_not_moved() -> None:
    with pytest.raises(Refusal) as caught:
        parse_topic("题 期限=本周一 19:00", now=NOW, zone=ZONE, catalogue=None)
    assert caught.value.key == "topic_syntax.deadline_past"


# ---- generated: any hour and minute, any way of writing them ----------------------------------

ZH_DIGITS = "零一二三四五六七八九"


def zh(number: int) -> str:
    """0-99 in Chinese numerals, written out here as the test's own oracle."""
    tens, ones = divmod(number, 10)
    if tens == 0:
        return ZH_DIGITS[ones]
    return ("" if tens == 1 else ZH_DIGITS[tens]) + "十" + (ZH_DIGITS[ones] if ones else "")


def written(number: int, style: str) -> str:
    if style == "zh":
        return zh(number)
    digits = str(number)
    return (
        digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        if style == "wide"
        else digits
    )


@st.composite
def said_times(draw: st.DrawFn) -> tuple[str, time]:
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    ways = [("", hour)]
    if 13 <= hour <= 23:
        ways.append(("下午", hour - 12))
    if 17 <= hour <= 23:
        ways += [("晚上", hour - 12), ("晚", hour - 12)]
    if hour <= 12:
        ways += [("上午", hour), ("早上", hour)]
    period, said = draw(st.sampled_from(ways))
    style = draw(st.sampled_from(["ascii", "wide", "zh"]))
    minute_words = [f"{written(minute, style)}分"]
    if minute >= 10 or style != "zh":
        minute_words.append(written(minute, style) if minute >= 10 else f"0{minute}")
    if style == "zh" and 0 < minute < 10:
        minute_words.append(f"零{zh(minute)}")
    minute_words += {0: ["整", ""], 15: ["一刻"], 30: ["半"], 45: ["三刻"]}.get(minute, [])
    minute_word = draw(st.sampled_from(minute_words))
    clock = f"{period}{written(said, style)}{draw(st.sampled_from(['点', '点钟']))}{minute_word}"
    if minute_word in ("半", "一刻", "三刻", "整") or clock.endswith("点钟"):
        clock = clock.replace("点钟", "点")  # 7点钟半 is not said
    return clock, time(hour, minute)


@given(said_times(), st.sampled_from(["明天", "下周三 ", "12月15日", "每周五", "每月十五号"]))
def test_any_time_of_day_said_any_way_means_that_time(said: tuple[str, time], day: str) -> None:
    clock, at = said
    found = read_spoken(day + clock, TODAY)
    assert found is not None and found.at == at, (day + clock, found)


NEGATIVES = (
    [
        (f"明天{period}{hour}点", Problem.TIME)
        for period in ("", "下午", "晚上")
        for hour in range(24, 41)
    ]
    + [(f"明天{zh(hour)}点", Problem.TIME) for hour in range(24, 60)]
    + [(f"明天7点{minute}分", Problem.TIME) for minute in range(60, 100)]
    + [(f"明天晚上{hour}点", Problem.TIME) for hour in (0, 1, 2, 3, 4, 12)]
    + [(f"明天上午{hour}点", Problem.TIME) for hour in range(13, 24)]
    + [(f"{month}月5日 19:00", Problem.DATE) for month in range(13, 30)]
    + [(f"{zh(month)}月五日 19:00", Problem.DATE) for month in range(13, 30)]
    + [(f"2月{day}日 19:00", Problem.DATE) for day in range(30, 40)]
    + [(f"下周{day} 19:00", Problem.WEEKDAY) for day in ("八", "九", "十", "0", "8", "9")]
    + [(f"每月{zh(day)}号 19:00", Problem.MONTH_DAY) for day in range(32, 60)]
    + [(f"每月{day}日 19:00", Problem.MONTH_DAY) for day in range(32, 60)]
    + [(f"每月第{zh(nth)}个周三 19:00", Problem.NTH) for nth in range(5, 10)]
)


def test_impossible_values_of_every_kind_are_refused_never_misread() -> None:
    assert len(NEGATIVES) >= 250
    misread = []
    for text, problem in NEGATIVES:
        try:
            found = read_spoken(text, TODAY)
        except SpokenTimeError as error:
            if error.problem is not problem:
                misread.append((text, error.problem))
            continue
        misread.append((text, found))
    assert misread == []
