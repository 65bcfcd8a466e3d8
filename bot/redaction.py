"""Keep secrets out of logs and error output, in text and JSON logs alike.

python-telegram-bot puts the token into some of its errors ("The token `123:AA...` was
rejected by the server" when Telegram, or a wrong ``TELEGRAM_BASE_URL``, answers 401 or 404),
and the HTTP clients put request URLs, which contain it (``.../bot<token>/getMe``), into
theirs. Other secrets travel the same way: the webhook secret token, WeCom's secret, AES key
and callback token, a PostgreSQL password in ``DATABASE_URL``, and the ``key=`` of a WeCom
push webhook (``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...``, and its
``upload_media``), which is a
credential in a URL that a chat command (/pushwebhook) hands the bot.

A :class:`SecretRegistry` knows the secrets: the settings feed it every ``SecretStr`` value
(:func:`register_settings`), and code that makes a secret at run time (the generated webhook
secret, channels/telegram/app.py) adds it. Every log record and the traceback of an error that ends
the process are passed through :meth:`SecretRegistry.redact` before they are written.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
import traceback
from types import TracebackType

from pydantic import SecretStr
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

REDACTED = "<redacted>"
TOKEN_VARIABLE = "TELEGRAM_BOT_TOKEN"
# Shorter values would cut ordinary words out of the logs; every secret Yishi knows is longer.
MIN_SECRET_LENGTH = 6
# A push-webhook URL's key, wherever the URL is quoted (its other parameters kept).
PUSH_WEBHOOK_KEY = re.compile(
    r"(webhook/(?:send|upload_media)\?(?:[^\s&#\"']*&)*key=)[^\s&#\"'<>]+"
)


def secret_part(token: str) -> str:
    """What must not be shown: the part after ``<bot id>:`` (the whole token if no colon)."""
    return token.split(":", 1)[1] if ":" in token else token


def redact(text: str, secret: str) -> str:
    return text.replace(secret, REDACTED) if secret and secret in text else text


class SecretRegistry:
    """The secrets that must not be written, and the URL patterns that carry one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()  # longest first: a secret inside another

    def add(self, secret: str | None) -> None:
        if secret is None or len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            if secret not in self._secrets:
                self._secrets = tuple(sorted({*self._secrets, secret}, key=len, reverse=True))

    def __contains__(self, secret: str) -> bool:
        return secret in self._secrets

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if "key=" in text:
            text = PUSH_WEBHOOK_KEY.sub(rf"\g<1>{REDACTED}", text)
        return text


# The process's registry: logging is process-wide, and so is what it must not write.
SECRETS = SecretRegistry()


def register_settings(settings: BaseSettings, registry: SecretRegistry = SECRETS) -> None:
    """Every ``SecretStr`` setting (the token's secret part), and the database password."""
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            registry.add(secret_part(secret) if field.alias == TOKEN_VARIABLE else secret)
    database_url = getattr(settings, "database_url", None)
    if isinstance(database_url, str):
        with contextlib.suppress(ArgumentError):
            registry.add(make_url(database_url).password)


class RedactSecrets(logging.Filter):
    """A handler filter: rewrites records that mention a secret (message and traceback)."""

    def __init__(self, registry: SecretRegistry = SECRETS) -> None:
        super().__init__()
        self.registry = registry

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.registry.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.registry.redact(record.exc_text)
            # Formatters that format exc_info themselves (JSON ones do) must use the text.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.registry.redact(record.stack_info)
        return True


def keep_secrets_out_of_output(registry: SecretRegistry = SECRETS) -> None:
    """Filter every handler of the root logger, and the traceback of an uncaught error."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets(registry))

    def excepthook(
        kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        text = "".join(traceback.format_exception(kind, error, trace))
        sys.stderr.write(registry.redact(text))

    sys.excepthook = excepthook
