"""What the security suites share: a database fingerprint, a refusal recorder, waiting for an
update to be handled, and the checks every hostile input must pass.

The database is read through the bot's own :class:`storage.database.Database`, with SQL that
SQLite and PostgreSQL both accept, so the same checks run on either store."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, Table, Text, cast, inspect, literal, null, select, text, union_all

from bot.services.errors import Refusal
from channels.telegram import common
from channels.telegram.meetings import wizard as meeting_wizard
from channels.telegram.topics import wizard as topic_wizard
from emulators.telegram import ApiCall
from locales import Html
from storage.tables import metadata
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
    "users": "locale IS NOT NULL OR started",
    "chats": "locale IS NOT NULL",
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

Rows = Counter[tuple[str | None, ...]]  # a table's rows, each value as text


def sqlite_path(h: Harness) -> Path:
    prefix = "sqlite+aiosqlite:///"
    assert h.database_url.startswith(prefix), h.database_url
    return Path(h.database_url.removeprefix(prefix))


def store(h: Harness) -> str:
    """``sqlite`` or ``postgresql``: the store the bot runs on."""
    return h.services.database.dialect


async def execute(h: Harness, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
    """Run one statement in a transaction of the bot's database (its own engine, pool and
    settings, on either store); the rows it returned, if any."""
    async with h.services.database.transaction() as repos:
        result = await repos.connection.execute(statement, parameters or {})
        return result.all() if result.returns_rows else []


async def read(h: Harness, query: Any, parameters: dict[str, Any] | None = None) -> Any:
    """The rows of one query on the bot's database. On PostgreSQL without BEGIN and COMMIT
    around it (autocommit: one round trip instead of three; the tests read after every update)."""
    database = h.services.database
    async with database.connection() as connection:
        if database.dialect == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        return (await connection.execute(query, parameters or {})).all()


def _kept(table: Table) -> list[str]:
    volatile = VOLATILE_COLUMNS.get(table.name, set())
    return [column.name for column in table.columns if column.name not in volatile]


def _watched() -> dict[str, list[str]]:
    """The tables (and columns) commands may change, from the schema the bot is built on."""
    return {
        table.name: _kept(table)
        for table in metadata.sorted_tables
        if table.name not in VOLATILE_TABLES
    }


def _union(watched: dict[str, list[str]]) -> Any:
    """One query for every watched row: ``(table, value, value, ...)``, each value cast to
    text (NULL stays NULL) and padded to the widest table. Text compares equal across two
    readings of the same store whatever the column's type (JSON, times, booleans, numbers)."""
    width = max(len(columns) for columns in watched.values())
    parts: list[Select[Any]] = []
    for name, columns in watched.items():
        table = metadata.tables[name]
        values = [cast(table.c[column], Text) for column in columns]
        values += [cast(null(), Text)] * (width - len(columns))
        labelled = [value.label(f"c{index}") for index, value in enumerate(values)]
        part = select(literal(name, Text).label("t"), *labelled).select_from(table)
        if name in ROW_FILTERS:
            part = part.where(text(ROW_FILTERS[name]))
        parts.append(part)
    return union_all(*parts)


class Fingerprint:
    """Every row the bot's commands may change, read in one query through the bot's database.

    Tables and columns come from ``storage.tables.metadata``; :meth:`check_schema` makes sure
    the database holds no table the metadata does not know (it would go unwatched).
    """

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.watched = _watched()
        self.query = _union(self.watched)

    async def check_schema(self) -> None:
        async with self.h.services.database.connection() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        unknown = set(names) - set(metadata.tables) - VOLATILE_TABLES
        assert unknown == set(), f"tables the fingerprint would not watch: {sorted(unknown)}"

    async def tables(self) -> dict[str, Rows]:
        """Each watched table's rows, as a multiset (the order rows come in means nothing)."""
        found: dict[str, Rows] = {name: Counter() for name in self.watched}
        for name, *values in await read(self.h, self.query):
            found[name][tuple(values[: len(self.watched[name])])] += 1
        return found

    def diff(self, before: dict[str, Rows], after: dict[str, Rows]) -> dict[str, Any]:
        changed = {}
        for name in sorted(set(before) | set(after)):
            old, new = before.get(name, Counter()), after.get(name, Counter())
            if old != new:
                changed[name] = {
                    "columns": self.watched.get(name, []),
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

    def render(context: Any, refusal: Refusal, locale: str | None = None) -> Html:
        seen.keys.append(refusal.key)
        return original(context, refusal, locale)

    with pytest.MonkeyPatch.context() as patch:
        for module in (common, meeting_wizard, topic_wizard):
            patch.setattr(module, "render_refusal", render)
        yield seen


def last_update_id(h: Harness) -> int:
    return h.emu.world.updates.next_update_id - 1


async def handled(h: Harness, update_id: int, *, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait until the bot has run every handler of this update: the inbox marks it, and no
    update is being processed (a command that posts after its commit, /topic or /meeting,
    marks its update handled in that commit, before its handler is done)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    query = text("SELECT handled_at FROM inbox WHERE update_id = :update_id")
    while True:
        rows = await read(h, query, {"update_id": update_id})
        assert h.app is not None
        if (
            rows
            and rows[0][0] is not None
            and not h.app.update_processor.current_concurrent_updates
        ):
            return
        if loop.time() > deadline:
            raise TimeoutError(f"update {update_id} not handled within {timeout}s")
        await asyncio.sleep(0.002)


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
