"""People the bot has seen, on Telegram or another platform."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Platform, SeenUser, User, new_foreign_id
from storage.repositories.seen import seen_memo
from storage.tables import users
from storage.upsert import insert_or_nothing, upsert_many_returning


def _user(row: Any) -> User:
    return User(
        user_id=row.user_id,
        platform=Platform(row.platform),
        address=row.address,
        first_name=row.first_name,
        last_name=row.last_name,
        username=row.username,
        language_code=row.language_code,
        locale=row.locale,
        started=row.started,
    )


_USER = select(users).where(users.c.user_id == bindparam("user_id"))  # built once
_SEEN_ON = (  # another platform's person seen again: built once, as every WeCom press runs it
    update(users)
    .where(users.c.platform == bindparam("b_platform"), users.c.address == bindparam("b_address"))
    .values(first_name=bindparam("b_name"), last_seen=bindparam("b_now"))
    .returning(users.c.user_id, users.c.acts_as, users.c.locale)
)
# An attempt fails only when a concurrent transaction recorded the same address first (the
# next finds its row) or, once in 2**40 or so, when a random id is taken already.
_ALLOCATION_ATTEMPTS = 5


class UserRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def seen(
        self,
        *,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        now: datetime,
    ) -> str | None:
        """Record the user as seen now; returns the language they chose (``/lang``), if any."""
        person = SeenUser(user_id, first_name, last_name, username, language_code)
        return (await self.seen_many([person], now))[user_id]

    async def seen_many(self, people: Sequence[SeenUser], now: datetime) -> dict[int, str | None]:
        """:meth:`seen` for several users in one statement (the last sighting of each
        counts); the language each chose, by user id."""
        latest = {person.user_id: person for person in people}
        rows = await upsert_many_returning(
            self._db,
            users,
            [
                {
                    "user_id": person.user_id,
                    "platform": Platform.TELEGRAM,
                    "address": str(person.user_id),
                    "first_name": person.first_name[:255],
                    "last_name": person.last_name[:255] if person.last_name else None,
                    "username": person.username,
                    "language_code": person.language_code,
                    "first_seen": now,
                    "last_seen": now,
                    "started": False,
                }
                for _, person in sorted(latest.items())  # one lock order for every writer
            ],
            conflict=["user_id"],
            update=["first_name", "last_name", "username", "language_code", "last_seen"],
            returning=["user_id", "locale"],
            # A sighting: names and Telegram's language, which a web session cached in this
            # process may show a little late (bot/services/web/sessions.py).
            untracked=True,
        )
        return {row.user_id: row.locale for row in rows}

    async def seen_on(
        self, platform: Platform, address: str, *, name: str, now: datetime
    ) -> tuple[int, str | None]:
        """Yishi's id of another platform's person (WeCom's ``userid``), recorded as seen now
        under ``name``, and the language they chose; the first sighting allocates an id at
        or above FIRST_FOREIGN_ID. Two transactions seeing a new person at once: one insert
        wins, the other sees its row."""
        changes = {"first_name": name[:255], "last_seen": now}
        bound: dict[str, Any] = {"b_platform": platform.value, "b_address": address}
        bound |= {"b_name": changes["first_name"], "b_now": now}
        for _ in range(_ALLOCATION_ATTEMPTS):
            row = (await self._db.execute(_SEEN_ON, bound)).first()
            if row is not None:  # an identity joined to a person (/link) acts as them
                return row.acts_as or row.user_id, row.locale
            candidate = new_foreign_id()
            new = {
                "user_id": candidate,
                "platform": platform.value,
                "address": address,
                "first_seen": now,
                "started": False,
            }
            if await insert_or_nothing(self._db, users, new | changes, returning="user_id"):
                return candidate, None
        raise RuntimeError(f"no id for the {platform} person {address!r}")

    async def seen_on_many(
        self, platform: Platform, people: Sequence[tuple[str, str]], now: datetime
    ) -> dict[str, tuple[int, str | None]]:
        """:meth:`seen_on` for several (address, name) in one statement (the last name given
        for an address counts): each address's Yishi id and chosen language. A new person's
        random id taken already (once in 2**40 or so) fails the statement, and with it the
        transaction, which group commit runs again: new ids are drawn then."""
        names = dict(people)
        rows = await upsert_many_returning(
            self._db,
            users,
            [
                {
                    "user_id": new_foreign_id(),
                    "platform": platform.value,
                    "address": address,
                    "first_name": name[:255],
                    "first_seen": now,
                    "last_seen": now,
                    "started": False,
                }
                for address, name in sorted(names.items())  # one lock order for every writer
            ],
            conflict=["platform", "address"],
            update=["first_name", "last_seen"],
            returning=["user_id", "acts_as", "locale", "address"],
        )
        # an identity joined to a person (/link) acts as them
        return {row.address: (row.acts_as or row.user_id, row.locale) for row in rows}

    async def identity(self, platform: Platform, address: str) -> int | None:
        """The id of the person with this address on that platform (whoever it acts as)."""
        return (
            await self._db.execute(
                select(users.c.user_id).where(
                    users.c.platform == platform.value, users.c.address == address
                )
            )
        ).scalar_one_or_none()

    async def address_of(self, user_id: int) -> tuple[Platform, str] | None:
        row = (
            await self._db.execute(
                select(users.c.platform, users.c.address).where(users.c.user_id == user_id)
            )
        ).first()
        return (Platform(row.platform), row.address) if row else None

    async def known_on(self, platform: Platform, address: str) -> int | None:
        """Yishi's id of another platform's person already seen (WeCom's ``userid``)."""
        row = (
            await self._db.execute(
                select(users.c.user_id).where(
                    users.c.platform == platform.value, users.c.address == address
                )
            )
        ).first()
        return int(row.user_id) if row else None

    async def get(self, user_id: int) -> User | None:
        row = (await self._db.execute(_USER, {"user_id": user_id})).first()
        return _user(row) if row else None

    async def many(self, user_ids: list[int]) -> dict[int, User]:
        if not user_ids:
            return {}
        rows = await self._db.execute(select(users).where(users.c.user_id.in_(user_ids)))
        return {row.user_id: _user(row) for row in rows}

    async def set_locale(self, user_id: int, locale: str) -> None:
        await self._db.execute(
            update(users).where(users.c.user_id == user_id).values(locale=locale)
        )
        # Once the row is ours (locked until commit): see storage/repositories/seen.py.
        seen_memo(self._db.sync_engine).locale_written()

    async def mark_started(self, user_id: int) -> None:
        await self._db.execute(update(users).where(users.c.user_id == user_id).values(started=True))
