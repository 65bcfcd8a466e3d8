"""Who sent a WeCom callback and where, as Yishi knows them: each ``from.userid`` and
``chatid`` becomes a Yishi id (storage's ``seen_on``: allocated on first sight, recorded as
seen).

Recording costs two statements in the shared commit of the moment, about what the ballot of
a press costs, and nearly every callback repeats what the last one from the same person in
the same chat said. So, as Telegram's middleware does, nothing is written when this process
wrote the same less than ``REFRESH`` ago, and the language read then is used
(storage/repositories/seen.py says why it cannot be stale); someone new in a group recorded
lately has only their own row written, in one statement with everyone else's of the moment
(a burst of presses from people not seen lately: storage/batched_write.py). When what they
did is a vote, not even that: the vote's batch records them, in the ballot's transaction
(:class:`Arriving`), so a resident's first press waits for one commit, not two.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.services import Services
from bot.services.actors import Actor, ChatKind, Place
from bot.services.topics.ballots import Newcomer
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


@dataclass(frozen=True, slots=True)
class Arriving:
    """Someone this process has not recorded lately, in a group it has: the group and its
    language are known, their id is not yet. Either a vote records them with its ballot
    (``newcomer``; then :meth:`Sightings.arrived`), or :meth:`Sightings.record` does."""

    newcomer: Newcomer
    place: Place
    locale: str
    userid: str
    address: str
    entry: SeenEntry  # what the memo remembers of them once recorded
    version: int  # the memo's, before anything was written (SeenMemo.remember)


class Sightings:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._memo = seen_memo(services.database.engine.sync_engine)
        # The answer last given for each (userid, address), with the memo's entry it was made
        # from: while the memo holds that very entry, nothing of it changed (the ids never do;
        # a language changed empties the memo), and the same answer is given again.
        self._whos: OrderedDict[tuple[str, str], tuple[SeenEntry, Who]] = OrderedDict()
        self._chat_ids: OrderedDict[str, int] = OrderedDict()
        self._people = BatchedWrite(services.database, _record_people)

    async def who(self, body: dict[str, Any]) -> Who | None:
        """The callback's sender and chat, recorded as seen; None if it names neither."""
        seen = await self.sighted(body)
        return await self.record(seen) if isinstance(seen, Arriving) else seen

    async def sighted(self, body: dict[str, Any]) -> Who | Arriving | None:
        """As :meth:`who`, except that someone arriving in a group recorded lately is not
        recorded yet (:class:`Arriving`)."""
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
        memo = self._memo
        answered = self._whos.get((userid, address))
        if answered is not None:  # (nearly every callback: someone seen lately, here)
            entry, who = answered
            if (
                who.place.kind is kind
                and memo.get((who.actor.user_id, who.place.chat_id)) is entry
                and now - entry.written_at < REFRESH
            ):
                return who
        facts = (Platform.WECOM, userid, address, kind)
        version = memo.version
        chat_id = self._chat_ids.get(address) if group else None
        chat = memo.get((None, chat_id)) if chat_id is not None else None
        if chat is not None and (chat.facts != facts[2:] or now - chat.written_at >= REFRESH):
            chat = None

        if group and chat is not None and chat_id is not None:  # only the person to record
            return Arriving(
                Newcomer(Platform.WECOM, userid, userid),  # WeCom names a person by userid
                Place(chat_id, kind),
                chat.locale,
                userid,
                address,
                SeenEntry(facts, now, chat.locale),
                version,
            )

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
        entry = SeenEntry(facts, now, locale)
        memo.remember((user_id, in_chat), entry, version=version)
        if group and chat is None:  # the group's language, for its cards too (chat_locale)
            memo.remember((None, in_chat), SeenEntry(facts[2:], now, locale), version=version)
        if group:
            _keep(self._chat_ids, address, in_chat)
        return self._answer(entry, user_id, in_chat, kind, locale, userid, address)

    async def record(self, arriving: Arriving) -> Who:
        """Someone arriving, recorded (in one statement with the others of the moment)."""
        user_id, _ = await self._people.submit((arriving.userid, arriving.entry.written_at))
        return self.arrived(arriving, user_id)

    def arrived(self, arriving: Arriving, user_id: int) -> Who:
        """Someone arriving, once their id is recorded (by a transaction now committed)."""
        place = arriving.place
        self._memo.remember((user_id, place.chat_id), arriving.entry, version=arriving.version)
        return self._answer(
            arriving.entry,
            user_id,
            place.chat_id,
            place.kind,
            arriving.locale,
            arriving.userid,
            arriving.address,
        )

    def _answer(
        self,
        entry: SeenEntry,
        user_id: int,
        chat_id: int,
        kind: ChatKind,
        locale: str,
        userid: str,
        address: str,
    ) -> Who:
        """Who the callback is from, kept with the memo's ``entry`` of this sighting (given
        again while the memo holds it)."""
        settings = self._services.settings
        superadmin = settings.is_superadmin(user_id) or userid in settings.wecom_admin_userids
        actor = Actor(user_id, is_superadmin=superadmin)
        who = Who(actor, Place(chat_id, kind), locale, userid, address)
        _keep(self._whos, (userid, address), (entry, who))
        return who


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
