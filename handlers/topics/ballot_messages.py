"""Ballot messages kept in step with the database, with coalesced edits.

However fast votes come, each ballot message is edited at most once per ``interval``
(3 s by default; a topic changed again soon after an edit waits for its own slot in the
interval, ``CoalescedRefresh``), always once more after the last change, and never with
content it already shows (a fingerprint of the rendered message is stored per post). Every
sync reads the current state, so a lost edit heals on the next one, and after a restart
every open topic is synced once.

A ballot message an admin deleted is posted again at the next sync while the topic is open
(voting goes on; the new message is the one kept up to date) and stays deleted once it is
closed (the outcome is announced anyway). Failures Telegram may get over are retried later,
a chat that removed the bot is noted (``handlers.delivery.refused``).
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot.services import Services
from bot.services.topics.views import ballot_view
from handlers.delivery.coalesce import CoalescedRefresh
from handlers.delivery.refused import RefusedShows
from handlers.delivery.threads import in_thread
from handlers.topics.render import TopicRenderer, fingerprint
from locales import Html
from storage.records import TopicPost

log = logging.getLogger(__name__)


class LiveMessages(CoalescedRefresh):
    what = "topic"

    def __init__(
        self,
        bot: ExtBot[None],
        services: Services,
        renderer: TopicRenderer,
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

    async def _sync(self, topic_id: int) -> None:
        snap = await self._services.topics.snapshot(topic_id)
        if snap is None:
            return
        # The node's level is shown only for a topic posted to every building below.
        level = (
            await self._services.topics.level_of(snap.topic.node_id)
            if snap.topic.scope == "all"
            else None
        )
        shown = True
        # A topic posted to every building below shows the same message in most of its chats:
        # rendered once per language and kind of post.
        rendered: dict[tuple[str, bool], tuple[Html, InlineKeyboardMarkup | None, str]] = {}
        for post in snap.posts:
            locale = await self._services.people.chat_locale(post.chat_id)
            look = rendered.get((locale, post.voting))
            if look is None:
                view = ballot_view(snap, voting=post.voting, level=level)
                text, markup = self._renderer.ballot(locale, view)
                look = rendered[(locale, post.voting)] = (text, markup, fingerprint(text, markup))
            text, markup, digest = look
            if post.message_id is not None and digest == post.rendered_hash:
                continue
            try:
                await self._show(post, text, markup, snap.topic.is_open)
            except TelegramError as error:
                if not await self._refusals.absorb(topic_id, post.chat_id, error):
                    raise
                shown = False
                continue
            await self._services.topics.record_rendered(topic_id, post.chat_id, digest)
        if shown:
            self._refusals.succeeded(topic_id)

    async def _show(
        self,
        post: TopicPost,
        text: str,
        keyboard: InlineKeyboardMarkup | None,
        still_open: bool,
    ) -> None:
        if post.message_id is not None:
            try:
                await self._bot.edit_message_text(
                    text,
                    chat_id=post.chat_id,
                    message_id=post.message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard,
                )
                return
            except BadRequest as error:
                description = str(error).lower()
                if "not modified" in description:
                    return
                if "message to edit not found" not in description:
                    raise
                if not still_open:
                    return  # a closed ballot whose message was deleted stays deleted
        message = await in_thread(
            lambda thread: self._bot.send_message(
                post.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                message_thread_id=thread,
            ),
            post.thread_id,
        )
        await self._services.topics.record_message(post.topic_id, post.chat_id, message.message_id)
