"""WeCom's running parts, wired to the services: the long connection (or, in callback mode,
the HTTP server WeCom posts to: channels/wecom/callback_server.py), the adapter that answers
their callbacks, the outbox's announcer for WeCom chats, subscribed to the domain's
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
from dataclasses import dataclass
from typing import Any, Protocol

from bot.services import Services
from bot.services.events import (
    DomainEvent,
    EscalationChanged,
    MeetingChanged,
    OutboxQueued,
    TopicChanged,
)
from bot.services.web_links import WebLinks
from bot.settings import Settings
from channels.common.answering import after_the_answer
from channels.wecom.adapter import WeComAdapter
from channels.wecom.announcer import WeComAnnouncer
from channels.wecom.callback_server import CallbackServer
from channels.wecom.cards import WeComViews
from channels.wecom.connection import DEFAULT_URL, LongConnection
from channels.wecom.crypto import WeComCrypto
from channels.wecom.escalation import WeComEscalationCards
from channels.wecom.push import PushWebhooks
from channels.wecom.renderers import WeComAnnouncements
from channels.wecom.replies import WeComReplies
from channels.wecom.text import WeComText
from channels.wecom.topics import WeComBallots
from locales import Translator
from storage.records import Platform

log = logging.getLogger(__name__)

STOP_GRACE = 10.0


class WeComTransport(WeComReplies, Protocol):
    """How callbacks come in and answers go out: the long connection, or the callback server."""

    async def start(self) -> None: ...

    async def wait_subscribed(self, timeout: float = 10.0) -> None: ...  # noqa: ASYNC109

    async def stop(self) -> None: ...

    async def wait_stopped(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CallbackMode:
    """Callback mode's settings: the bot's Token and EncodingAESKey, the address to serve."""

    token: str
    aes_key: str
    host: str = "127.0.0.1"
    port: int = 0


BACKGROUND_GRACE = 2.0  # seconds the syncs under way get to finish when the channel stops


class WeComChannel:
    def __init__(
        self,
        services: Services,
        translator: Translator,
        *,
        url: str = DEFAULT_URL,
        bot_id: str = "",
        secret: str = "",
        callback: CallbackMode | None = None,
        keeps_time: bool = True,
        ping_interval: float = 30.0,
    ) -> None:
        """On the long connection (``url``, ``bot_id``, ``secret``), or with ``callback`` in
        callback mode."""
        self.services = services
        self.keeps_time = keeps_time
        self.text = WeComText(translator, services.settings.zone)
        self.views = WeComViews(self.text, WebLinks.of(services.settings))
        self.announcements = WeComAnnouncements(services, self.text, self.views)
        self.connection: WeComTransport
        if callback is None:
            self.connection = LongConnection(
                url, bot_id, secret, self._on_callback, ping_interval=ping_interval
            )
        else:
            self.connection = CallbackServer(
                WeComCrypto(callback.token, callback.aes_key),
                self._on_callback,
                host=callback.host,
                port=callback.port,
                clock=lambda: services.clock.now().timestamp(),
            )
        self.pushes = PushWebhooks()
        self.adapter = WeComAdapter(
            services, self.connection, self.text, self.views, pushes=self.pushes
        )
        self.ballots = WeComBallots(services, self.views, self.connection)
        self.escalation_cards = WeComEscalationCards(services, self.views, self.connection)
        announcer = WeComAnnouncer(
            services, self.connection, self.announcements, self.text, self.pushes
        )
        services.outbox.attach(announcer, Platform.WECOM)
        services.bus.subscribe(self.on_events)
        self._background: set[asyncio.Task[object]] = set()

    @classmethod
    def from_settings(
        cls,
        services: Services,
        translator: Translator,
        settings: Settings,
        *,
        callback: bool,
        keeps_time: bool = True,
    ) -> WeComChannel:
        """The channel the YISHI_WECOM_* settings describe: in callback mode, or on the long
        connection (ValueError if they are missing: run.missing_setting explains them)."""
        if callback:
            if settings.wecom_token is None or settings.wecom_aes_key is None:
                raise ValueError("YISHI_WECOM_TOKEN and YISHI_WECOM_AES_KEY are required")
            host, port = settings.wecom_address
            mode = CallbackMode(
                settings.wecom_token.get_secret_value(),
                settings.wecom_aes_key.get_secret_value(),
                host,
                port,
            )
            return cls(services, translator, callback=mode, keeps_time=keeps_time)
        if settings.wecom_bot_id is None or settings.wecom_secret is None:
            raise ValueError("YISHI_WECOM_BOT_ID and YISHI_WECOM_SECRET are required")
        return cls(
            services,
            translator,
            url=settings.wecom_ws_url,
            bot_id=settings.wecom_bot_id,
            secret=settings.wecom_secret.get_secret_value(),
            keeps_time=keeps_time,
        )

    def _on_callback(self, frame: dict[str, Any]) -> Coroutine[Any, Any, None]:
        """The adapter's handling of ``frame`` (the adapter is made after the connection it
        answers on). A plain function, not a coroutine of its own: the long connection runs
        what it returns as the callback's task, and a coroutine here would be one more frame
        to resume at each of the callback's awaits."""
        return self.adapter.on_callback(frame)

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
        for occurrence_id in await self.services.meetings.occurrences_to_refresh():
            self.spawn(self.adapter.meeting_cards.sync(occurrence_id))

    async def stop(self) -> None:
        if self.keeps_time:
            self.services.timers.stop()
        if not await self.services.outbox.drain(STOP_GRACE):
            log.warning("stopping with outbox messages still being sent; the next start sends them")
        await self.ballots.close()
        await self.escalation_cards.close()
        if self._background:  # a sync cut off mid-transaction would leave its connection open
            await asyncio.wait(list(self._background), timeout=BACKGROUND_GRACE)
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
        for occurrence_id in {e.occurrence_id for e in events if isinstance(e, MeetingChanged)}:
            self.spawn(self.adapter.meeting_cards.sync(occurrence_id))

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
    the same services once they are up (channels.telegram.app's Companion), on the long
    connection or in callback mode; Telegram keeps the time, one outbox sends each chat's mail
    through its platform's announcer."""

    def __init__(self, settings: Settings, translator: Translator, *, callback: bool = False):
        self._settings = settings
        self._translator = translator
        self._callback = callback
        self.channel: WeComChannel | None = None

    async def start(self, services: Services) -> None:
        self.channel = WeComChannel.from_settings(
            services, self._translator, self._settings, callback=self._callback, keeps_time=False
        )
        await self.channel.start(wait=None)  # the long connection keeps trying in the background
        how = "in callback mode" if self._callback else f"bot {self._settings.wecom_bot_id}"
        log.info("WeCom runs beside Telegram (%s)", how)

    async def stop(self) -> None:
        channel, self.channel = self.channel, None
        if channel is not None:
            await channel.stop()
