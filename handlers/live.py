"""Ballot messages kept in step with the database, with coalesced edits.

However fast votes come, each ballot message is edited at most once per ``interval``
(3 s by default), always once more after the last change, and never with content it already
shows (a fingerprint of the rendered message is stored per post). Every sync reads the
current state, so a lost edit heals on the next one, and after a restart every open topic is
synced once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import ExtBot

from bot.services import Services
from handlers.topic_render import TopicRenderer, fingerprint
from storage.records import TopicPost

log = logging.getLogger(__name__)


class LiveMessages:
    def __init__(
        self,
        bot: ExtBot[None],
        services: Services,
        renderer: TopicRenderer,
        *,
        interval: float = 3.0,
    ) -> None:
        self._bot = bot
        self._services = services
        self._renderer = renderer
        self._interval = interval
        self._dirty: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._last_sync: dict[int, float] = {}
        # One sync per topic at a time: a sync that posts a message must record its id
        # before the next one reads it, or the next would post the ballot a second time.
        self._locks: dict[int, asyncio.Lock] = {}

    def touch(self, topic_id: int) -> None:
        """The topic changed: its messages will be refreshed (coalesced)."""
        self._dirty.add(topic_id)
        task = self._tasks.get(topic_id)
        if task is None or task.done():
            self._tasks[topic_id] = asyncio.create_task(self._refresh_loop(topic_id))

    async def idle(self) -> None:
        """Wait until no refresh is pending (tests and the demo)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

    async def _refresh_loop(self, topic_id: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            while topic_id in self._dirty:
                wait = self._last_sync.get(topic_id, float("-inf")) + self._interval - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._dirty.discard(topic_id)
                self._last_sync[topic_id] = loop.time()
                try:
                    await self.sync(topic_id)
                except RetryAfter as error:
                    self._dirty.add(topic_id)
                    await asyncio.sleep(seconds(error.retry_after))
                except Exception:
                    log.exception("refreshing the messages of topic %s failed", topic_id)
        finally:
            self._tasks.pop(topic_id, None)

    async def sync(self, topic_id: int) -> None:
        """Post missing ballot messages and edit changed ones, for every chat of the topic."""
        async with self._locks.setdefault(topic_id, asyncio.Lock()):
            await self._sync(topic_id)

    async def _sync(self, topic_id: int) -> None:
        snap = await self._services.topics.snapshot(topic_id)
        if snap is None:
            return
        level = await self._services.topics.level_of(snap.topic.node_id)
        for post in snap.posts:
            locale = await self._services.people.chat_locale(post.chat_id)
            text, markup = self._renderer.ballot(locale, snap, voting=post.voting, level=level)
            digest = fingerprint(text, markup)
            if post.message_id is not None and digest == post.rendered_hash:
                continue
            try:
                await self._show(post, text, markup, snap.topic.is_open)
            except Forbidden as error:
                log.warning("cannot show topic %s in chat %s: %s", topic_id, post.chat_id, error)
                continue
            await self._services.topics.record_rendered(topic_id, post.chat_id, digest)

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
                if "not found" not in description:
                    raise
                if not still_open:
                    return  # a closed ballot whose message was deleted stays deleted
        message = await self._bot.send_message(
            post.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )
        await self._services.topics.record_message(post.topic_id, post.chat_id, message.message_id)


def seconds(value: timedelta | int) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
