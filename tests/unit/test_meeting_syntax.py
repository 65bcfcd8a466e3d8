"""The one-line /meeting syntax: what it accepts, and what each refusal names."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.errors import Refusal
from bot.services.meetings.recurrence import Recurrence
from bot.services.meetings.syntax import DEFAULT_REMINDERS, parse_meeting, parse_when_text
from storage.records import Repeat, Scope

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
ZONE = ZoneInfo("Asia/Shanghai")


def parse(text: str, locale: str = "zh_CN"):  # type: ignore[no-untyped-def]
    return parse_meeting(text, now=NOW, zone=ZONE, locale=locale)


def refused(text: str, locale: str = "zh_CN") -> Refusal:
    with pytest.raises(Refusal) as caught:
        parse(text, locale)
    return caught.value


@pytest.mark.parametrize(
    ("when", "recurrence"),
    [
        ("2026-12-15 19:00", Recurrence(Repeat.ONCE, time(19), once=date(2026, 12, 15))),
        ("2026/12/15 7:30", Recurrence(Repeat.ONCE, time(7, 30), once=date(2026, 12, 15))),
        ("2026年12月15日 19：00", Recurrence(Repeat.ONCE, time(19), once=date(2026, 12, 15))),
        ("每月15日 19:00", Recurrence(Repeat.MONTHLY_DAY, time(19), day=15)),
        ("monthly 15 19:00", Recurrence(Repeat.MONTHLY_DAY, time(19), day=15)),
        ("monthly 31st 19:00", Recurrence(Repeat.MONTHLY_DAY, time(19), day=31)),
        ("每月第一个周三 19:00", Recurrence(Repeat.MONTHLY_NTH, time(19), day=2, nth=1)),
        ("每月最后一个星期五 19:00", Recurrence(Repeat.MONTHLY_NTH, time(19), day=4, nth=-1)),
        ("monthly first-wed 19:00", Recurrence(Repeat.MONTHLY_NTH, time(19), day=2, nth=1)),
        ("monthly last-fri 19:00", Recurrence(Repeat.MONTHLY_NTH, time(19), day=4, nth=-1)),
        ("每周五 19:30", Recurrence(Repeat.WEEKLY, time(19, 30), day=4)),
        ("每星期日 09:00", Recurrence(Repeat.WEEKLY, time(9), day=6)),
        ("weekly fri 19:30", Recurrence(Repeat.WEEKLY, time(19, 30), day=4)),
        ("Weekly Friday 19:30", Recurrence(Repeat.WEEKLY, time(19, 30), day=4)),
    ],
)
def test_when_forms(when: str, recurrence: Recurrence) -> None:
    draft = parse(f"{when} 协商议事日")
    assert draft.recurrence == recurrence and draft.title == "协商议事日"


def test_keys_and_defaults() -> None:
    draft = parse("2026-12-15 19:00 协商议事日 地点=社区活动室 链接=https://meet.example.com/1")
    assert draft.place == "社区活动室" and draft.link == "https://meet.example.com/1"
    assert draft.reminders == DEFAULT_REMINDERS and draft.scope is Scope.HERE
    assert not draft.holiday_shift and draft.topic_ids == ()
    draft = parse(
        '每月15日 19:00 协商 议事日 place="Hall 2" remind=1h,2d,1h topics=#12,15 '
        "scope=all holiday=shift\n请带上意见"
    )
    assert draft.title == "协商 议事日" and draft.place == "Hall 2" and draft.note == "请带上意见"
    assert draft.reminders == (timedelta(days=2), timedelta(hours=1))
    assert draft.topic_ids == (12, 15) and draft.scope is Scope.ALL and draft.holiday_shift
    assert parse("每周五 19:30 周会 提醒=无").reminders == ()


@pytest.mark.parametrize(
    ("text", "key", "params"),
    [
        ("2026-11-30 19:00 会", "in_the_past", {"given": "2026-11-30 19:00"}),
        ("2026-12-01 08:59 会", "in_the_past", {"given": "2026-12-01 08:59"}),
        ("2028-01-01 19:00 会", "too_far", {"given": "2028-01-01 19:00", "limit_days": 366}),
        ("2027-02-30 19:00 会", "bad_date", {"given": "2027-02-30"}),
        ("2026-12-15 25:00 会", "bad_time", {"given": "25:00"}),
        ("2026-12-15 19:60 会", "bad_time", {"given": "19:60"}),
        ("monthly 15 7:00pm 会", "bad_time", {"given": "7:00pm"}),
        ("2026-12-15 会", "missing_time", {"given": "2026-12-15"}),
        ("每周八 19:00 会", "unknown_weekday", {"given": "八"}),
        ("weekly funday 19:00 x", "unknown_weekday", {"given": "funday"}),
        ("每月32日 19:00 会", "bad_month_day", {"given": "32日"}),
        ("每月中旬 19:00 会", "bad_monthly", {"given": "中旬"}),
        ("后年 19:00 会", "bad_when", {"given": "后年"}),
        ("明天 会", "missing_time", {"given": "明天"}),
        ("下周八 19:00 会", "unknown_weekday", {"given": "八"}),
        ("每月三十二号晚上七点 会", "bad_month_day", {"given": "三十二号"}),
        ("13月5日 19:00 会", "bad_date", {"given": "13月5日"}),
        ("明天晚上25点 会", "bad_time", {"given": "晚上25点"}),
        ("明天 三十二点 会", "bad_time", {"given": "三十二点"}),
        ("每月第五个周三 19:00 会", "bad_monthly", {"given": "每月第五个周三"}),
        ("", "missing_when", {}),
        ("2026-12-15 19:00", "empty_title", {}),
        ("2026-12-15 19:00 会 链接=ftp://x.org", "bad_link", {"key_name": "链接"}),
        ("2026-12-15 19:00 会 link=https://", "bad_link", {"key_name": "link"}),
        ("2026-12-15 19:00 会 提醒=30s", "reminder_too_short", {"key_name": "提醒"}),
        ("2026-12-15 19:00 会 提醒=40d", "reminder_too_long", {"key_name": "提醒"}),
        ("2026-12-15 19:00 会 提醒=1h,2h,3h,4h,5h,6h", "too_many_reminders", {"count": 6}),
        ("2026-12-15 19:00 会 议题=abc", "bad_topics", {"given": "abc"}),
        ("2026-12-15 19:00 会 范围=楼上", "bad_scope", {"given": "楼上"}),
        ("2026-12-15 19:00 会 节假日顺延=也许", "bad_holiday", {"given": "也许"}),
        ("2026-12-15 19:00 会 颜色=红", "unknown_key", {"key_name": "颜色"}),
        ("2026-12-15 19:00 会 地点=A 地点=B", "duplicate_key", {"key_name": "地点"}),
        ("2026-12-15 19:00 会 地点=A 楼下", "stray_word", {"given": "楼下"}),
        ('2026-12-15 19:00 会 地点="A', "unterminated_quote", {"key_name": "地点"}),
        ("2026-12-15 19:00 会 地点=", "empty_value", {"key_name": "地点"}),
    ],
)
def test_bad_input_names_what_is_wrong(text: str, key: str, params: dict[str, object]) -> None:
    refusal = refused(text)
    assert refusal.key == f"meeting_syntax.{key}"
    assert params.items() <= refusal.params.items()


def test_the_guided_mode_reads_a_when_on_its_own() -> None:
    assert parse_when_text("每周五 19:30", now=NOW, zone=ZONE, locale="zh_CN") == Recurrence(
        Repeat.WEEKLY, time(19, 30), day=4
    )
    for text in ("每周五 19:30 周会", "地点=A", "", "2026-11-01 19:00"):
        with pytest.raises(Refusal):
            parse_when_text(text, now=NOW, zone=ZONE, locale="zh_CN")
