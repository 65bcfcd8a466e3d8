"""A review of the Chinese catalogue's words (issue 13, item 6): what a resident or a community
worker reads must be in their words — no role codes, no doubled characters by mistake
(请请), no "Markdown", no 节点 (say 楼栋、网格、社区), and examples in the Chinese forms.
"""

from __future__ import annotations

import re

import pytest

from locales import load_catalogue
from storage.records import RoleName

ZH = load_catalogue("zh_CN")

# Reduplications that are words (谢谢); any other character written twice in a row is a slip.
# A pair that straddles two words (处理决定) reads as a slip too, so it is reworded instead.
WORD_REDUPLICATIONS = frozenset({"谢谢"})
DOUBLED = re.compile(r"([\u3400-\u9fff])\1")  # a CJK ideograph written twice

# Next to Chinese text too (授予building_head): \b would not see a boundary there.
ROLE_CODE = re.compile(r"(?<![A-Za-z_])(?:" + "|".join(RoleName) + r")(?![A-Za-z_])")


def _keys_with_role_codes() -> set[str]:
    return {key for key, text in ZH.items() if ROLE_CODE.search(text)}


def test_no_text_names_a_role_code_at_all() -> None:
    assert _keys_with_role_codes() == set()


def test_no_character_is_doubled_by_mistake() -> None:
    slips = {
        key: match.group(0)
        for key, text in ZH.items()
        for match in DOUBLED.finditer(text)
        if match.group(0) not in WORD_REDUPLICATIONS
    }
    assert slips == {}


def test_the_review_catches_what_it_is_for() -> None:
    """The checks above would see the slips this issue found (they are not vacuous)."""
    assert DOUBLED.search("请请上级群重新生成")
    assert not DOUBLED.search("请上级群重新生成")
    assert ROLE_CODE.search("<code>/role building_head</code>") and ROLE_CODE.search(
        "授予building_head"
    )


@pytest.mark.parametrize("word", ["Markdown", "节点", "官员", "已再上报"])
def test_no_text_uses_a_word_residents_do_not(word: str) -> None:
    assert [key for key, text in ZH.items() if word.lower() in text.lower()] == []


def test_examples_write_durations_the_chinese_way() -> None:
    """`期限=3天`, not `3d`: an ASCII duration appears in no Chinese example."""
    ascii_duration = re.compile(r"(?<![\w.])\d+(?:[smhdw]|min)(?![\w])")
    assert {
        key: ascii_duration.findall(text) for key, text in ZH.items() if ascii_duration.search(text)
    } == {}
