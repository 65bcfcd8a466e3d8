"""What the security suites share: a database fingerprint, a refusal recorder, waiting for an
update to be handled, and the checks every hostile input must pass."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import ApiCall
from bot.services.errors import Refusal
from handlers import common, meeting_wizard, topic_wizard
from locales import Html
from tests.auxil.harness import Harness

# Tables (or columns) that change without anyone's command: the inbox, the lease, what the
# middleware records about every update, Telegram membership checks, and the bookkeeping of
# messages the bot keeps in step in the background (render hashes, outbox delivery).
VOLATILE_TABLES = frozenset({"inbox", "instance_lease", "alembic_version", "chat_members"})
VOLATILE_COLUMNS = {
    "users": {"first_name", "last_name", "username", "language_code", "first_seen", "last_seen"},
    "chats": {"title", "type", "updated_at", "bot_status"},
    "topic_posts": {"rendered_hash", "message_id"},
    "escalations": {"card_hash", "card_message_id", "card_chat_id"},
    "meeting_posts": {"rendered_hash", "message_id", "late"},
    "outbox": {"sent_at", "attempts", "next_attempt_at", "message_id", "failed", "last_error"},
    "timers": {"attempts", "last_error"},
}
# Rows the middleware adds for every new user and chat are not a command's doing; their
# language is (``/lang``).
ROW_FILTERS = {
    "users": "WHERE locale IS NOT NULL OR started",
    "chats": "WHERE locale IS NOT NULL",
}

# Bot API methods whose failure means the bot said something Telegram would refuse.
SENDING = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "sendDocument",
        "sendPhoto",
        "answerCallbackQuery",
    }
)


def sqlite_path(h: Harness) -> Path:
    prefix = "sqlite+aiosqlite:///"
    assert h.database_url.startswith(prefix), h.database_url
    return Path(h.database_url.removeprefix(prefix))


class Fingerprint:
    """Every row the bot's commands may change, read with a plain sqlite3 connection."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def close(self) -> None:
        self.connection.close()

    def tables(self) -> dict[str, tuple[tuple[Any, ...], ...]]:
        cursor = self.connection.cursor()
        names = [
            row[0]
            for row in cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        state: dict[str, tuple[tuple[Any, ...], ...]] = {}
        for name in names:
            if name in VOLATILE_TABLES or name.startswith("sqlite_"):
                continue
            info = cursor.execute("SELECT name FROM pragma_table_info(?)", (name,))
            columns = [row[0] for row in info]
            kept = [c for c in columns if c not in VOLATILE_COLUMNS.get(name, set())]
            quoted = ", ".join(f'"{c}"' for c in kept)  # names from the schema itself
            where = ROW_FILTERS.get(name, "")
            rows = cursor.execute(f'SELECT {quoted} FROM "{name}" {where}').fetchall()
            state[name] = tuple(sorted(rows, key=repr))
        return state

    def digest(self) -> str:
        return hashlib.sha256(repr(sorted(self.tables().items())).encode()).hexdigest()

    def diff(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        changed = {}
        for name in sorted(set(before) | set(after)):
            old, new = set(before.get(name, ())), set(after.get(name, ()))
            if old != new:
                changed[name] = {
                    "gone": sorted(old - new, key=repr),
                    "new": sorted(new - old, key=repr),
                }
        return changed


@dataclass
class Refusals:
    """The refusals the bot rendered (the reason it gave), in order."""

    keys: list[str] = field(default_factory=list)

    def since(self, mark: int) -> list[str]:
        return self.keys[mark:]


@contextmanager
def recording_refusals() -> Iterator[Refusals]:
    """Record every refusal the handlers render (the one place a reason is put into words)."""
    seen = Refusals()
    original = common.render_refusal

    def render(context: Any, refusal: Refusal) -> Html:
        seen.keys.append(refusal.key)
        return original(context, refusal)

    with pytest.MonkeyPatch.context() as patch:
        for module in (common, meeting_wizard, topic_wizard):
            patch.setattr(module, "render_refusal", render)
        yield seen


def last_update_id(h: Harness) -> int:
    return h.emu.world.updates.next_update_id - 1


async def handled(h: Harness, update_id: int, *, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait until the bot has run every handler of this update (the inbox marks it)."""
    path = sqlite_path(h)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        while True:
            row = connection.execute(
                "SELECT handled_at FROM inbox WHERE update_id = ?", (update_id,)
            ).fetchone()
            if row is not None and row[0] is not None:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"update {update_id} not handled within {timeout}s")
            await asyncio.sleep(0.005)
    finally:
        connection.close()


def failed_sends(calls: list[ApiCall]) -> list[str]:
    """Sends and edits Telegram refused (bad HTML, too long, bad buttons...)."""
    return [
        f"{call.method} -> {call.error_code} {call.description}: {str(call.params)[:300]}"
        for call in calls
        if call.method in SENDING and call.ok is False
    ]


def sent_to(calls: list[ApiCall], chat_id: int) -> list[ApiCall]:
    """Successful messages (or edits, or documents) the bot sent to this chat."""
    return [
        call
        for call in calls
        if call.ok
        and call.method in SENDING - {"answerCallbackQuery"}
        and str(call.params.get("chat_id")) == str(chat_id)
    ]


def errors_logged(caplog: pytest.LogCaptureFixture, since: int) -> list[str]:
    records = caplog.get_records("call")[since:]
    return [f"{r.name}: {r.getMessage()}" for r in records if r.levelno >= logging.ERROR]


def errors_logged_in(records: list[logging.LogRecord], since: int) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in records[since:] if r.levelno >= logging.ERROR]
