"""Where and how ``yishi`` logs: YISHI_LOG_LEVEL and YISHI_LOG_FORMAT (text or JSON lines).

Both formats pass every line through the secret registry (bot/redaction.py) as a last step,
after the handler's filter has redacted the record: what a formatter adds on its own (a JSON
field from ``extra=``, an exception it formats itself) is covered too.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from bot.redaction import SECRETS, SecretRegistry
from bot.settings import LoggingSettings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that say too much at INFO about things an operator does not act on.
QUIET = ("httpx", "alembic", "apscheduler", "aiohttp.access")
NEVER_DEBUG = ("telegram", "aiosqlite")
# JSON fields: the record's attribute -> the name a log collector sees.
JSON_FIELDS = {
    "levelname": "level",
    "name": "logger",
    "exc_info": "exception",
    "stack_info": "stack",
}


class RedactedText(logging.Formatter):
    """Text lines, secrets cut out."""

    def __init__(self, registry: SecretRegistry = SECRETS) -> None:
        super().__init__(TEXT_FORMAT)
        self.registry = registry

    def format(self, record: logging.LogRecord) -> str:
        return self.registry.redact(super().format(record))


class JsonLines(JsonFormatter):
    """One JSON object a line, for log collectors (Loki, ELK, journald's JSON): ``time``,
    ``level``, ``logger``, ``message``, and ``exception``/``stack`` when there are, plus any
    ``extra=`` fields; secrets cut out."""

    def __init__(self, registry: SecretRegistry = SECRETS) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            rename_fields=JSON_FIELDS,
            json_ensure_ascii=False,
        )
        self.registry = registry

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        super().add_fields(log_data, record, message_dict)

    def format(self, record: logging.LogRecord) -> str:
        return self.registry.redact(super().format(record))


def configure_logging(settings: LoggingSettings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if settings.log_format == "json" else RedactedText())
    root = logging.getLogger()
    if not root.handlers:  # as logging.basicConfig: an embedding program's handlers stay
        root.addHandler(handler)
    root.setLevel(settings.log_level)
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # Never DEBUG for these, even with YISHI_LOG_LEVEL=DEBUG, or a secret ballot could be read
    # back from the logs: the Telegram library logs raw updates (who pressed which button),
    # aiosqlite every call with its parameters (the inbox stores those updates).
    for revealing in NEVER_DEBUG:
        logging.getLogger(revealing).setLevel(max(logging.INFO, root.level))
