"""Who sent a WeCom callback and where, as Yishi knows them: each ``from.userid`` and
``chatid`` becomes a Yishi id (storage's ``seen_on``: allocated on first sight, recorded as
seen).

Recording costs two statements in the shared commit of the moment, about what the ballot of
a press costs, and nearly every callback repeats what the last one from the same person in
the same chat said. So, as Telegram's middleware does, nothing is written when this process
wrote the same less than ``REFRESH`` ago, and the language read then is used
(storage/repositories/seen.py says why it cannot be stale); someone new in a group recorded
lately has only their own row written, in one statement with everyone else's of the moment
(a burst of presses from people not seen lately: storage/batched_write.py).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.services import Services
from bot.services.actors import Actor, ChatKind, Place
from storage.batched_write import BatchedWrite
from storage.records import ChatType, Platform
from storage.repositories import Repositories
from storage.repositories.seen import CAPACITY, REFRESH, SeenEntry, seen_memo


@dataclass(frozen=True, slots=True)
class Who:
    """The sender of a callback and where they wrote, as Yishi knows them."""

    actor: Actor
    place: Place
    locale: str
    userid: str
    address: str  # the chatid, or the userid in a single chat


class Sightings:
    def __init__(self, services: Services) -> None:
        self._services = services
        # Yishi's ids of the WeCom names this process recorded (they never change).
        self._ids: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()
        self._chat_ids: OrderedDict[str, int] = OrderedDict()
        self._people = BatchedWrite(services.database, _record_people)

    async def who(self, body: dict[str, Any]) -> Who | None:
        """The callback's sender and chat, recorded as seen; None if it names neither."""
        sender = body.get("from")
        userid = str(sender.get("userid", "")) if isinstance(sender, dict) else ""
        if not userid:
            return None
        group = body.get("chattype") == "group"
        address = str(body.get("chatid", "")) if group else userid
        if not address:
            return None
        services = self._services
        now = services.clock.now()
        kind = ChatKind.GROUP if group else ChatKind.PRIVATE
        memo = seen_memo(services.database.engine.sync_engine)
        facts = (Platform.WECOM, userid, address, kind)
        ids = self._ids.get((userid, address))
        known = memo.get(ids) if ids is not None else None
        if ids and known and known.facts == facts and now - known.written_at < REFRESH:
            return self._who(ids[0], ids[1], kind, known.locale, userid, address)
        version = memo.version
        chat_id = self._chat_ids.get(address) if group else None
        chat = memo.get((None, chat_id)) if chat_id is not None else None
        if chat is not None and (chat.facts != facts[2:] or now - chat.written_at >= REFRESH):
            chat = None

        if group and chat is not None and chat_id is not None:  # only the person to record
            user_id, _ = await self._people.submit((userid, now))
            memo.remember((user_id, chat_id), SeenEntry(facts, now, chat.locale), version=version)
            _keep(self._ids, (userid, address), (user_id, chat_id))
            return self._who(user_id, chat_id, kind, chat.locale, userid, address)

        async def record(repos: Repositories) -> tuple[int, int, str]:
            user_id, user_locale = await repos.users.seen_on(
                Platform.WECOM, userid, name=userid, now=now
            )
            if chat is not None and chat_id is not None:  # the group, recorded lately
                return user_id, chat_id, chat.locale
            chat_type = ChatType.GROUP if group else ChatType.PRIVATE
            recorded, chat_locale = await repos.chats.seen_on(
                Platform.WECOM, address, type=chat_type, title=None, now=now
            )
            locale = (chat_locale if group else user_locale) or services.settings.locale
            return user_id, recorded, locale

        # In the transaction shared with the ballots and sightings of the moment (group commit).
        user_id, in_chat, locale = await services.database.batched(record)
        memo.remember((user_id, in_chat), SeenEntry(facts, now, locale), version=version)
        if group and chat is None:  # the group's language, for its cards too (chat_locale)
            memo.remember((None, in_chat), SeenEntry(facts[2:], now, locale), version=version)
        _keep(self._ids, (userid, address), (user_id, in_chat))
        if group:
            _keep(self._chat_ids, address, in_chat)
        return self._who(user_id, in_chat, kind, locale, userid, address)

    def _who(
        self, user_id: int, chat_id: int, kind: ChatKind, locale: str, userid: str, address: str
    ) -> Who:
        settings = self._services.settings
        superadmin = settings.is_superadmin(user_id) or userid in settings.wecom_admin_userids
        actor = Actor(user_id, is_superadmin=superadmin)
        return Who(actor, Place(chat_id, kind), locale, userid, address)


async def _record_people(
    repos: Repositories, people: Sequence[tuple[str, datetime]]
) -> list[tuple[int, str | None]]:
    """WeCom people (userid, seen at) recorded in one statement (as seen at the latest of
    those moments): each one's id and language, in order."""
    now = max(seen_at for _, seen_at in people)
    named = [(userid, userid) for userid, _ in people]  # WeCom names a person by userid
    recorded = await repos.users.seen_on_many(Platform.WECOM, named, now)
    return [recorded[userid] for userid, _ in people]


def _keep(memory: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    memory[key] = value
    if len(memory) > CAPACITY:
        memory.popitem(last=False)
