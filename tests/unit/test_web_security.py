"""The web's locks: Telegram's initData check (as Telegram documents it), the signed session
cookie, CSRF tokens and the attempt counter."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from channels.web.security import Attempts, csrf_ok, csrf_token, sign, unsign
from channels.web.telegram_login import InitDataRefused, validate_init_data

TOKEN = "123456:ABCdefGhIJKlmnOPQ-rstuvWXyz"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
USER = {"id": 5, "first_name": "钱", "language_code": "zh-hans"}


def init_data(token: str = TOKEN, *, at: datetime = NOW, **extra: str) -> str:
    """Signed as Telegram documents it, written out here independently of the code."""
    fields = {
        "auth_date": str(int(at.timestamp())),
        "query_id": "AAE",
        "user": json.dumps(USER, ensure_ascii=False),
        **extra,
    }
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def test_valid_init_data_names_the_telegram_user() -> None:
    person = validate_init_data(init_data(start_param="12"), TOKEN, NOW)
    assert (person.user_id, person.first_name, person.language_code) == (5, "钱", "zh-hans")
    assert person.start_param == "12"


def test_init_data_up_to_a_day_old_is_accepted() -> None:
    validate_init_data(init_data(at=NOW - timedelta(hours=23, minutes=59)), TOKEN, NOW)


@pytest.mark.parametrize(
    "data",
    [
        init_data("654321:another-bots-token"),  # signed by another bot
        init_data(at=NOW - timedelta(hours=24, seconds=1)),  # older than 24 h
        init_data().replace("%E9%92%B1", "%E5%AD%99"),  # the name changed after signing
        init_data().replace("hash=", "hash=0"),
        init_data() + "&user=%7B%22id%22%3A6%7D",  # a second user field
        "",
        "not a query string",
        "hash=abc",
        "x" * 9000,
    ],
)
def test_forged_changed_or_stale_init_data_is_refused(data: str) -> None:
    with pytest.raises(InitDataRefused):
        validate_init_data(data, TOKEN, NOW)


def test_a_signed_cookie_gives_back_its_token_and_a_forged_one_nothing() -> None:
    value = sign("key", "token-123")
    assert unsign("key", value) == "token-123"
    assert unsign("other key", value) is None
    token, mac = value.rsplit(".", 1)
    assert unsign("key", f"token-124.{mac}") is None
    assert unsign("key", f"{token}.{'0' * len(mac)}") is None
    for junk in (None, "", ".", "token-123", "." + mac):
        assert unsign("key", junk) is None


def test_a_csrf_token_fits_only_the_browser_it_was_made_for() -> None:
    token = csrf_token("key", "session-a")
    assert csrf_ok("key", "session-a", token)
    assert not csrf_ok("key", "session-b", token)
    assert not csrf_ok("other", "session-a", token)
    assert not csrf_ok("key", "session-a", None)
    assert not csrf_ok("key", None, token)
    assert not csrf_ok("key", "session-a", "")


def test_attempts_are_limited_per_key_within_the_window() -> None:
    now = [0.0]
    attempts = Attempts(limit=2, window=60, clock=lambda: now[0])
    assert attempts.allow("1.2.3.4", "code")
    assert attempts.allow("1.2.3.4", "code")
    assert not attempts.allow("1.2.3.4", "code")
    assert not attempts.allow("1.2.3.4", "other code")  # the address is spent
    assert attempts.allow("5.6.7.8", "other code")
    now[0] = 61
    assert attempts.allow("1.2.3.4", "code")
