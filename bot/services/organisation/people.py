"""Users and chats as the bot sees them, and the language each one reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.organisation.permissions import is_officer, rank_at
from storage.batched_write import BatchedWrite
from storage.database import Database
from storage.records import ChatType, SeenUser, User
from storage.repositories import Repositories
from storage.repositories.seen import seen_memo

__all__ = ["LOCALE_CHOICES", "PeopleService", "SeenUser", "locale_from_language_code"]

LOCALE_CHOICES = {"zh": "zh_CN", "zh_cn": "zh_CN", "cn": "zh_CN", "中文": "zh_CN", "en": "en"}
_CHAT_TYPES = frozenset(ChatType)


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
class _Sighting:
    user: SeenUser | None
    chat: tuple[int, str, str | None] | None  # id, type, title


class PeopleService:
    def __init__(self, database: Database, clock: Clock, default_locale: str) -> None:
        self._db = database
        self._clock = clock
        self.default_locale = default_locale
        # Every update records its user and chat: those of concurrent updates in one upsert
        # each (one statement for a batch instead of two per update).
        self._sightings = BatchedWrite(database, self._record)

    async def seen(
        self, user: SeenUser | None, chat_id: int | None, chat_type: str | None, title: str | None
    ) -> str:
        """Record who wrote where; returns the locale to answer in, once committed.

        A chat of a type Telegram may add one day is not recorded: the table refuses a type
        it does not know (storage/records.py), and the sightings of other updates are written
        in the same statement."""
        chat = None
        if chat_id is not None and chat_type is not None and chat_type in _CHAT_TYPES:
            chat = (chat_id, chat_type, title)
        return await self._sightings.submit(_Sighting(user, chat))

    async def _record(self, repos: Repositories, sightings: Sequence[_Sighting]) -> list[str]:
        # Each upsert returns the language chosen (/lang): no read after the writes.
        now = self._clock.now()
        user_locales = await repos.users.seen_many(
            [sighting.user for sighting in sightings if sighting.user is not None], now
        )
        chat_locales = await repos.chats.seen_many(
            [sighting.chat for sighting in sightings if sighting.chat is not None], now
        )
        return [self._locale(sighting, user_locales, chat_locales) for sighting in sightings]

    def _locale(
        self,
        sighting: _Sighting,
        user_locales: dict[int, str | None],
        chat_locales: dict[int, str | None],
    ) -> str:
        user, chat = sighting.user, sighting.chat
        user_locale = user_locales[user.user_id] if user is not None else None
        if chat is None:
            return user_locale or self.default_locale
        chat_id, chat_type, _ = chat
        if chat_type == ChatType.PRIVATE and user is not None:
            return (
                user_locale or locale_from_language_code(user.language_code) or self.default_locale
            )
        return chat_locales[chat_id] or self.default_locale

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
        # A group's as this process last wrote it, if it did (never stale: see the memo).
        known = seen_memo(self._db.engine.sync_engine).get((None, chat_id))
        if known is not None:
            return known.locale
        async with self._db.transaction() as repos:
            chat = await repos.chats.get(chat_id)
            if chat is not None and chat.locale:
                return chat.locale
            if chat is not None and chat.type == ChatType.PRIVATE:
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
