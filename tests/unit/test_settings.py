"""Configuration: every variable, validated, with errors that name it."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_BASE_URL",
        "DATABASE_URL",
        "YISHI_ADMIN_IDS",
        "YISHI_TIMEZONE",
        "YISHI_LOCALE",
        "YISHI_DIGEST_TIME",
        "YISHI_ESCALATION_SLA",
        "YISHI_CATALOG",
        "YISHI_PUBLIC_URL",
        "YISHI_WEB_LISTEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_match_the_product_table() -> None:
    settings = load_settings()
    assert settings.telegram_bot_token is None
    assert settings.database_url == "sqlite+aiosqlite:///./yishi.db"
    assert settings.timezone == "Asia/Shanghai" and settings.locale == "zh_CN"
    assert settings.digest_time == time(8, 30)
    assert settings.escalation_sla == timedelta(days=3)
    assert settings.admin_ids == frozenset()
    assert settings.public_url is None  # the web pages are off
    assert settings.web_address == ("127.0.0.1", 8080)


def test_the_public_url_loses_its_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YISHI_PUBLIC_URL", "https://yishi.example.org:8443/ ")
    monkeypatch.setenv("YISHI_WEB_LISTEN", "0.0.0.0:8081")
    settings = load_settings()
    assert settings.public_url == "https://yishi.example.org:8443"
    assert settings.web_address == ("0.0.0.0", 8081)


def test_values_come_from_the_environment_and_a_dotenv_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("YISHI_ADMIN_IDS=11, 22\nYISHI_DIGEST_TIME=07:15\n")
    monkeypatch.setenv("YISHI_ESCALATION_SLA", "36h")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc-DEF")
    monkeypatch.setenv("YISHI_LOCALE", "en")
    settings = load_settings()
    assert settings.admin_ids == frozenset({11, 22})
    assert settings.digest_time == time(7, 15)
    assert settings.escalation_sla == timedelta(hours=36)
    assert settings.telegram_bot_token is not None
    assert "abc" not in repr(settings)
    assert settings.locale == "en"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("YISHI_TIMEZONE", "Mars/Olympus"),
        ("YISHI_DIGEST_TIME", "25:00"),
        ("YISHI_DIGEST_TIME", "8"),
        ("YISHI_ESCALATION_SLA", "soon"),
        ("YISHI_ADMIN_IDS", "1,two"),
        ("YISHI_WECOM_ADMIN_USERIDS", "zhangsan,李 四"),
        ("YISHI_LOCALE", "fr"),
        ("DATABASE_URL", "mysql://x"),
        ("TELEGRAM_BASE_URL", "ftp://x/bot"),
        ("TELEGRAM_BOT_TOKEN", "not a token"),
        ("YISHI_CATALOG", "/no/such/file.toml"),
        ("YISHI_PUBLIC_URL", "yishi.example.org"),
        ("YISHI_PUBLIC_URL", "https://yishi.example.org/?x=1"),
        ("YISHI_PUBLIC_URL", "ftp://yishi.example.org"),
        ("YISHI_PUBLIC_URL", "https://example.org/yishi"),  # the pages live at the root
        ("YISHI_WEB_LISTEN", "8080"),
        ("YISHI_WEB_LISTEN", "127.0.0.1:99999"),
    ],
)
def test_a_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert str(error.value).startswith(f"{variable}=")
    assert "expected" in str(error.value)
