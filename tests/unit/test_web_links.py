"""The one place that writes the pages' links, the Mini App's start parameter read back, and
YISHI_TELEGRAM_MINIAPP as @BotFather names a Mini App."""

from __future__ import annotations

import pytest

from bot.services.web_links import Page, WebLinks, page_of_start, start_param
from bot.settings import SettingsError, load_settings


def test_links_under_the_public_url_and_none_while_the_web_is_off() -> None:
    on = WebLinks.of(load_settings(YISHI_PUBLIC_URL="https://yishi.example.org/", _env_file=None))
    assert on.on and on.topic(12) == "https://yishi.example.org/t/12"
    assert on.meeting(3) == "https://yishi.example.org/m/3"
    assert on.me() == "https://yishi.example.org/me"
    off = WebLinks.of(load_settings(_env_file=None))
    assert not off.on and off.topic(12) is None and off.meeting(3) is None and off.me() is None


def test_a_start_parameter_names_its_page_and_nothing_else() -> None:
    assert start_param(Page.TOPIC, 12) == "t12" and start_param(Page.MEETING, 3) == "m3"
    assert page_of_start("t12") == "/t/12" and page_of_start("m3") == "/m/3"
    for other in (
        None,
        "",
        "12",
        "t",
        "t0",
        "t012",
        "x12",
        "t12x",
        "t-1",
        "T12",
        "t" + "9" * 10,
        "t1\n",
    ):
        assert page_of_start(other) is None, other


def test_the_mini_app_short_name() -> None:
    assert load_settings(YISHI_TELEGRAM_MINIAPP=" yishi_app ", _env_file=None).telegram_miniapp == (
        "yishi_app"
    )
    assert load_settings(YISHI_TELEGRAM_MINIAPP="", _env_file=None).telegram_miniapp is None
    for bad in ("ab", "yi-shi", "https://t.me/bot/yishi", "x" * 31):
        with pytest.raises(SettingsError, match="YISHI_TELEGRAM_MINIAPP"):
            load_settings(YISHI_TELEGRAM_MINIAPP=bad, _env_file=None)
