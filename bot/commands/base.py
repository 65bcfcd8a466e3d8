"""A chat command as a person gives it, whatever the channel, and what it answers.

A channel (Telegram, WeCom) reads who wrote where and the words after the command word into
an :class:`Asked`, runs the command, and writes its :class:`Reply` (locale keys and values, a
:class:`~bot.services.announcement_texts.Told`) in its own markup. A command raises
:class:`~bot.services.errors.Refusal` to refuse; the channel explains it. Nothing here knows a
channel: the platform's own answers (is the sender a group admin?) come as callables.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.services import Services
from bot.services.actors import Actor, Place
from bot.services.announcement_texts import Line, Said, Told, Value
from bot.services.errors import Refusal
from bot.services.topics.eligibility import MembershipProbe


async def _nobody() -> int | None:
    return None


async def _by_number(word: str) -> int | None:
    return int(word) if word.isdigit() and len(word) <= 15 else None


def _every(command: str) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Asked:
    """One command: who, where, the words after the command word (newlines kept), the
    language to answer in, and what only the platform knows."""

    services: Services
    actor: Actor
    place: Place
    text: str
    locale: str
    membership: MembershipProbe
    # Whether the sender administers the group, asked of the platform when a command needs it
    # (Telegram: getChatMember; WeCom names no group admins).
    chat_admin: Callable[[], Awaitable[bool]]
    # The person the message points at, where the platform says (Telegram: the author of the
    # message it replies to, refused if a bot); WeCom's quotes name no author: nobody.
    addressee: Callable[[], Awaitable[int | None]] = _nobody
    # The person a word names, or None (Telegram: a user id; WeCom: a 账号 (userid), refused
    # with why if an @-mention, which reaches the bot as a display name only).
    person: Callable[[str], Awaitable[int | None]] = _by_number
    # Whether this channel answers a command: /help lists only those.
    answers: Callable[[str], bool] = _every
    # The command's message where the channel numbers them (Telegram: an edit of it edits
    # what it recorded); None elsewhere.
    message_id: int | None = None

    def args(self, usage: str, *, at_least: int, at_most: int) -> list[str]:
        """The words, between ``at_least`` and ``at_most`` of them, or the usage line."""
        words = self.text.split()
        if not at_least <= len(words) <= at_most:
            raise UsageError(usage)
        return words

    async def is_chat_admin(self) -> bool:
        return self.place.is_group and await self.chat_admin()


class UsageError(Refusal):
    """A command used with the wrong arguments: answered with its usage line."""

    def __init__(self, usage_key: str) -> None:
        super().__init__(usage_key)


@dataclass(frozen=True, slots=True)
class ReplyFile:
    """A file sent after a reply's text: a picture (Telegram: a photo; WeCom: through the
    group's push webhook) or a document (Telegram: a document; WeCom: its ``pictures``)."""

    filename: str
    data: bytes
    picture: bool
    # The document's pages as pictures, drawn only when such a channel asks (it takes time).
    pictures: Callable[[], Awaitable[Sequence[bytes]]] | None = None
    # Plain text shown with it where the channel can (Telegram: the photo's caption).
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What a command answers, and the language to answer in when the command changed it;
    the files sent after it (a QR code, a sheet to print)."""

    told: Told
    locale: str | None = None
    files: tuple[ReplyFile, ...] = ()


def said(key: str, locale: str | None = None, **params: Value) -> Reply:
    """A one-line reply: ``key`` with ``params``."""
    return Reply(Told((Said(key, params),)), locale)


def lines(*parts: Line, locale: str | None = None) -> Reply:
    return Reply(Told(tuple(parts)), locale)


def level_said(level: str) -> Said:
    """A level's localised name (楼栋, 网格, 社区) as a value."""
    return Said(f"levels.{level}")


# A command's body: None when what it caused is announced by itself (a closed topic's
# outcome is posted in its chats) and the channel needs to say nothing more.
Command = Callable[[Asked], Awaitable[Reply | None]]
CommandTable = Mapping[str, Command]
