"""Durations, units, areas, names and callback data: every input either parses or is refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.durations import DurationError, format_duration, parse_duration
from bot.services.errors import Refusal
from bot.services.organisation.node_names import MAX_NAME_LENGTH, clean_name
from bot.services.registration.service import parse_area, parse_unit
from channels.telegram.callbacks import MAX_CALLBACK_BYTES, RegistrationVerdict


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("3天", timedelta(days=3)),
        ("2小时", timedelta(hours=2)),
        (" 90 m ", timedelta(minutes=90)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0m", "3", "d3", "3x", "-3d", "3d-", "1.5h", "99999999d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


@given(st.text(max_size=30))
def test_parse_duration_only_raises_duration_error(text: str) -> None:
    try:
        value = parse_duration(text)
    except DurationError:
        return
    assert value > timedelta()
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    ("text", "unit"),
    [("2-502", "2-502"), ("２－５０２", "2-502"), ("a-1201", "A-1201"), ("12—3", "12-3")],
)
def test_units(text: str, unit: str) -> None:
    assert parse_unit(text) == unit


@pytest.mark.parametrize("text", ["502", "2-", "-502", "2-502-1", "二-五", "2 502", "12345-1"])
def test_bad_units(text: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_unit(text)
    assert refused.value.key == "registration.bad_unit"


@pytest.mark.parametrize(
    ("text", "area"),
    [("89.5", Decimal("89.50")), ("89.5㎡", Decimal("89.50")), ("120平", Decimal("120.00"))],
)
def test_areas(text: str, area: Decimal) -> None:
    assert parse_area(text) == area


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("0", "registration.area_out_of_range"),
        ("-1", "registration.area_out_of_range"),
        ("10000.01", "registration.area_out_of_range"),
        ("Infinity", "registration.area_out_of_range"),
        ("abc", "registration.bad_area"),
    ],
)
def test_bad_areas(text: str, key: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_area(text)
    assert refused.value.key == key


@given(st.text(max_size=80))
def test_clean_name_accepts_or_refuses(text: str) -> None:
    try:
        name = clean_name(text)
    except Refusal as refusal:
        assert refusal.key.startswith("orgs.name_")
        return
    assert 1 <= len(name) <= MAX_NAME_LENGTH
    assert name == name.strip()


def test_callback_codec_round_trips_and_rejects_garbage() -> None:
    verdict = RegistrationVerdict(registration_id=42, approve=True)
    assert verdict.encode() == "rg:42:1"
    assert RegistrationVerdict.decode("rg:42:1") == verdict
    for garbage in [None, "", "rg", "rg:42", "rg:x:1", "rg:42:2", "xx:42:1", "rg:42:1:9"]:
        assert RegistrationVerdict.decode(garbage) is None


@given(st.text(max_size=100))
def test_callback_decode_never_raises(data: str) -> None:
    decoded = RegistrationVerdict.decode(data)
    if decoded is not None:
        assert len(decoded.encode().encode()) <= MAX_CALLBACK_BYTES
