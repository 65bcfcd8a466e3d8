"""Meeting announcements and reminders kept in step with the database, like ballot messages.

Each occurrence's messages are synced by one task at a time: missing messages are posted,
changed ones edited, at most once per ``interval`` however fast people answer, always once
more after the last answer, and never with content a message already shows (a fingerprint
per message is stored). After a restart every occurrence still taking answers, or with a
message not yet posted, is synced once.

A reminder an admin deleted stays deleted (the next reminder is posted anyway, and /meetings
shows the meeting); failures Telegram may get over are retried later, a chat that removed the
bot is noted (``handlers.delivery.refused``).
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot.services import Services
from bot.services.meetings.plan import latest_posts
from bot.services.meetings.views import meeting_message_view
from handlers.delivery.coalesce import CoalescedRefresh
from handlers.delivery.refused import RefusedShows
from handlers.delivery.threads import in_thread
from handlers.meetings.render import MeetingRenderer
from handlers.topics.render import fingerprint
from storage.records import MeetingPost

log = logging.getLogger(__name__)


class LiveReminders(CoalescedRefresh):
    what = "meeting occurrence"

    def __init__(
        self,
        bot: ExtBot[None],
        services: Services,
        renderer: MeetingRenderer,
        *,
        interval: float = 3.0,
    ) -> None:
        super().__init__(interval=interval)
        self._bot = bot
        self._services = services
        self._renderer = renderer
        self._refusals = RefusedShows(services, self.what, self.touch)

    async def close(self, grace: float = 0.0) -> None:
        self._refusals.close()
        await super().close(grace)

    async def _sync(self, occurrence_id: int) -> None:
        """Post missing messages and edit changed ones, in every chat of the occurrence."""
        view = await self._services.meetings.view(occurrence_id)
        if view is None:
            return
        latest = latest_posts(view.posts)
        shown = True
        for post in view.posts:
            locale = await self._services.people.chat_locale(post.chat_id)
            live = latest[post.chat_id] == post
            message = meeting_message_view(view, post, live=live)
            text, markup = self._renderer.post(locale, message)
            digest = fingerprint(text, markup)
            if post.message_id is not None and digest == post.rendered_hash:
                continue
            if post.message_id is None and not live:
                continue  # never posted and already superseded: the newer one says it all
            try:
                await self._show(post, text, markup)
            except TelegramError as error:
                if not await self._refusals.absorb(occurrence_id, post.chat_id, error):
                    raise
                shown = False
                continue
            await self._services.meetings.record_rendered(
                post.occurrence_id, post.slot, post.chat_id, digest
            )
        if shown:
            self._refusals.succeeded(occurrence_id)

    async def _show(
        self, post: MeetingPost, text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        if post.message_id is not None:
            try:
                await self._bot.edit_message_text(
                    text,
                    chat_id=post.chat_id,
                    message_id=post.message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
                return
            except BadRequest as error:
                description = str(error).lower()
                if "not modified" in description or "message to edit not found" in description:
                    return  # a deleted reminder stays deleted
                raise
        message = await in_thread(
            lambda thread: self._bot.send_message(
                post.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                message_thread_id=thread,
            ),
            post.thread_id,
        )
        await self._services.meetings.record_message(
            post.occurrence_id, post.slot, post.chat_id, message.message_id
        )
