"""Where and how ``yishi`` logs: YISHI_LOG_LEVEL and YISHI_LOG_FORMAT (text or JSON lines)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from bot.settings import LoggingSettings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that say too much at INFO about things an operator does not act on.
QUIET = ("httpx", "alembic", "apscheduler", "aiohttp.access")
NEVER_DEBUG = ("telegram", "aiosqlite")


class JsonLines(logging.Formatter):
    """One JSON object a line, for log collectors (Loki, ELK, journald's JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:  # already redacted by bot.redaction's filter, if it ran
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: LoggingSettings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonLines() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
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
