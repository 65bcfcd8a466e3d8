"""Ballot messages kept in step with the database (``KeptCurrent``).

However fast votes come, each ballot message is edited at most once per ``interval``
(3 s by default; a topic changed again soon after an edit waits for its own slot in the
interval, ``CoalescedRefresh``), always once more after the last change, and never with
content it already shows (a fingerprint of the rendered message is stored per post,
group-committed with the ballots). Every sync reads the current state, so a lost edit heals
on the next one, and after a restart every open topic is synced once.

A ballot message an admin deleted is posted again at the next sync while the topic is open
(voting goes on; the new message is the one kept up to date) and stays deleted once it is
closed (the outcome is announced anyway).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup
from telegram.ext import ExtBot

from bot.services import Services
from bot.services.topics.views import ballot_view
from channels.telegram.delivery.kept_current import KeptCurrent, Shown
from channels.telegram.topics.render import TopicRenderer, fingerprint
from locales import Html
from storage.records import TopicPost


class LiveMessages(KeptCurrent[TopicPost]):
    what = "topic"

    def __init__(
        self,
        bot: ExtBot[None],
        services: Services,
        renderer: TopicRenderer,
        *,
        interval: float = 3.0,
    ) -> None:
        super().__init__(bot, services, interval=interval)
        self._renderer = renderer

    async def _read(self, topic_id: int) -> list[Shown[TopicPost]]:
        snap = await self._services.topics.snapshot(topic_id)
        if snap is None:
            return []
        # The node's level is shown only for a topic posted to every building below.
        level = (
            await self._services.topics.level_of(snap.topic.node_id)
            if snap.topic.scope == "all"
            else None
        )
        # A topic posted to every building below shows the same message in most of its chats:
        # rendered once per language and kind of post.
        rendered: dict[tuple[str, bool], tuple[Html, InlineKeyboardMarkup | None, str]] = {}
        shown: list[Shown[TopicPost]] = []
        for post in snap.posts:
            locale = await self._services.people.chat_locale(post.chat_id)
            look = rendered.get((locale, post.voting))
            if look is None:
                view = ballot_view(snap, voting=post.voting, level=level)
                text, markup = self._renderer.ballot(locale, view)
                look = rendered[(locale, post.voting)] = (text, markup, fingerprint(text, markup))
            text, markup, digest = look
            shown.append(
                Shown(
                    post=post,
                    chat_id=post.chat_id,
                    message_id=post.message_id,
                    shows=post.rendered_hash,
                    text=text,
                    markup=markup,
                    fingerprint=digest,
                    repost=snap.topic.is_open,
                    thread_id=post.thread_id,
                )
            )
        return shown

    async def _record(self, topic_id: int, shown: Shown[TopicPost], message_id: int) -> None:
        if message_id != shown.message_id:
            await self._services.topics.record_message(topic_id, shown.chat_id, message_id)
        await self._services.topics.record_rendered(topic_id, shown.chat_id, shown.fingerprint)
