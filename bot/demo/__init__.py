"""``yishi demo``: the real bot, played through a scripted consultation against the emulator.

Every step is an update a person would cause (a command, a reply, a button press), sent to
the local Bot API emulator; the real application — settings, handlers, services, storage,
timer engine — answers over HTTP. Needs no token and no network.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from telegram.ext import AIORateLimiter

from bot.clock import ManualClock
from bot.demo.runner import DemoFailed, DemoRun
from bot.demo.script import SUPERADMIN, WORDS, names, play, play_web, titles
from bot.demo.transcript import Transcript
from bot.demo.web_pages import free_port
from bot.settings import load_settings
from channels.telegram.app import build_application, start_polling, stop_polling
from channels.web.channel import WebBeside
from emulators.telegram import BotApiEmulator
from locales import Translator

# Sunday 29 November 2026, 09:00 in Asia/Shanghai: the digest of Monday morning is weekly.
START = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)


async def run_demo(
    *, lang: str = "zh", db_path: str | None = None, out: TextIO | None = None
) -> int:
    stream = out or sys.stdout
    words = WORDS[lang]
    workdir = Path(tempfile.mkdtemp(prefix="yishi-demo-"))
    output = workdir / "output"
    output.mkdir()
    database = Path(db_path) if db_path else workdir / "yishi.db"
    emu = BotApiEmulator()
    await emu.start()
    port = free_port()  # the resident's pages, as `yishi run` serves them with a public URL
    settings = load_settings(
        TELEGRAM_BOT_TOKEN=emu.token,
        TELEGRAM_BASE_URL=emu.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        YISHI_ADMIN_IDS=str(SUPERADMIN),
        YISHI_LOCALE="zh_CN" if lang == "zh" else "en",
        YISHI_PUBLIC_URL=f"http://127.0.0.1:{port}",
        YISHI_WEB_LISTEN=f"127.0.0.1:{port}",
        _env_file=None,
    )
    people = names(words)
    for user_id, name in people.items():
        emu.add_user(user_id, name, language_code="zh-hans" if lang == "zh" else "en")
    transcript = Transcript(
        emu, stream, {**people, emu.world.bot.id: "Yishi"}, titles(words), colour=stream.isatty()
    )
    clock = ManualClock(START)
    limiter = AIORateLimiter(overall_max_rate=0, group_max_rate=0)
    web = WebBeside(
        settings,
        Translator(settings.locale),
        membership=lambda: application.bot_data.runtime.membership,
    )
    application = build_application(
        settings, clock=clock, rate_limiter=limiter, tally_interval=0.05, companions=[web]
    )
    started = time.monotonic()
    status = 0
    try:
        await start_polling(application, poll_timeout=1)
        run = DemoRun(emu, transcript, clock, application)
        topic = await play(run, words, output)
        await play_web(run, web, words, output, stream, topic)
    except (DemoFailed, TimeoutError, LookupError) as error:
        print(f"\nDemo failed: {error}", file=sys.stderr)
        status = 1
    finally:
        await stop_polling(application)
        await emu.stop()
    files = ", ".join(sorted(path.name for path in output.iterdir())) or "none"
    print(f"\nOutput folder: {output} ({files})", file=stream)
    print(f"Database: {database}\nFinished in {time.monotonic() - started:.1f} s.", file=stream)
    return status


__all__ = ["DemoFailed", "run_demo"]
