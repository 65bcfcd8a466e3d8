"""Which units a sheet of household invitations is for (all, units, ranges), read from any
input without a crash; the sheet's pages and QR codes, with and without a CJK font."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from bot.services.errors import Refusal
from bot.services.invitations import printing
from bot.services.invitations.printing import SheetEntry, SheetWords, qr_png, sheet_pdf, sheet_pngs
from bot.services.invitations.service import code_of_link, join_link, new_code
from bot.services.invitations.units import MAX_SHEET_UNITS, choose_units


def test_units_and_ranges_in_the_order_given_each_once() -> None:
    chosen = choose_units("2-501~2-503，3-101、２－５０２ 1-0901..1-0902")
    assert chosen.units == ("2-501", "2-502", "2-503", "3-101", "1-0901", "1-0902")
    assert choose_units("全部").everyone and choose_units("ALL").everyone


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "invitations.no_units"),
        ("2-510~2-501", "invitations.bad_range"),
        ("2-501~3-504", "invitations.bad_range"),
        ("2-101~2-199", "invitations.range_too_long"),
        ("楼下", "registration.bad_unit"),
        ("all 2-502", "registration.bad_unit"),
        (
            " ".join(f"1-{room}" for room in range(1, MAX_SHEET_UNITS + 2)),
            "invitations.too_many_units",
        ),
    ],
)
def test_what_is_not_a_list_of_units_is_refused_with_the_reason(text: str, key: str) -> None:
    with pytest.raises(Refusal) as refused:
        choose_units(text)
    assert refused.value.key == key


@given(st.text(max_size=200))
def test_any_input_is_units_or_a_refusal(text: str) -> None:
    try:
        chosen = choose_units(text)
    except Refusal:
        return
    assert chosen.everyone or 1 <= len(chosen.units) <= MAX_SHEET_UNITS


def test_a_code_is_read_from_its_link_or_alone() -> None:
    code = new_code()
    assert re.fullmatch(r"[a-z2-9]{20}", code)
    assert code_of_link(join_link("https://y.example/", code)) == code
    assert code_of_link(f" {code} ") == code


def test_a_qr_code_reads_back_as_its_link() -> None:
    link = join_link("https://yishi.example.org", new_code())
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(link))))
    assert [barcode.text for barcode in found] == [link]


def test_without_a_cjk_font_the_sheet_falls_back_to_english_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(printing, "cjk_font", lambda: None)
    entries = [SheetEntry(f"1-10{room}", f"https://y.example/join/code{room}") for room in range(3)]
    words = SheetWords(building="1号楼", instruction="扫码参与本楼议事")
    assert sheet_pdf(entries, words).startswith(b"%PDF")
    (page,) = sheet_pngs(entries, words)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(page)))
    assert sorted(barcode.text for barcode in found) == [entry.link for entry in entries]
