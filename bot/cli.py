"""``yishi run | status | demo | db upgrade|backup|restore|downgrade`` (``python -m bot`` is the
same)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import db_maintenance
from bot.clock import FileClock
from bot.environment_help import environment_help
from bot.log_output import configure_logging
from bot.redaction import keep_secrets_out_of_output, register_settings
from bot.settings import Settings, SettingsError, load_logging_settings, load_settings

if TYPE_CHECKING:
    from channels.telegram.app import Companion

EXIT_USAGE = 2

NO_TOKEN = """\
TELEGRAM_BOT_TOKEN is not set, so Yishi cannot connect to Telegram.

  1. Open Telegram, talk to @BotFather, send /newbot and follow the steps.
  2. Put the token it gives you in the environment or in a .env file:
       TELEGRAM_BOT_TOKEN=123456789:AA...
  3. Run `yishi run` again.

To see the bot work without a token or network, run `yishi demo`.
"""


NO_WEBHOOK_URL = """\
Webhook mode needs the public https URL Telegram posts updates to: --webhook-url or
YISHI_WEBHOOK_URL (e.g. https://bot.example.org/telegram, served by a TLS reverse proxy that
forwards to YISHI_WEBHOOK_LISTEN:YISHI_WEBHOOK_PORT; see README.md)."""


TOKEN_REJECTED = """\
Telegram did not accept TELEGRAM_BOT_TOKEN (401 Unauthorized or 404 Not Found). Check the
token @BotFather gave you, and that TELEGRAM_BASE_URL (if set) points to a Bot API server."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="yishi",
        description="Yishi (议事): group consultation for 楼栋, 网格 and 社区 chats.",
        epilog=environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument(
        "--channel",
        choices=["telegram", "wecom", "both"],
        help="where people use it: Telegram, WeCom (on its long connection), or both in one "
        "process; by default, what is configured (TELEGRAM_BOT_TOKEN, YISHI_WECOM_BOT_ID)",
    )
    run.add_argument(
        "--wecom-callback",
        action="store_true",
        help="WeCom in callback mode: WeCom posts to YISHI_WECOM_LISTEN (YISHI_WECOM_TOKEN, "
        "YISHI_WECOM_AES_KEY) instead of the long connection",
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates by webhook (the default when YISHI_WEBHOOK_URL is set)",
    )
    run.add_argument(
        "--webhook-url", help="public https URL Telegram posts updates to (YISHI_WEBHOOK_URL)"
    )
    run.add_argument(
        "--listen", help="address the webhook server binds (YISHI_WEBHOOK_LISTEN, 127.0.0.1)"
    )
    run.add_argument(
        "--port", type=int, help="port the webhook server binds (YISHI_WEBHOOK_PORT, 8443)"
    )
    commands.add_parser(
        "status",
        help="is the bot running and ready? (from the database; exit status 0 when ready)",
    )
    demo = commands.add_parser("demo", help="play a scripted consultation against an emulator")
    demo.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the demo")
    demo.add_argument(
        "--channel",
        choices=["telegram", "wecom"],
        default="telegram",
        help="play it on Telegram (the default) or on WeCom, each against its emulator",
    )
    demo.add_argument("--db", help="keep the demo's SQLite database at this path")
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply schema migrations")
    db_maintenance.add_commands(db_commands)
    return parser


