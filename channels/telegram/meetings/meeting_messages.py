"""Meeting announcements and reminders kept in step with the database (``KeptCurrent``).

Each occurrence's messages are synced by one task at a time: missing messages are posted,
changed ones edited, at most once per ``interval`` however fast people answer, always once
more after the last answer, and never with content a message already shows (a fingerprint
per message is stored). After a restart every occurrence still taking answers, or with a
message not yet posted, is synced once.

A reminder an admin deleted stays deleted (the next reminder is posted anyway, and /meetings
shows the meeting).
"""

from __future__ import annotations

from telegram.ext import ExtBot

from bot.services import Services
from bot.services.meetings.plan import latest_posts
from bot.services.meetings.views import meeting_message_view
from channels.telegram.delivery.kept_current import KeptCurrent, Shown
from channels.telegram.meetings.render import MeetingRenderer
from channels.telegram.topics.render import fingerprint
from storage.records import FIRST_FOREIGN_ID, MeetingPost


class LiveReminders(KeptCurrent[MeetingPost]):
    what = "meeting occurrence"

    def __init__(
        self,
        bot: ExtBot[None],
        services: Services,
        renderer: MeetingRenderer,
        *,
        interval: float = 3.0,
    ) -> None:
        super().__init__(bot, services, interval=interval)
        self._renderer = renderer

    async def _read(self, occurrence_id: int) -> list[Shown[MeetingPost]]:
        """Every message of the occurrence, in every chat, as it should read now."""
        view = await self._services.meetings.view(occurrence_id)
        if view is None:
            return []
        latest = latest_posts(view.posts)
        shown: list[Shown[MeetingPost]] = []
        for post in view.posts:
            if post.chat_id >= FIRST_FOREIGN_ID:
                continue  # another platform's chat: its channel posts it
            live = latest[post.chat_id] == post
            if post.message_id is None and not live:
                continue  # never posted and already superseded: the newer one says it all
            locale = await self._services.people.chat_locale(post.chat_id)
            message = meeting_message_view(view, post, live=live)
            text, markup = self._renderer.post(locale, message)
            shown.append(
                Shown(
                    post=post,
                    chat_id=post.chat_id,
                    message_id=post.message_id,
                    shows=post.rendered_hash,
                    text=text,
                    markup=markup,
                    fingerprint=fingerprint(text, markup),
                    repost=False,
                    thread_id=post.thread_id,
                )
            )
        return shown

    async def _record(self, occurrence_id: int, shown: Shown[MeetingPost], message_id: int) -> None:
        post = shown.post
        if message_id != shown.message_id:
            await self._services.meetings.record_message(
                post.occurrence_id, post.slot, post.chat_id, message_id
            )
        await self._services.meetings.record_rendered(
            post.occurrence_id, post.slot, post.chat_id, shown.fingerprint
        )
