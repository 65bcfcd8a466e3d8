"""The demo's transcript: each chat's new messages, with who said them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TextIO

from emulators.telegram import BotApiEmulator, EmuMessage


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
        if message.document:
            body = f"📎 {message.document.get('file_name', 'file')}" + (f"  {body}" if body else "")
        elif message.photo:
            body = "🖼  PNG" + (f"  {body}" if body else "")
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
