"""A Telegram Mini App's ``initData`` checked as Telegram specifies: the data-check string (the
fields but ``hash``, sorted, ``key=value`` joined by newlines) signed with HMAC-SHA256 under
the key HMAC-SHA256("WebAppData", bot token); ``auth_date`` no older than 24 hours."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

MAX_AGE = timedelta(hours=24)
MAX_LENGTH = 8192


class InitDataRefused(Exception):
    """Not signed by our bot, malformed, or too old: nobody is signed in."""


@dataclass(frozen=True, slots=True)
class TelegramWebUser:
    user_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
    start_param: str | None


def data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def signature(bot_token: str, check_string: str) -> str:
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()


def validate_init_data(init_data: str, bot_token: str, now: datetime) -> TelegramWebUser:
    if not init_data or len(init_data) > MAX_LENGTH:
        raise InitDataRefused("empty or too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as error:
        raise InitDataRefused("not a query string") from error
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataRefused("a field given twice")
    given = fields.get("hash", "")
    if not hmac.compare_digest(given, signature(bot_token, data_check_string(fields))):
        raise InitDataRefused("not signed by this bot")
    try:
        signed_at = datetime.fromtimestamp(int(fields.get("auth_date", "")), UTC)
    except (ValueError, OverflowError, OSError) as error:
        raise InitDataRefused("no auth_date") from error
    if now - signed_at > MAX_AGE or signed_at - now > timedelta(minutes=5):
        raise InitDataRefused("too old")
    try:
        user = json.loads(fields.get("user", ""))
        user_id = int(user["id"])
    except (ValueError, TypeError, KeyError) as error:
        raise InitDataRefused("no user") from error
    if not isinstance(user, dict) or user_id <= 0:
        raise InitDataRefused("no user")

    def text(name: str) -> str | None:
        value = user.get(name)
        text = str(value).replace("\x00", "")[:64] if value else ""  # PostgreSQL stores no NUL
        return text or None

    return TelegramWebUser(
        user_id=user_id,
        first_name=text("first_name") or str(user_id),
        last_name=text("last_name"),
        username=text("username"),
        language_code=text("language_code"),
        start_param=fields.get("start_param") or None,
    )
