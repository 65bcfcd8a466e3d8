"""What this process last wrote about the users and chats it sees, per database.

Every update names its sender and chat, and recording them (``users``/``chats`` upserts, each
returning the language chosen) costs two statements and a commit to wait for: about what the
ballot a press casts costs. When nothing changed since this process last wrote them, the
middleware (``channels/telegram/middleware.py``) skips all of it and answers in the language it read
then; this memo holds those last writes.

The language it holds must never be stale. Only ``set_locale`` and ``ChatRepository.move``
write one: once their statement has run (the row is theirs until they commit), they call
:meth:`SeenMemo.locale_written`, which forgets every remembered language and moves
``version`` on. A language is remembered only by a caller that saw ``version`` unchanged from
before its transaction began until after it committed, and whose transaction wrote the row
before reading it (the upsert returns the language from the row it wrote, ``RETURNING``). So
a reader either ran before the change took the row (it then sees ``version`` move before it
can remember, or its memory is forgotten), or it began after, and its own write of the row
waited for the change to commit (PostgreSQL; on SQLite transactions run one at a time), so
it read the new language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine

# How old the recorded ``last_seen`` (users) and ``updated_at`` (chats) may get while the same
# person keeps writing in the same chat (Telegram's middleware, WeCom's adapter). Nothing
# reads them to decide anything (they say roughly when someone was last around), and a
# coarse ``last_seen`` tells less about when a secret ballot was cast (see
# bot/services/topics/closing.py).
REFRESH = timedelta(minutes=10)

# Kept for this many (user, chat) pairs, the oldest written forgotten first.
CAPACITY = 20_000


@dataclass(frozen=True, slots=True)
class SeenEntry:
    facts: tuple[Any, ...]  # what was written (names, language code, chat type and title)
    written_at: datetime
    locale: str


class SeenMemo:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self.version = 0
        self._entries: dict[tuple[int | None, int | None], SeenEntry] = {}

    def get(self, key: tuple[int | None, int | None]) -> SeenEntry | None:
        return self._entries.get(key)

    def remember(
        self, key: tuple[int | None, int | None], entry: SeenEntry, *, version: int
    ) -> None:
        """Remember a committed write, unless a language changed since ``version`` was read."""
        if version != self.version:
            return
        self._entries.pop(key, None)  # re-inserted last: the dict's order is the age order
        self._entries[key] = entry
        if len(self._entries) > self.capacity:
            del self._entries[next(iter(self._entries))]

    def locale_written(self) -> None:
        """A user's or chat's language is being changed: forget every remembered one."""
        self.version += 1
        self._entries.clear()

    def identity_joined(self) -> None:
        """An identity acts as another person from now on (/link): what was remembered under
        its id is forgotten, with the same care as a language (the memo's ids are the ones
        ``seen_on`` answered then)."""
        self.locale_written()


_MEMOS: WeakKeyDictionary[Engine, SeenMemo] = WeakKeyDictionary()


def seen_memo(engine: Engine) -> SeenMemo:
    """The memo of one database (its engine); it goes with the engine."""
    memo = _MEMOS.get(engine)
    if memo is None:
        memo = _MEMOS[engine] = SeenMemo()
    return memo
