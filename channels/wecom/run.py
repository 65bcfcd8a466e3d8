"""``yishi run --channel wecom``: Yishi on WeCom alone, on the long connection.

The same database steps as a Telegram run: migrations, the instance lease (a second instance
on the database refuses to start), the services; then the WeCom channel (which keeps the due
work), until SIGTERM or SIGINT, and a graceful stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from bot.catalogue import Catalogue, CatalogueError, load_catalogue
from bot.clock import Clock, SystemClock
from bot.gc_tuning import tune_garbage_collector
from bot.lease import InstanceLease, InstanceRunning
from bot.services import Services
from bot.settings import Settings
from channels.wecom.channel import WeComChannel
from locales import Translator
from storage import migrate
from storage.database import Database

log = logging.getLogger(__name__)

EXIT_USAGE = 2

MISSING = """\
{variable} is not set, so Yishi cannot connect to WeCom.

  1. In the WeCom admin console, create an AI bot (智能机器人) in API mode and choose the
     long connection (长连接); it shows the BotID and the Secret.
  2. Put them in the environment or in a .env file:
       YISHI_WECOM_BOT_ID=...
       YISHI_WECOM_SECRET=...
  3. Run `yishi run --channel wecom` again.
"""


def missing_setting(settings: Settings) -> str | None:
    """What stops a WeCom run before it starts: the first variable missing, explained."""
    if settings.wecom_bot_id is None:
        return MISSING.format(variable="YISHI_WECOM_BOT_ID")
    if settings.wecom_secret is None:
        return MISSING.format(variable="YISHI_WECOM_SECRET")
    return None


def run(settings: Settings, clock: Clock | None = None) -> int:
    """The process's exit status: 0 after a graceful stop, 2 when it cannot start."""
    problem = missing_setting(settings)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_USAGE
    try:
        catalogue = load_catalogue(settings.catalog)
    except CatalogueError as error:
        print(f"The consultation catalogue (YISHI_CATALOG) is not valid:\n{error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(_serve(settings, clock, catalogue))
    except InstanceRunning as refused:
        print(refused, file=sys.stderr)
        return EXIT_USAGE
    return 0


async def _serve(settings: Settings, clock: Clock | None, catalogue: Catalogue) -> None:
    assert settings.wecom_bot_id is not None and settings.wecom_secret is not None
    database = Database(settings.database_url)
    lease = InstanceLease(ttl=settings.lease_ttl)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await migrate.upgrade(database)
        await lease.acquire(database)  # raises InstanceRunning
        lease.keep(on_lost=stopping.set)
        services = Services.build(
            database,
            clock or SystemClock(),
            settings,
            catalogue,
            realtime=clock is None,
        )
        channel = WeComChannel(
            services,
            Translator(settings.locale),
            url=settings.wecom_ws_url,
            bot_id=settings.wecom_bot_id,
            secret=settings.wecom_secret.get_secret_value(),
        )
        tune_garbage_collector()  # what start-up built lives as long as the process
        await channel.start(wait=None)  # the connection keeps trying in the background
        log.info("Yishi is running on WeCom (bot %s)", settings.wecom_bot_id)
        kicked = asyncio.ensure_future(channel.connection.wait_stopped())
        waiting = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({kicked, waiting}, return_when=asyncio.FIRST_COMPLETED)
        for task in (kicked, waiting):
            task.cancel()
        log.info("stopping: finishing the sends in flight")
        await channel.stop()
        await services.outbox.close()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
        await lease.release()
        await database.close()
