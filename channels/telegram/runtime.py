"""The Telegram adapter's running parts, opened in post_init: rendering, live messages,
membership questions and outbox delivery, subscribed to the domain's events."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from telegram.ext import ExtBot

from bot.services import Services
from bot.services.events import (
    DomainEvent,
    EscalationChanged,
    MeetingChanged,
    OutboxQueued,
    RegistrationCardChanged,
    TopicChanged,
)
from bot.services.web_links import WebLinks
from channels.common.answering import after_the_answer
from channels.telegram.delivery.ports import TelegramAnnouncer, TelegramMembership
from channels.telegram.delivery.renderers import TelegramAnnouncements
from channels.telegram.escalation.commands import Prompt
from channels.telegram.escalation.escalation_cards import EscalationCards
from channels.telegram.escalation.render import EscalationRenderer
from channels.telegram.meetings.meeting_messages import LiveReminders
from channels.telegram.meetings.render import MeetingRenderer
from channels.telegram.page_buttons import PageButtons
from channels.telegram.registration.pending_card import RegistrationCards
from channels.telegram.reports.digest_render import DigestRenderer
from channels.telegram.topics.ballot_messages import LiveMessages
from channels.telegram.topics.render import TopicRenderer
from locales import Translator

log = logging.getLogger(__name__)

STOP_GRACE = 10.0  # seconds a graceful stop lets the sends in flight finish


class Runtime:
    def __init__(
        self,
        bot: ExtBot[None],
        services: Services,
        translator: Translator,
        *,
        tally_interval: float,
    ) -> None:
        self.services = services
        settings = services.settings
        pages = PageButtons(
            WebLinks.of(settings), translator, bot.username, settings.telegram_miniapp
        )
        self.renderer = TopicRenderer(
            translator, services.catalogue, settings.zone, bot.username, pages
        )
        self.live = LiveMessages(bot, services, self.renderer, interval=tally_interval)
        self.escalation_renderer = EscalationRenderer(translator, settings.zone, pages)
        self.cards = EscalationCards(bot, services, self.escalation_renderer)
        self.membership = TelegramMembership(bot)
        self.digest_renderer = DigestRenderer(
            translator, services.catalogue, services.settings.zone
        )
        self.meeting_renderer = MeetingRenderer(translator, settings.zone, pages)
        announcements = TelegramAnnouncements(
            services,
            translator,
            self.renderer,
            self.escalation_renderer,
            self.digest_renderer,
        )
        self.reminders = LiveReminders(
            bot, services, self.meeting_renderer, interval=tally_interval
        )
        self.registration_cards = RegistrationCards(
            bot, services, translator, interval=tally_interval
        )
        services.outbox.attach(TelegramAnnouncer(bot, services, announcements))
        services.bus.subscribe(self.on_events)
        self._background: set[asyncio.Task[object]] = set()
        self._stopped = False
        # Questions the bot asked by a reply (a decision, a reason), keyed by (chat, message).
        self.prompts: dict[tuple[int, int], Prompt] = {}

    async def start(self) -> None:
        """Catch up on what fell due while the bot was down, then keep time."""
        await self.services.digest.ensure_schedule()
        await self.services.timers.run_due()
        # Messages that may have missed an edit while we were down, refreshed in the background.
        self.live.touch_later(await self.services.topics.open_topic_ids())
        for escalation_id in await self.services.escalation.cards_to_refresh():
            self.cards.touch(escalation_id)
        self.reminders.touch_later(await self.services.meetings.occurrences_to_refresh())
        self.registration_cards.touch_later(await self.services.registration.cards_to_refresh())
        self.spawn(self.services.outbox.flush())
        self.services.timers.start()

    async def stop(self) -> None:
        """A graceful stop (SIGTERM, SIGINT): nothing new is sent; the sends in flight finish
        and are recorded, for at most ``STOP_GRACE`` seconds in all, and what is left waits
        for the next start (docs/RELIABILITY.md). Called again, it does nothing."""
        if self._stopped:
            return
        self._stopped = True
        self.services.timers.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_GRACE
        log.info("stopping: finishing the sends in flight (at most %.0f s)", STOP_GRACE)
        if not await self.services.outbox.drain(STOP_GRACE):
            log.warning("stopping with outbox messages still being sent; the next start sends them")

        left = max(deadline - loop.time(), 0.0)
        await asyncio.gather(
            self.cards.close(left),
            self.reminders.close(left),
            self.live.close(left),
            self.registration_cards.close(left),
        )
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def on_events(self, events: Sequence[DomainEvent]) -> None:
        """The domain's events, published after their commit: during an update, acted on once
        its handler answered; else at once."""
        if not after_the_answer(functools.partial(self._act_on, events)):
            self._act_on(events)

    def _act_on(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            if isinstance(event, TopicChanged):
                self.live.touch(event.topic_id)
            elif isinstance(event, EscalationChanged):
                self.cards.touch(event.escalation_id)
            elif isinstance(event, MeetingChanged):
                self.reminders.touch(event.occurrence_id)
            elif isinstance(event, RegistrationCardChanged):
                self.registration_cards.touch(event.node_id)
        if any(isinstance(event, OutboxQueued) for event in events):
            self.spawn(self.services.outbox.flush())

    async def settle(self) -> None:
        """Wait for pending refreshes and deliveries (tests and the demo)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        await self.services.outbox.flush()
        await self.live.idle()
        await self.cards.idle()
        await self.reminders.idle()
        await self.registration_cards.idle()
        await self.services.outbox.flush()

    def spawn(self, work: Coroutine[Any, Any, object]) -> None:
        """Run ``work`` in the background: ``settle`` waits for it, ``stop`` cancels it."""
        task: asyncio.Task[object] = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
