"""Keep the bot token out of logs and error output.

python-telegram-bot puts the token into some of its errors ("The token `123:AA...` was
rejected by the server" when Telegram, or a wrong ``TELEGRAM_BASE_URL``, answers 401 or 404),
and the HTTP clients put request URLs, which contain it (``.../bot<token>/getMe``), into
theirs. Every log record and the traceback of an error that ends the process are passed
through :func:`redact` before they are written.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

REDACTED = "<redacted>"


def secret_part(token: str) -> str:
    """What must not be shown: the part after ``<bot id>:`` (the whole token if no colon)."""
    return token.split(":", 1)[1] if ":" in token else token


def redact(text: str, secret: str) -> str:
    return text.replace(secret, REDACTED) if secret and secret in text else text


class RedactToken(logging.Filter):
    """A handler filter: rewrites records that mention the token (message and traceback)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.secret = secret_part(token)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = redact(message, self.secret), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secret)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secret)
        return True


def keep_token_out_of_output(token: str) -> None:
    """Filter every handler of the root logger, and the traceback of an uncaught error."""
    token_filter = RedactToken(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(token_filter)
    secret = token_filter.secret

    def excepthook(
        kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        text = "".join(traceback.format_exception(kind, error, trace))
        sys.stderr.write(redact(text, secret))

    sys.excepthook = excepthook
