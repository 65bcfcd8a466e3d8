"""One way to keep a posted message current: edit, repost when deleted, coalesce."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest

from channels.telegram.delivery.kept_current import KeptCurrent, Shown
from channels.telegram.topics.render import fingerprint

INTERVAL = 0.2


class Chat:
    """What a chat shows: Telegram's side of the messages."""

    def __init__(self) -> None:
        self.messages: dict[int, str] = {}
        self.edits = 0
        self.posts = 0
        self._next = 100

    async def edit_message_text(
        self, text: str, *, chat_id: int, message_id: int, **_: Any
    ) -> None:
        if message_id not in self.messages:
            raise BadRequest("Message to edit not found")
        if self.messages[message_id] == text:
            raise BadRequest("Message is not modified")
        self.edits += 1
        self.messages[message_id] = text

    async def send_message(self, chat_id: int, text: str, **_: Any) -> SimpleNamespace:
        self._next += 1
        self.posts += 1
        self.messages[self._next] = text
        return SimpleNamespace(message_id=self._next)


@dataclass
class Note:
    """One item of a kind: what it says, and what the bot stored about its message."""

    text: str
    message_id: int | None = None
    shows: str | None = None
    repost: bool = True


class Notes(KeptCurrent[Note]):
    what = "note"

    def __init__(self, chat: Chat, *, interval: float = INTERVAL) -> None:
        super().__init__(chat, None, interval=interval)  # type: ignore[arg-type]
        self.notes: dict[int, Note] = {}

    async def _read(self, key: int) -> list[Shown[Note]]:
        note = self.notes[key]
        markup: InlineKeyboardMarkup | None = None
        return [
            Shown(
                post=note,
                chat_id=-1,
                message_id=note.message_id,
                shows=note.shows,
                text=note.text,
                markup=markup,
                fingerprint=fingerprint(note.text, markup),
                repost=note.repost,
            )
        ]

    async def _record(self, key: int, shown: Shown[Note], message_id: int) -> None:
        shown.post.message_id = message_id
        shown.post.shows = shown.fingerprint


async def test_a_missing_message_is_posted_then_edited_in_place() -> None:
    chat = Chat()
    notes = Notes(chat)
    notes.notes[1] = Note("赞成 1")
    await notes.sync(1)
    posted = notes.notes[1].message_id
    assert posted is not None and chat.messages == {posted: "赞成 1"}
    notes.notes[1].text = "赞成 2"
    await notes.sync(1)
    assert chat.messages == {posted: "赞成 2"}
    assert (chat.posts, chat.edits) == (1, 1)


async def test_no_edit_when_the_message_shows_it_already() -> None:
    chat = Chat()
    notes = Notes(chat)
    notes.notes[1] = Note("赞成 1")
    await notes.sync(1)
    await notes.sync(1)
    await notes.sync(1)
    assert (chat.posts, chat.edits) == (1, 0)


async def test_a_deleted_message_is_posted_again_while_it_is_needed() -> None:
    chat = Chat()
    notes = Notes(chat)
    notes.notes[1] = Note("赞成 1")
    await notes.sync(1)
    old = notes.notes[1].message_id
    assert old is not None
    del chat.messages[old]  # an admin deleted it
    notes.notes[1].text = "赞成 2"
    await notes.sync(1)
    new = notes.notes[1].message_id
    assert new is not None and new != old
    assert chat.messages == {new: "赞成 2"}


async def test_a_deleted_message_no_longer_needed_stays_deleted() -> None:
    chat = Chat()
    notes = Notes(chat)
    notes.notes[1] = Note("赞成 1")
    await notes.sync(1)
    old = notes.notes[1].message_id
    assert old is not None
    del chat.messages[old]
    notes.notes[1].text = "已结束"
    notes.notes[1].repost = False
    await notes.sync(1)
    await notes.sync(1)  # and it is not tried again: what it should show is recorded
    assert chat.messages == {}
    assert chat.posts == 1
    assert notes.notes[1].message_id == old


async def test_a_burst_of_changes_is_at_most_two_edits_the_last_showing_all() -> None:
    chat = Chat()
    notes = Notes(chat)
    notes.notes[1] = Note("赞成 0")
    await notes.sync(1)
    for votes in range(1, 21):
        notes.notes[1].text = f"赞成 {votes}"
        notes.touch(1)
        await asyncio.sleep(INTERVAL / 40)
    await notes.idle()
    message_id = notes.notes[1].message_id
    assert message_id is not None
    assert chat.messages == {message_id: "赞成 20"}
    assert 1 <= chat.edits <= 2
    await notes.close()
