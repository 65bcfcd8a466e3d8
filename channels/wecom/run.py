"""``yishi run --channel wecom``: Yishi on WeCom alone, on the long connection, or with
``--wecom-callback`` in callback mode (WeCom posts to the bot's public HTTPS URL).

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
from channels.common.listening import CannotListen
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


MISSING_CALLBACK = """\
{variable} is not set, so Yishi cannot serve WeCom's callbacks.

  1. In the WeCom admin console, open the AI bot (智能机器人, API mode) and choose to receive
     messages at a URL (设置接收消息回调地址): the URL is your public HTTPS address with the
     path /wecom/callback; take the Token and the EncodingAESKey it shows (or generates).
  2. Put them in the environment or in a .env file:
       YISHI_WECOM_TOKEN=...
       YISHI_WECOM_AES_KEY=...      (43 characters)
       YISHI_WECOM_LISTEN=127.0.0.1:8444   (where your TLS reverse proxy forwards to)
  3. Run `yishi run --channel wecom --wecom-callback` again, then save the URL in the console
     (WeCom checks it at once).
"""


def missing_setting(settings: Settings, callback: bool = False) -> str | None:
    """What stops a WeCom run before it starts: the first variable missing, explained."""
    if callback:
        if settings.wecom_token is None:
            return MISSING_CALLBACK.format(variable="YISHI_WECOM_TOKEN")
        if settings.wecom_aes_key is None:
            return MISSING_CALLBACK.format(variable="YISHI_WECOM_AES_KEY")
        return None
    if settings.wecom_bot_id is None:
        return MISSING.format(variable="YISHI_WECOM_BOT_ID")
    if settings.wecom_secret is None:
        return MISSING.format(variable="YISHI_WECOM_SECRET")
    return None


def run(settings: Settings, clock: Clock | None = None, *, callback: bool = False) -> int:
    """The process's exit status: 0 after a graceful stop, 2 when it cannot start."""
    problem = missing_setting(settings, callback)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_USAGE
    try:
        catalogue = load_catalogue(settings.catalog)
    except CatalogueError as error:
        print(f"The consultation catalogue (YISHI_CATALOG) is not valid:\n{error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(_serve(settings, clock, catalogue, callback))
    except (InstanceRunning, CannotListen) as refused:
        print(refused, file=sys.stderr)
        return EXIT_USAGE
    return 0


async def _serve(
    settings: Settings, clock: Clock | None, catalogue: Catalogue, callback: bool
) -> None:
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
        channel = WeComChannel.from_settings(
            services, Translator(settings.locale), settings, callback=callback
        )
        tune_garbage_collector()  # what start-up built lives as long as the process
        web = None
        try:
            await channel.start(wait=None)  # the long connection keeps trying in the background
            if settings.public_url is not None:
                from channels.web.channel import WebBeside

                web = WebBeside(settings, Translator(settings.locale))
                await web.start(services)
        except CannotListen:
            await channel.stop()
            await services.outbox.close()
            raise
        how = (
            "in callback mode" if callback else f"on the long connection ({settings.wecom_bot_id})"
        )
        log.info("Yishi is running on WeCom %s", how)
        kicked = asyncio.ensure_future(channel.connection.wait_stopped())
        waiting = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({kicked, waiting}, return_when=asyncio.FIRST_COMPLETED)
        for task in (kicked, waiting):
            task.cancel()
        log.info("stopping: finishing the sends in flight")
        if web is not None:
            await web.stop()
        await channel.stop()
        await services.outbox.close()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
        await lease.release()
        await database.close()
