"""Wiring: ``build_application(settings)`` is the one place the bot is put together."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter, ContextTypes
from telegram.request import BaseRequest

from bot.catalogue import Catalogue, load_catalogue
from bot.clock import Clock, FileClock, SystemClock
from bot.gc_tuning import tune_garbage_collector
from bot.health import Check, Health, PollWatch
from bot.health_server import HealthServer
from bot.holiday_calendar import warn_if_holiday_calendar_is_stale
from bot.lease import InstanceLease
from bot.metrics import Metrics
from bot.redaction import SECRETS
from bot.services import Services
from bot.settings import Settings
from channels.telegram.command_menu import publish_command_menus
from channels.telegram.context import AppContext, BotData
from channels.telegram.handlers import register_handlers
from channels.telegram.inbox import Inbox, InboxGate, PollingBot
from channels.telegram.ratelimit import SendRateLimiter
from channels.telegram.runtime import Runtime
from channels.telegram.transport import build_requests
from channels.telegram.webhook import WebhookUpdater, stored_secret
from locales import Translator
from storage import migrate
from storage.database import Database

log = logging.getLogger(__name__)


class Companion(Protocol):
    """Another channel in the same process (WeCom beside Telegram): started on the same
    services once they are up, before the catch-up of due work; stopped after Telegram."""

    async def start(self, services: Services) -> None: ...

    async def stop(self) -> None: ...


YishiApplication = Application[Any, AppContext, dict[Any, Any], dict[Any, Any], BotData, Any]

CONCURRENT_UPDATES = 256
TELEGRAM_BASE_URL = "https://api.telegram.org/bot"

# The updates the bot asks Telegram for; chat_member must be requested explicitly.
ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "chat_member",
]


def file_url_for(base_url: str) -> str:
    """``http://host/bot`` -> ``http://host/file/bot`` (where Telegram serves files)."""
    return base_url[: -len("bot")] + "file/bot"


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    migrate_on_start: bool = True,
    tally_interval: float = 3.0,
    tune_gc: bool = False,
    request: BaseRequest | None = None,
    serve_health: bool = False,
    companions: Sequence[Companion] = (),
) -> YishiApplication:
    """Build the PTB application; storage opens in ``post_init`` and closes in ``post_shutdown``.

    ``serve_health``: serve /healthz, /readyz and /metrics on ``YISHI_HEALTH_LISTEN`` (``yishi
    run`` does; tests and the demo ask for it when they want it). ``companions``: the other
    channels of the process (``yishi run --channel both``); Telegram keeps the time.
    """
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to build the application")
    translator = Translator(settings.locale)
    catalogue = load_catalogue(settings.catalog)  # a bad file is refused before anything runs
    the_clock = clock or SystemClock()
    # Updates are stored before getUpdates confirms them (channels/telegram/inbox.py) and handled
    # concurrently, in order per chat and per user (channels/telegram/ordering.py), so writes
    # group-commit.
    metrics = Metrics()  # this application's registry (bot/metrics.py)
    inbox = Inbox(concurrent_updates=CONCURRENT_UPDATES, metrics=metrics)
    lease = InstanceLease(ttl=settings.lease_ttl)  # one instance per database (bot/lease.py)

    lifecycle = _Lifecycle(
        settings,
        the_clock,
        translator,
        catalogue,
        inbox,
        lease,
        realtime=clock is None,
        migrate_on_start=migrate_on_start,
        serve_health=serve_health,
        tally_interval=tally_interval,
        tune_gc=tune_gc,
        metrics=metrics,
        companions=companions,
    )
    # ``request`` (benchmarks, tests) replaces the HTTP transport for every call.
    request, get_updates_request = (
        (request, request)
        if request is not None
        else build_requests(settings.http_client, metrics=metrics)
    )
    polls = PollWatch(get_updates_request)  # when getUpdates last answered (readiness)
    base_url = settings.telegram_base_url or TELEGRAM_BASE_URL
    # PollingBot reads each fetched update alone: one it cannot parse does not stall polling.
    bot = PollingBot(
        token=settings.telegram_bot_token.get_secret_value(),
        base_url=base_url,
        base_file_url=file_url_for(base_url),
        request=request,
        get_updates_request=InboxGate(polls, inbox),
        rate_limiter=rate_limiter or SendRateLimiter(max_retries=3, metrics=metrics),
        fetched=inbox.fetched,
    )

    # The updater polls as python-telegram-bot's does, and serves webhooks itself
    # (channels/telegram/webhook.py).
    updater = WebhookUpdater(bot, inbox, secret=lifecycle.webhook_secret)
    health = lifecycle.health = Health(
        lease=lease,
        metrics=metrics,
        updates=lambda: _receiving(updater, polls),
        clock=the_clock,
    )
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .updater(updater)
        .context_types(ContextTypes(context=AppContext, bot_data=BotData))
        .concurrent_updates(inbox.processor)
        .post_init(lifecycle.post_init)
        .post_stop(lifecycle.post_stop)
        .post_shutdown(lifecycle.post_shutdown)
    )
    application: YishiApplication = builder.build()
    lifecycle.application = application
    application.bot_data.configure(settings, the_clock, translator)
    application.bot_data.health = health
    register_handlers(application)
    return application


