"""Updates handled concurrently, yet in order where order matters.

With one update at a time nothing commits in groups (storage/group_commit.py), so updates are
handled concurrently; but a chat's updates, and a user's, are still handled one after another
in the order they arrived: two presses by one voter count in the order they were made, and a
message is handled after the one before it in its chat (which may have recorded its author).
Updates of other chats and other people go on meanwhile.

A button press waits for its presser's earlier updates only, not for its chat's: a reply
that waits for the group's sending budget (20 a minute, channels/telegram/ratelimit.py) must not
hold back the presses after it (Telegram gives up on a press not answered within about 15 s). Every
press is a guarded change (a ballot keyed by voter, conditional transitions of cards and
registrations), so presses of different people in one chat may run together.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

from telegram import Update


def order_keys(update: object) -> set[Hashable]:
    """What an update must wait its turn for: its chat, its sender, a member it is about."""
    if not isinstance(update, Update):
        return {"other"}
    keys: set[Hashable] = set()
    if update.effective_chat is not None and update.callback_query is None:  # see above
        keys.add(("chat", update.effective_chat.id))
    if update.effective_user is not None:
        keys.add(("user", update.effective_user.id))
    for change in (update.chat_member, update.my_chat_member):
        if change is not None:
            keys.add(("user", change.new_chat_member.user.id))
    return keys or {"other"}


class UpdateOrder:
    """Turns per key: ``async with order.turn(update):`` waits for every earlier update that
    shares a key with this one. Turns are taken when ``turn`` is entered, so enter it in the
    order updates arrived (before any ``await``)."""

    def __init__(self) -> None:
        self._last: dict[Hashable, asyncio.Future[None]] = {}

    @asynccontextmanager
    async def turn(self, update: object) -> AsyncIterator[None]:
        keys = order_keys(update)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        earlier = {self._last[key] for key in keys if key in self._last}
        for key in keys:
            self._last[key] = mine
        mine.add_done_callback(lambda _: self._forget(keys, mine))
        try:
            if earlier:
                await asyncio.wait(earlier)  # never cancels them, unlike awaiting each
            yield
        finally:
            # Cancelled while waiting, this turn still ends only after the earlier ones, or
            # the update after it would overtake them.
            self._end_after(mine, earlier)

    @staticmethod
    def _end_after(mine: asyncio.Future[None], earlier: set[asyncio.Future[None]]) -> None:
        def end(_: object = None) -> None:
            if not mine.done() and all(future.done() for future in earlier):
                mine.set_result(None)

        for future in earlier:
            if not future.done():
                future.add_done_callback(end)
        end()

    def _forget(self, keys: set[Hashable], mine: asyncio.Future[None]) -> None:
        for key in keys:
            if self._last.get(key) is mine:
                del self._last[key]

    @property
    def waiting(self) -> int:
        return len(self._last)
