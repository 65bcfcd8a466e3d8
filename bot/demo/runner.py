"""Acting as the demo's people: say, reply, press, move the clock."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clock import ManualClock
from bot.demo.transcript import Transcript
from channels.telegram.app import YishiApplication
from emulators.telegram import BotApiEmulator, EmuMessage

_CODE = re.compile(r"/bind ([a-z0-9]+)")


class DemoFailed(Exception):
    """A step did not get the answer it expected."""


def bind_code(message: EmuMessage) -> str:
    match = _CODE.search(message.text or "")
    if not match:
        raise DemoFailed(f"no bind code in {message.text!r}")
    return match.group(1)


if TYPE_CHECKING:
    from bot.demo.staff_shots import StaffShots


class DemoRun:
    def __init__(
        self,
        emu: BotApiEmulator,
        transcript: Transcript,
        clock: ManualClock,
        app: YishiApplication,
        shots: StaffShots | None = None,
    ) -> None:
        self.emu = emu
        self.transcript = transcript
        self.clock = clock
        self.app = app
        self.shots = shots

    async def screenshot(self, path: str, name: str) -> None:
        """A staff page as it is now, kept in the output folder (when a browser is here)."""
        if self.shots is not None:
            await self.settle()
            await self.shots.take(path, name)

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

    async def answer_prompt(self, chat_id: int, user_id: int, text: str) -> None:
        """Reply to the bot's latest question (a ForceReply prompt) in this chat."""
        prompt = self.emu.bot_messages(chat_id)[-1]
        self.transcript.show(chat_id)
        self.emu.send_message(chat_id, user_id, text, reply_to=prompt.message_id)
        await self.settle()
        for chat in self.transcript.titles:
            self.transcript.show(chat)

    async def settle(self) -> None:
        await self.emu.wait_idle(quiet=0.05)
        await self.app.bot_data.runtime.settle()
        await self.emu.wait_idle(quiet=0.05)

    def save_files(self, chat_id: int, folder: Path) -> list[Path]:
        """Write every document and photo the bot sent to this chat into ``folder``."""
        saved = []
        for message in self.emu.bot_messages(chat_id):
            upload = message.document or (message.photo[-1] if message.photo else None)
            if upload is None:
                continue
            name = str(upload.get("file_name") or f"chart-{message.message_id}.png")
            path = folder / name
            path.write_bytes(self.emu.world.files[upload["file_id"]].data)
            saved.append(path)
        return saved
