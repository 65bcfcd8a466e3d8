"""WeCom's running parts, wired to the services: the long connection, the adapter that
answers its callbacks, the outbox's announcer for WeCom chats, subscribed to the domain's
events (mail in the outbox is sent at once).

``keeps_time``: this channel runs the due work (catch-up at start, then APScheduler) — true
when WeCom is the only channel of the process; with Telegram beside it, Telegram's runtime
does.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from bot.services import Services
from bot.services.events import DomainEvent, EscalationChanged, OutboxQueued, TopicChanged
from bot.settings import Settings
from channels.common.answering import after_the_answer
from channels.wecom.adapter import WeComAdapter
from channels.wecom.announcer import WeComAnnouncer
from channels.wecom.cards import WeComViews
from channels.wecom.connection import LongConnection
from channels.wecom.escalation import WeComEscalationCards
from channels.wecom.push import PushWebhooks
from channels.wecom.renderers import WeComAnnouncements
from channels.wecom.text import WeComText
from channels.wecom.topics import WeComBallots
from locales import Translator
from storage.records import Platform

log = logging.getLogger(__name__)

STOP_GRACE = 10.0


class WeComChannel:
    def __init__(
        self,
        services: Services,
        translator: Translator,
        *,
        url: str,
        bot_id: str,
        secret: str,
        keeps_time: bool = True,
        ping_interval: float = 30.0,
    ) -> None:
        self.services = services
        self.keeps_time = keeps_time
        self.text = WeComText(translator, services.settings.zone)
        self.views = WeComViews(self.text)
        self.announcements = WeComAnnouncements(services, self.text, self.views)
        self.connection = LongConnection(
            url, bot_id, secret, self._on_callback, ping_interval=ping_interval
        )
        self.adapter = WeComAdapter(services, self.connection, self.text, self.views)
        self.ballots = WeComBallots(services, self.views, self.connection)
        self.escalation_cards = WeComEscalationCards(services, self.views, self.connection)
        self.pushes = PushWebhooks()
        announcer = WeComAnnouncer(
            services, self.connection, self.announcements, self.text, self.pushes
        )
        services.outbox.attach(announcer, Platform.WECOM)
        services.bus.subscribe(self.on_events)
        self._background: set[asyncio.Task[object]] = set()

    async def _on_callback(self, frame: dict[str, Any]) -> None:
        await self.adapter.on_callback(frame)

    async def start(self, *, wait: float | None = 10.0) -> None:
        """Connect (waiting up to ``wait`` seconds for the subscription), then catch up."""
        await self.connection.start()
        if wait is not None:
            await self.connection.wait_subscribed(wait)
        if self.keeps_time:
            await self.services.digest.ensure_schedule()
            await self.services.timers.run_due()
            self.services.timers.start()
        # Cards that may not have gone out while we were down (or not connected).
        self.ballots.touch_all(await self.services.topics.open_topic_ids())
        self.escalation_cards.touch_all(await self.services.escalation.cards_to_refresh())
        self.spawn(self.services.outbox.flush())

    async def stop(self) -> None:
        if self.keeps_time:
            self.services.timers.stop()
        if not await self.services.outbox.drain(STOP_GRACE):
            log.warning("stopping with outbox messages still being sent; the next start sends them")
        await self.ballots.close()
        await self.escalation_cards.close()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.connection.stop()

    async def on_events(self, events: Sequence[DomainEvent]) -> None:
        """The domain's events, published after their commit: during a callback (of either
        channel), acted on once it was answered; else at once."""
        if not after_the_answer(functools.partial(self._act_on, events)):
            self._act_on(events)

    def _act_on(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            if isinstance(event, TopicChanged):
                self.ballots.touch(event.topic_id)
            elif isinstance(event, EscalationChanged):
                self.escalation_cards.touch(event.escalation_id)
        if any(isinstance(event, OutboxQueued) for event in events):
            self.spawn(self.services.outbox.flush())

    async def settle(self) -> None:
        """Wait for the deliveries under way (tests and the demo)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        await self.ballots.idle()
        await self.escalation_cards.idle()
        await self.services.outbox.flush()

    def spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task: asyncio.Task[object] = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


class WeComBeside:
    """WeCom in a process Telegram runs (``yishi run --channel both``): the channel built on
    the same services once they are up (channels.telegram.app's Companion); Telegram keeps the
    time, one outbox sends each chat's mail through its platform's announcer."""

    def __init__(self, settings: Settings, translator: Translator) -> None:
        if settings.wecom_bot_id is None or settings.wecom_secret is None:
            raise ValueError("YISHI_WECOM_BOT_ID and YISHI_WECOM_SECRET are required")
        self._settings = settings
        self._translator = translator
        self.channel: WeComChannel | None = None

    async def start(self, services: Services) -> None:
        settings = self._settings
        assert settings.wecom_bot_id is not None and settings.wecom_secret is not None
        self.channel = WeComChannel(
            services,
            self._translator,
            url=settings.wecom_ws_url,
            bot_id=settings.wecom_bot_id,
            secret=settings.wecom_secret.get_secret_value(),
            keeps_time=False,
        )
        await self.channel.start(wait=None)  # the connection keeps trying in the background
        log.info("WeCom runs beside Telegram (bot %s)", settings.wecom_bot_id)

    async def stop(self) -> None:
        channel, self.channel = self.channel, None
        if channel is not None:
            await channel.stop()
