"""Users and chats as the bot sees them, and the language each one reads."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.permissions import is_officer, rank_at
from storage.database import Database
from storage.records import User
from storage.repositories import Repositories

LOCALE_CHOICES = {"zh": "zh_CN", "zh_cn": "zh_CN", "cn": "zh_CN", "中文": "zh_CN", "en": "en"}


def locale_from_language_code(code: str | None) -> str | None:
    """Telegram's ``language_code`` (``zh-hans``, ``en-GB``) -> a supported locale, if any."""
    if not code:
        return None
    code = code.lower()
    if code.startswith("zh"):
        return "zh_CN"
    if code.startswith("en"):
        return "en"
    return None


@dataclass(frozen=True, slots=True)
class SeenUser:
    user_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None


class PeopleService:
    def __init__(self, database: Database, clock: Clock, default_locale: str) -> None:
        self._db = database
        self._clock = clock
        self.default_locale = default_locale

    async def seen(
        self, user: SeenUser | None, chat_id: int | None, chat_type: str | None, title: str | None
    ) -> str:
        """Record who wrote where; returns the locale to answer in.

        Runs once per update, so it commits together with concurrent units (group commit).
        """
        now = self._clock.now()

        async def unit(repos: Repositories) -> str:
            # Each upsert returns the language chosen (/lang): no read after the writes.
            user_locale = None
            if user is not None:
                user_locale = await repos.users.seen(
                    user_id=user.user_id,
                    first_name=user.first_name,
                    last_name=user.last_name,
                    username=user.username,
                    language_code=user.language_code,
                    now=now,
                )
            if chat_id is None or chat_type is None:
                return user_locale or self.default_locale
            chat_locale = await repos.chats.seen(
                chat_id=chat_id, type=chat_type, title=title, now=now
            )
            if chat_type == "private" and user is not None:
                return (
                    user_locale
                    or locale_from_language_code(user.language_code)
                    or self.default_locale
                )
            return chat_locale or self.default_locale

        return await self._db.batched(unit)

    async def mark_started(self, user_id: int) -> None:
        async with self._db.transaction() as repos:
            await repos.users.mark_started(user_id)

    async def set_language(
        self, actor: Actor, place: Place, choice: str, *, is_chat_admin: bool
    ) -> str:
        """``/lang zh|en``: a group's language (officers or group admins) or the user's own."""
        locale = LOCALE_CHOICES.get(choice.strip().lower().replace("-", "_"))
        if locale is None:
            raise Refusal("general.lang_unknown", given=choice[:20])
        now = self._clock.now()
        async with self._db.transaction() as repos:
            if place.is_group:
                node = await repos.orgs.node_of_chat(place.chat_id)
                allowed = is_chat_admin or actor.is_superadmin
                if node is not None and not allowed:
                    allowed = is_officer(await rank_at(repos, actor, node), node)
                if not allowed:
                    raise Refusal("general.lang_needs_admin")
                await repos.chats.set_locale(place.chat_id, locale)
            else:
                await repos.users.set_locale(actor.user_id, locale)
            await repos.audit.record(
                action="language.set",
                actor_id=actor.user_id,
                now=now,
                node_id=None,
                chat_id=place.chat_id,
                locale=locale,
            )
        return locale

    async def chat_locale(self, chat_id: int) -> str:
        """The language a chat reads: its own setting, else the default."""
        async with self._db.transaction() as repos:
            chat = await repos.chats.get(chat_id)
            if chat is not None and chat.locale:
                return chat.locale
            if chat is not None and chat.type == "private":
                user = await repos.users.get(chat_id)
                if user is not None:
                    return (
                        user.locale
                        or locale_from_language_code(user.language_code)
                        or (self.default_locale)
                    )
        return self.default_locale

    async def user(self, user_id: int) -> User | None:
        async with self._db.transaction() as repos:
            return await repos.users.get(user_id)

    async def membership_changed(self, chat_id: int, user_id: int, member: bool) -> None:
        """A ``chat_member`` update: keep the cached membership that per-person votes rely on."""
        async with self._db.transaction() as repos:
            await repos.chats.set_membership(chat_id, user_id, member, self._clock.now())
