"""Both catalogues say the same things with the same placeholders."""

from __future__ import annotations

import pytest

from bot.commands.menu import MENU as COMMANDS
from locales import Html, Translator, load_catalogue, placeholders


def test_zh_and_en_have_the_same_keys_and_placeholders() -> None:
    zh, en = load_catalogue("zh_CN"), load_catalogue("en")
    assert sorted(zh) == sorted(en)
    mismatched = [key for key in zh if placeholders(zh[key]) != placeholders(en[key])]
    assert mismatched == []


def test_every_command_has_a_menu_text_within_telegram_limits() -> None:
    for locale in ("zh_CN", "en"):
        catalogue = load_catalogue(locale)
        for spec in COMMANDS:
            description = catalogue[f"commands.{spec.name}"]
            assert 3 <= len(description) <= 256


def test_parameters_are_escaped_but_markup_is_kept() -> None:
    translate = Translator()
    text = translate("en", "roles.list_line", user="<b>&x", role=Html("<i>head</i>"))
    assert text == "• &lt;b&gt;&amp;x: <i>head</i>"


@pytest.mark.parametrize("locale", ["zh_CN", "en", None, "fr"])
def test_unknown_locales_fall_back_to_the_default(locale: str | None) -> None:
    translate = Translator("zh_CN")
    assert translate(locale, "levels.grid") in ("网格", "grid")
    assert translate("fr", "levels.grid") == "网格"


def test_dates_and_numbers_follow_the_locale() -> None:
    from datetime import UTC, datetime
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    moment = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    zone = ZoneInfo("Asia/Shanghai")
    assert Translator.datetime("zh_CN", moment, zone) == "2026-12-01 18:00"
    assert Translator.number("en", Decimal("1234.50")) == "1,234.5"
