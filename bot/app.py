"""Wiring: ``build_application(settings)`` is the one place the bot is put together."""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes

from bot.catalogue import load_catalogue
from bot.clock import Clock, SystemClock
from bot.services import Services
from bot.settings import Settings
from handlers import register_handlers
from handlers.command_menu import publish_command_menus
from handlers.context import AppContext, BotData
from handlers.runtime import Runtime
from locales import Translator
from storage import migrate
from storage.database import Database

log = logging.getLogger(__name__)

YishiApplication = Application[Any, AppContext, dict[Any, Any], dict[Any, Any], BotData, Any]

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
    rate_limiter: AIORateLimiter | None = None,
    migrate_on_start: bool = True,
    tally_interval: float = 3.0,
) -> YishiApplication:
    """Build the PTB application; storage opens in ``post_init`` and closes in ``post_shutdown``."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to build the application")
    translator = Translator(settings.locale)
    catalogue = load_catalogue(settings.catalog)  # a bad file is refused before anything runs
    the_clock = clock or SystemClock()

    async def post_init(application: YishiApplication) -> None:
        database = Database(settings.database_url)
        if migrate_on_start:
            await migrate.upgrade(database)
        services = Services.build(database, the_clock, settings, catalogue, realtime=clock is None)
        application.bot_data.services = services
        runtime = Runtime(application.bot, services, translator, tally_interval=tally_interval)
        application.bot_data.runtime = runtime
        await publish_command_menus(application.bot, translator)
        await runtime.start()

    async def post_shutdown(application: YishiApplication) -> None:
        runtime = application.bot_data._runtime
        if runtime is not None:
            await runtime.stop()
            application.bot_data.runtime = None
        services = application.bot_data._services
        if services is not None:
            await services.database.close()
            application.bot_data.services = None

    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .context_types(ContextTypes(context=AppContext, bot_data=BotData))
        .rate_limiter(rate_limiter or AIORateLimiter(max_retries=3))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if settings.telegram_base_url:
        builder = builder.base_url(settings.telegram_base_url).base_file_url(
            file_url_for(settings.telegram_base_url)
        )
    application: YishiApplication = builder.build()
    application.bot_data.configure(settings, the_clock, translator)
    register_handlers(application)
    return application


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
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)