def _version() -> str:
    try:
        return version("yishi")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _settings(**overrides: Any) -> Settings:
    try:
        settings = load_settings(**overrides)
    except SettingsError as error:
        print(f"Configuration error:\n{error}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    register_settings(settings)  # every secret it holds is cut out of the logs from now on
    return settings


def configured_channel(settings: Settings, wecom_callback: bool = False) -> str:
    """The channels ``yishi run`` runs when none is named: those configured (Telegram when
    neither is, to say what it needs); ``--wecom-callback`` asks for WeCom."""
    telegram = settings.telegram_bot_token is not None
    wecom = settings.wecom_bot_id is not None or wecom_callback
    if telegram and wecom:
        return "both"
    return "wecom" if wecom else "telegram"


def _run(args: argparse.Namespace) -> int:
    # The command line's webhook options override the environment's.
    flags = {
        "webhook_url": args.webhook_url,
        "webhook_listen": args.listen,
        "webhook_port": args.port,
    }
    settings = _settings(**{name: value for name, value in flags.items() if value is not None})
    channel = args.channel or configured_channel(settings, args.wecom_callback)
    if channel == "wecom":
        from channels.wecom.run import run as run_wecom

        return run_wecom(settings, clock=_test_clock(), callback=args.wecom_callback)
    if args.wecom_callback and channel == "telegram":
        print(
            "--wecom-callback is for --channel wecom or both; Telegram has --webhook",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if settings.telegram_bot_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return EXIT_USAGE
    from channels.telegram.ptb import import_ptb

    import_ptb()  # before anything imports PTB: without cryptography, 8 MB less
    companions: list[Companion] = []
    if channel == "both":
        from channels.wecom.channel import WeComBeside
        from channels.wecom.run import missing_setting
        from locales import Translator

        problem = missing_setting(settings, args.wecom_callback)
        if problem is not None:
            print(problem, file=sys.stderr)
            return EXIT_USAGE
        beside = WeComBeside(settings, Translator(settings.locale), callback=args.wecom_callback)
        companions.append(beside)
    web = None
    if settings.public_url is not None:
        from channels.web.channel import WebBeside
        from locales import Translator

        # Telegram's getChatMember answers the web about people it has not seen in a group.
        web = WebBeside(
            settings,
            Translator(settings.locale),
            membership=lambda: application.bot_data.runtime.membership,
        )
        companions.append(web)
    from telegram.error import InvalidToken

    from bot.catalogue import CatalogueError
    from bot.lease import InstanceRunning
    from channels.common.listening import CannotListen
    from channels.telegram.app import ALLOWED_UPDATES, build_application
    from channels.telegram.inbox import InboxQueue
    from channels.telegram.token_guard import SAME_TOKEN, TokenConflictGuard
    from channels.telegram.webhook import WebhookRefused

    # What stops it with a message and nothing else (an address the web pages or WeCom's
    # callbacks cannot listen on included).
    refusals: tuple[type[Exception], ...] = (InstanceRunning, WebhookRefused, CannotListen)

    webhook = args.webhook or settings.webhook_url is not None
    if webhook and settings.webhook_url is None:
        print(NO_WEBHOOK_URL, file=sys.stderr)
        return EXIT_USAGE
    try:
        application = build_application(
            settings,
            clock=_test_clock(),
            tune_gc=True,
            serve_health=True,
            companions=companions,
        )
    except CatalogueError as error:
        print(f"The consultation catalogue (YISHI_CATALOG) is not valid:\n{error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if webhook:
            # channels/telegram/webhook.py: the secret (YISHI_WEBHOOK_SECRET or the stored one), the
            # path.
            application.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                webhook_url=settings.webhook_url,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            queue = application.update_queue
            guard = TokenConflictGuard(
                application.stop_running,
                received_any=lambda: isinstance(queue, InboxQueue) and queue.received > 0,
            )
            application.add_error_handler(guard.on_error)
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
            if guard.refused:
                print(SAME_TOKEN, file=sys.stderr)
                return EXIT_USAGE
    except InvalidToken:
        print(TOKEN_REJECTED, file=sys.stderr)
        return EXIT_USAGE
    except refusals as refused:
        print(refused, file=sys.stderr)
        return EXIT_USAGE
    return 0


def _test_clock() -> FileClock | None:
    """``YISHI_CLOCK_FILE``: not for operators. Tests that run ``yishi run`` as a subprocess
    (tests/crash/) move time by writing an ISO-8601 time into that file."""
    path = os.environ.get("YISHI_CLOCK_FILE")
    if not path:
        return None
    logging.getLogger(__name__).warning("YISHI_CLOCK_FILE is set: the time is read from %s", path)
    return FileClock(Path(path))


def _db_upgrade() -> int:
    settings = _settings()
    from storage import migrate
    from storage.database import Database

    async def upgrade() -> str | None:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
            return await migrate.current_revision(database)
        finally:
            await database.close()

    revision = asyncio.run(upgrade())
    print(f"Database {settings.database_url} is at revision {revision}.")
    return 0


def _status() -> int:
    from bot.status import read_status

    status = asyncio.run(read_status(_settings(), _test_clock()))
    print(status.render())
    return 0 if status.ready else 1


def _demo(args: argparse.Namespace) -> int:
    if args.channel == "wecom":
        from bot.demo.wecom import run_wecom_demo

        return asyncio.run(run_wecom_demo(lang=args.lang, db_path=args.db))
    from bot.demo import run_demo

    return asyncio.run(run_demo(lang=args.lang, db_path=args.db))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        configure_logging(load_logging_settings())
    except SettingsError as error:
        print(f"Configuration error:\n{error}", file=sys.stderr)
        return EXIT_USAGE
    keep_secrets_out_of_output()
    if args.command == "run":
        return _run(args)
    if args.command == "db":
        if args.db_command != "upgrade":
            return db_maintenance.run(args, _settings())
        return _db_upgrade()
    if args.command == "status":
        return _status()
    return _demo(args)


if __name__ == "__main__":
    raise SystemExit(main())
