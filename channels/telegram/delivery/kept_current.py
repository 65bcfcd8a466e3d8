"""One way to keep a posted message current: ballots, escalation cards, meeting messages and a
building's registration card.

For one item (a topic, a matter, a meeting occurrence, a building) a sync reads what each of
its posted messages should show now (``_read``, the kind's piece: the posts, rendered),
skips a post whose stored fingerprint says it shows that already, edits the others, posts a
missing one, and stores the message id and the new fingerprint (``_record``, the kind's
piece). An edit Telegram refuses because the message is gone ("message to edit not found")
posts it again when the kind says the post is still needed (``Shown.repost``: a ballot still
open, a card still to act on), and otherwise leaves it deleted. A post goes to its forum
thread, or General if that thread was deleted (``channels.telegram.delivery.threads``). Other
refusals go to ``RefusedShows`` (retried later, a chat that is gone noted, a group that moved
followed) or, if none of those, are raised.

Syncs are coalesced per item (``CoalescedRefresh``): one at a time, at most one per
``interval``, once more after the last change. The sends of these background syncs go with
``priority``: refreshes give way to every other send of the chat (their posts go as
announcements, ``channels.telegram.ratelimit.priority_of``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot.services import Services
from channels.telegram.delivery.coalesce import CoalescedRefresh
from channels.telegram.delivery.refused import RefusedShows
from channels.telegram.delivery.threads import in_thread
from channels.telegram.ratelimit import Priority
from storage.records import on_telegram

log = logging.getLogger(__name__)

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Shown(Generic[P]):
    """One message of an item, and what it should show now."""

    post: P  # the kind's record of the post, handed back to its ``_record``
    chat_id: int
    message_id: int | None  # the message to edit; None: post one
    shows: str | None  # the stored fingerprint of what that message shows
    text: str
    markup: InlineKeyboardMarkup | None
    fingerprint: str  # of ``text`` and ``markup``
    repost: bool  # post it again if it was deleted (otherwise it stays deleted)
    thread_id: int | None = None  # the forum thread a post goes to

    @property
    def current(self) -> bool:
        return self.message_id is not None and self.shows == self.fingerprint


class KeptCurrent(CoalescedRefresh, Generic[P]):
    """Messages kept current; a kind says how to read its posts (``_read``) and how to store
    what a message now shows (``_record``)."""

    def __init__(
        self,
        bot: ExtBot[None],
        services: Services,
        *,
        interval: float,
        priority: Priority = Priority.REFRESH,
    ) -> None:
        super().__init__(interval=interval, priority=priority)
        self._bot = bot
        self._services = services
        self._refusals = RefusedShows(services, self.what, self.touch)

    async def close(self, grace: float = 0.0) -> None:
        self._refusals.close()
        await super().close(grace)

    async def _read(self, key: int) -> Sequence[Shown[P]]:
        """Every message of the item that should exist, rendered as it should be now."""
        raise NotImplementedError

    async def _record(self, key: int, shown: Shown[P], message_id: int) -> None:
        """``shown`` is in message ``message_id`` now (a new one if it differs from
        ``shown.message_id``): store it with ``shown.fingerprint``."""
        raise NotImplementedError

    async def _sync(self, key: int) -> None:
        all_shown = True
        for shown in await self._read(key):
            if shown.current or not on_telegram(shown.chat_id):
                continue  # another platform's chat is kept by its own channel
            try:
                message_id = await self._show(shown)
            except TelegramError as error:
                if not await self._refusals.absorb(key, shown.chat_id, error):
                    raise
                all_shown = False
                continue
            await self._record(key, shown, message_id)
        if all_shown:
            self._refusals.succeeded(key)

    async def _show(self, shown: Shown[P]) -> int:
        """Edit the message, or post it (again, if it was deleted and is still needed); the
        id of the message that now shows it (the old one when a deleted one stays deleted)."""
        if shown.message_id is not None:
            try:
                await self._bot.edit_message_text(
                    shown.text,
                    chat_id=shown.chat_id,
                    message_id=shown.message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=shown.markup,
                )
                return shown.message_id
            except BadRequest as error:
                description = str(error).lower()
                if "not modified" in description:
                    return shown.message_id
                if "message to edit not found" not in description:
                    raise
                if not shown.repost:
                    return shown.message_id
        message = await in_thread(
            lambda thread: self._bot.send_message(
                shown.chat_id,
                shown.text,
                parse_mode=ParseMode.HTML,
                reply_markup=shown.markup,
                message_thread_id=thread,
            ),
            shown.thread_id,
        )
        return message.message_id
