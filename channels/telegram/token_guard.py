"""A second instance with the same bot token but another database.

The database lease (bot/lease.py) cannot see that one; Telegram can. While a process
long-polls ``getUpdates``, another process's ``getUpdates`` for the same bot cuts it short
with 409 Conflict, and the first one's next poll does the same to the second. The rule here:
a process that meets a Conflict in its first minute, before it has received any update, is
the newcomer and stops (``yishi run`` exits with status 2); an established process logs a
warning and polls on, so the newcomer is the one whose poll is cut short next.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from telegram.error import Conflict

NEWCOMER_SECONDS = 60.0

SAME_TOKEN = """\
Another process is polling Telegram with this bot token (409 Conflict: terminated by other
getUpdates request). It uses another database, or this one would have refused to start
earlier. Two instances would take turns receiving updates, so this one stops. Stop the other
instance, or give this one its own bot token."""


class TokenConflictGuard:
    def __init__(
        self,
        stop: Callable[[], object],
        *,
        received_any: Callable[[], bool],
        newcomer_seconds: float = NEWCOMER_SECONDS,
    ) -> None:
        self._stop = stop
        self._received_any = received_any
        self._newcomer_until = time.monotonic() + newcomer_seconds
        self.refused = False

    async def on_error(self, update: object, context: Any) -> None:
        """An error handler: ``run_polling`` hands errors of getUpdates to those (no update).

        ``channels.telegram.errors.on_error`` logs the Conflict; this only decides who stops.
        """
        if update is not None or not isinstance(context.error, Conflict):
            return
        if time.monotonic() < self._newcomer_until and not self._received_any():
            self.refused = True
            self._stop()