def _receiving(updater: WebhookUpdater, polls: PollWatch) -> Check:
    """Readiness: whether updates come in (a webhook Telegram accepted, or polling answered)."""
    if updater.webhook_set:
        return Check(True, "webhook: set, Telegram posts to our server")
    if updater.serving_webhook:
        return Check(False, "webhook: Telegram has not accepted setWebhook yet")
    if not updater.running:
        return Check(False, "not receiving updates (starting or stopping)")
    return polls.check()


class _Lifecycle:
    """What the application does as it starts, stops and shuts down (PTB's post_init,
    post_stop and post_shutdown): storage, the lease, the health server, the services and the
    adapter's Runtime open at start and close, in reverse, at the end."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        translator: Translator,
        catalogue: Catalogue,
        inbox: Inbox,
        lease: InstanceLease,
        *,
        realtime: bool,
        migrate_on_start: bool,
        serve_health: bool,
        tally_interval: float,
        tune_gc: bool,
        metrics: Metrics,
        companions: Sequence[Companion],
    ) -> None:
        self.settings, self.clock, self.translator = settings, clock, translator
        self.catalogue, self.inbox, self.lease = catalogue, inbox, lease
        self.realtime, self.migrate_on_start = realtime, migrate_on_start
        self.serve_health, self.tally_interval, self.tune_gc = serve_health, tally_interval, tune_gc
        self.metrics = metrics
        self.companions = companions
        self.health: Health | None = None  # set once built (it needs the updater)
        self.application: YishiApplication | None = None

    async def post_init(self, application: YishiApplication) -> None:
        settings, health = self.settings, self.health
        assert health is not None
        warn_if_holiday_calendar_is_stale(self.clock.now(), settings.zone)
        database = Database(settings.database_url)
        if self.migrate_on_start:
            await migrate.upgrade(database)
        try:
            await self.lease.acquire(database)  # raises InstanceRunning
        except BaseException:
            await database.close()
            raise
        self.lease.keep(on_lost=application.stop_running)
        health.database = database
        address = settings.health_address
        if self.serve_health and address is not None:
            server = HealthServer(health)
            if await server.start(*address):
                application.bot_data.health_server = server
        self.inbox.open(database, self.clock)
        services = Services.build(
            database,
            self.clock,
            settings,
            self.catalogue,
            realtime=self.realtime,
            metrics=self.metrics,
        )
        application.bot_data.services = services
        runtime = Runtime(
            application.bot, services, self.translator, tally_interval=self.tally_interval
        )
        application.bot_data.runtime = runtime
        await publish_command_menus(application.bot, self.translator)
        for companion in self.companions:  # before the catch-up: its mail has an announcer
            await companion.start(services)
        await runtime.start()
        await self.inbox.replay(application.bot)
        if isinstance(self.clock, FileClock):
            self.clock.start_watching(services.timers.run_due)
        if self.tune_gc:
            tune_garbage_collector()

    async def post_stop(self, application: YishiApplication) -> None:
        # No new updates come now; the sends in flight finish while the bot's HTTP client is
        # still open (``Application.shutdown``, next, closes it): a graceful stop.
        runtime = application.bot_data._runtime
        if runtime is not None:
            await runtime.stop()
        for companion in self.companions:
            await companion.stop()

    async def post_shutdown(self, application: YishiApplication) -> None:
        server, application.bot_data.health_server = application.bot_data.health_server, None
        if server is not None:
            await server.stop()
        if self.health is not None:
            self.health.database = None
        if isinstance(self.clock, FileClock):
            await self.clock.stop_watching()
        runtime = application.bot_data._runtime
        if runtime is not None:
            await runtime.stop()
            application.bot_data.runtime = None
        for companion in self.companions:
            await companion.stop()
        self.inbox.close()
        await self.lease.release()
        services = application.bot_data._services
        if services is not None:
            await services.outbox.close()  # its wake-ups for retries
            await services.database.close()
            application.bot_data.services = None

    async def webhook_secret(self) -> str:
        """YISHI_WEBHOOK_SECRET, or the one generated on the first start and kept."""
        if self.settings.webhook_secret is not None:
            return self.settings.webhook_secret.get_secret_value()
        assert self.application is not None
        secret = await stored_secret(self.application.bot_data.services.database, self.clock)
        SECRETS.add(secret)  # generated, not configured: the logs learn it now
        return secret


async def start_polling(application: YishiApplication, *, poll_timeout: int = 10) -> None:
    """What ``Application.run_polling`` does before it blocks, for callers owning the loop."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
    )
    await application.start()


async def stop_polling(application: YishiApplication) -> None:
    """The shutdown half of ``Application.run_polling``."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)
