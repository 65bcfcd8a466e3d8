"""``yishi demo``: the real bot, played through a scripted consultation against the emulator.

Every step is an update a person would cause (a command, a reply, a button press), sent to
the local Bot API emulator; the real application answers over HTTP. Needs no token and no
network. Issue-by-issue the script grows with the product.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from telegram.ext import AIORateLimiter

from bot.app import YishiApplication, build_application, start_polling, stop_polling
from bot.clock import ManualClock
from bot.emulator import BotApiEmulator, EmuMessage
from bot.settings import load_settings

SUPERADMIN = 1
STAFF_CHAT, GRID_CHAT, BUILDING_CHAT = -1001, -1002, -1003
_CODE = re.compile(r"/bind ([a-z0-9]+)")

# What people are called and what they type, per language of the demo.
SCRIPTS: dict[str, dict[str, str]] = {
    "zh": {
        "director": "王主任",
        "staff": "李社工",
        "worker": "张网格",
        "head": "赵楼长",
        "resident": "钱阿姨",
        "neighbour": "孙大爷",
        "staff_chat": "幸福社区工作群",
        "grid_chat": "第一网格群",
        "building_chat": "1号楼议事群",
        "community": "幸福社区",
        "grid": "第一网格",
        "building": "1号楼",
        "hello": "大家好！",
        "approve": "✅ 通过",
        "bad_area": "大约七十",
        "topic": "东门加装电动车充电桩 期限=2h\n在东门车棚加装 10 个充电桩，费用由维修资金列支。",
        "agree": "同意",
        "against": "反对",
        "opinion": "建议装在车棚北侧，离楼远一点。",
    },
    "en": {
        "director": "Director Wang",
        "staff": "Li (staff)",
        "worker": "Zhang (grid)",
        "head": "Zhao (head)",
        "resident": "Mrs Qian",
        "neighbour": "Mr Sun",
        "staff_chat": "Harmony staff",
        "grid_chat": "Grid One",
        "building_chat": "Building 1",
        "community": "Harmony",
        "grid": "Grid One",
        "building": "Building 1",
        "hello": "Hello everyone!",
        "approve": "✅ Approve",
        "bad_area": "about seventy",
        "topic": "E-bike chargers at the east gate deadline=2h\nTen chargers in the east shed.",
        "agree": "Agree",
        "against": "Against",
        "opinion": "Put them on the north side, please.",
    },
}


class DemoFailed(Exception):
    """A step did not get the answer it expected."""


@dataclass
class Transcript:
    """Prints each chat's new messages, with who said them."""

    emu: BotApiEmulator
    out: TextIO
    names: dict[int, str]
    titles: dict[int, str]
    colour: bool
    shown: dict[int, int] = field(default_factory=dict)

    def _style(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text

    def show(self, chat_id: int) -> None:
        for message in self.emu.chat_messages(chat_id):
            if message.message_id <= self.shown.get(chat_id, 0) or message.service:
                continue
            self.shown[chat_id] = message.message_id
            self._print(chat_id, message)

    def note(self, text: str) -> None:
        print(self._style(f"  · {text}", "2"), file=self.out)

    def heading(self, text: str) -> None:
        print("\n" + self._style(f"== {text} ==", "1;36"), file=self.out)

    def _print(self, chat_id: int, message: EmuMessage, *, edited: bool = False) -> None:
        who = (
            "🤖 " + self.names.get(message.from_user, "bot")
            if message.from_bot
            else (self.names.get(message.from_user, str(message.from_user)))
        )
        where = self.titles.get(chat_id, str(chat_id))
        body = (message.text or message.caption or "").replace("\n", "\n      ")
        label = self._style(
            f"[{where}] {who}{' (edited)' if edited else ''}:",
            "1;33" if message.from_bot else "1;32",
        )
        print(f"{label}\n      {body}", file=self.out)
        if message.button_texts():
            print(
                "      " + "  ".join(f"[{text}]" for text in message.button_texts()), file=self.out
            )

    def show_edit(self, chat_id: int, message_id: int) -> None:
        self._print(chat_id, self.emu.message(chat_id, message_id), edited=True)


class DemoRun:
    def __init__(
        self,
        emu: BotApiEmulator,
        transcript: Transcript,
        clock: ManualClock,
        app: YishiApplication,
    ) -> None:
        self.emu = emu
        self.transcript = transcript
        self.clock = clock
        self.app = app

    async def say(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        expect: str | None = None,
    ) -> EmuMessage:
        sent = self.emu.send_message(chat_id, user_id, text, reply_to=reply_to)
        try:
            answer = await self.emu.wait_for_bot_message(chat_id, after=sent.message_id)
        except TimeoutError as error:
            raise DemoFailed(f"no answer to {text!r}") from error
        await self.emu.wait_idle(quiet=0.05)
        self.transcript.show(chat_id)
        if expect is not None and expect not in (answer.text or ""):
            raise DemoFailed(f"{text!r} was answered {answer.text!r}, expected {expect!r}")
        return answer

    async def vote(self, chat_id: int, ballot: EmuMessage, user_id: int, option: str) -> None:
        query = self.emu.press_button(chat_id, ballot.message_id, user_id, option)
        answer = await self.emu.wait_for_answer(query)
        self.transcript.note(f"{self.transcript.names[user_id]} ▸ [{option}] → {answer['text']}")

    async def post_reply(self, chat_id: int, user_id: int, text: str, to: EmuMessage) -> None:
        self.emu.send_message(chat_id, user_id, text, reply_to=to.message_id)
        await self.emu.wait_idle(quiet=0.05)
        await self.app.bot_data.runtime.settle()
        self.transcript.show(chat_id)

    async def pass_time(self, delta: timedelta) -> None:
        """Move the clock (no sleeping) and let the due work run, as the scheduler would."""
        self.clock.advance(delta)
        self.transcript.note(f"⏩ +{delta}")
        await self.app.bot_data.services.timers.run_due()
        await self.app.bot_data.runtime.settle()
        await self.emu.wait_idle(quiet=0.05)

    def post(self, chat_id: int, user_id: int, text: str) -> EmuMessage:
        message = self.emu.send_message(chat_id, user_id, text)
        self.transcript.show(chat_id)
        return message

    async def press(self, chat_id: int, message: EmuMessage, user_id: int, button: str) -> None:
        query = self.emu.press_button(chat_id, message.message_id, user_id, button)
        answer = await self.emu.wait_for_answer(query)
        self.transcript.note(f"{self.transcript.names[user_id]} ▸ [{button}] → {answer['text']}")
        await self.emu.wait_until(
            lambda: self.emu.message(chat_id, message.message_id).edit_date is not None
        )
        self.transcript.show_edit(chat_id, message.message_id)

    async def group(self, chat_id: int, title: str, members: list[int], admin: int) -> None:
        self.emu.add_group(
            chat_id, title, members=members, admins=[admin], creator=admin, added_by=admin
        )
        await self.emu.wait_for_bot_message(chat_id)
        await self.emu.wait_idle(quiet=0.05)
        self.transcript.show(chat_id)


def bind_code(message: EmuMessage) -> str:
    match = _CODE.search(message.text or "")
    if not match:
        raise DemoFailed(f"no bind code in {message.text!r}")
    return match.group(1)


async def _script(run: DemoRun, words: dict[str, str]) -> None:
    t = run.transcript
    t.heading("1 · " + words["community"])
    await run.group(STAFF_CHAT, words["staff_chat"], [2], SUPERADMIN)
    await run.say(STAFF_CHAT, SUPERADMIN, f"/setup {words['community']}")
    hello = run.post(STAFF_CHAT, 2, words["hello"])
    await run.say(STAFF_CHAT, SUPERADMIN, "/role community_staff", reply_to=hello.message_id)
    code = bind_code(await run.say(STAFF_CHAT, 2, f"/newgrid {words['grid']}"))

    t.heading("2 · " + words["grid"])
    await run.group(GRID_CHAT, words["grid_chat"], [3], 2)
    await run.say(GRID_CHAT, 2, f"/bind {code}")
    hello = run.post(GRID_CHAT, 3, words["hello"])
    await run.say(GRID_CHAT, 2, "/role grid_worker", reply_to=hello.message_id)
    code = bind_code(await run.say(GRID_CHAT, 3, f"/newbuilding {words['building']}"))

    t.heading("3 · " + words["building"])
    await run.group(BUILDING_CHAT, words["building_chat"], [4, 5, 6], 3)
    await run.say(BUILDING_CHAT, 3, f"/bind {code}")
    hello = run.post(BUILDING_CHAT, 4, words["hello"])
    await run.say(BUILDING_CHAT, 3, "/role building_head", reply_to=hello.message_id)
    card = await run.say(BUILDING_CHAT, 5, "/register 2-502 89.5")
    await run.press(BUILDING_CHAT, card, 4, words["approve"])
    await run.say(BUILDING_CHAT, 6, f"/register 2-503 {words['bad_area']}")
    card = await run.say(BUILDING_CHAT, 6, "/register 2-503 76")
    await run.press(BUILDING_CHAT, card, 4, words["approve"])
    await run.say(BUILDING_CHAT, 4, "/members", expect="2-503")

    t.heading("4 · " + words["topic"].split(" ")[0])
    ballot = await run.say(BUILDING_CHAT, 4, f"/topic {words['topic']}")
    await run.vote(BUILDING_CHAT, ballot, 5, words["agree"])
    await run.vote(BUILDING_CHAT, ballot, 6, words["agree"])
    await run.vote(BUILDING_CHAT, ballot, 4, words["against"])
    await run.post_reply(BUILDING_CHAT, 6, words["opinion"], ballot)
    await run.pass_time(timedelta(hours=2, minutes=1))
    t.show_edit(BUILDING_CHAT, ballot.message_id)
    t.show(BUILDING_CHAT)


async def run_demo(
    *, lang: str = "zh", db_path: str | None = None, out: TextIO | None = None
) -> int:
    stream = out or sys.stdout
    words = SCRIPTS[lang]
    workdir = Path(tempfile.mkdtemp(prefix="yishi-demo-"))
    database = Path(db_path) if db_path else workdir / "yishi.db"
    emu = BotApiEmulator()
    await emu.start()
    settings = load_settings(
        TELEGRAM_BOT_TOKEN=emu.token,
        TELEGRAM_BASE_URL=emu.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        YISHI_ADMIN_IDS=str(SUPERADMIN),
        YISHI_LOCALE="zh_CN" if lang == "zh" else "en",
        _env_file=None,
    )
    people = {
        SUPERADMIN: words["director"],
        2: words["staff"],
        3: words["worker"],
        4: words["head"],
        5: words["resident"],
        6: words["neighbour"],
    }
    for user_id, name in people.items():
        emu.add_user(user_id, name, language_code="zh-hans" if lang == "zh" else "en")
    titles = {
        STAFF_CHAT: words["staff_chat"],
        GRID_CHAT: words["grid_chat"],
        BUILDING_CHAT: words["building_chat"],
    }
    transcript = Transcript(
        emu, stream, {**people, emu.world.bot.id: "Yishi"}, titles, colour=stream.isatty()
    )
    clock = ManualClock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    limiter = AIORateLimiter(overall_max_rate=0, group_max_rate=0)
    application = build_application(
        settings, clock=clock, rate_limiter=limiter, tally_interval=0.05
    )
    started = time.monotonic()
    status = 0
    try:
        await start_polling(application, poll_timeout=1)
        await _script(DemoRun(emu, transcript, clock, application), words)
    except (DemoFailed, TimeoutError, LookupError) as error:
        print(f"\nDemo failed: {error}", file=sys.stderr)
        status = 1
    finally:
        await stop_polling(application)
        await emu.stop()
    print(f"\nDatabase: {database}\nFinished in {time.monotonic() - started:.1f} s.", file=stream)
    return status


Step = Callable[[DemoRun], Awaitable[None]]
