"""/link: one person's identities on two platforms joined. The codes said on one platform and
confirmed on the other; the joining: the other identity acts as the person from then on, and
what it held that lives on (roles, household registrations, ballots on open topics) becomes
the person's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.pairs import in_pairs, pairs_parameters
from storage.records import TopicStatus
from storage.repositories.seen import seen_memo
from storage.tables import ballots, link_codes, registrations, role_grants, topics, users


class LinkRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def add_code(self, code: str, user_id: int, now: datetime, expires_at: datetime) -> None:
        """A new code for ``user_id``; any earlier one of theirs is void."""
        await self._db.execute(delete(link_codes).where(link_codes.c.user_id == user_id))
        await self._db.execute(
            insert(link_codes).values(
                code=code, user_id=user_id, created_at=now, expires_at=expires_at
            )
        )

    async def take_code(self, code: str, now: datetime) -> int | None:
        """Who said ``code``, if it is still good; used (or expired), it is gone."""
        row = (
            await self._db.execute(
                delete(link_codes)
                .where(link_codes.c.code == code)
                .returning(link_codes.c.user_id, link_codes.c.expires_at)
            )
        ).first()
        if row is None or row.expires_at <= now:
            return None
        return int(row.user_id)

    async def acts_as(self, user_id: int) -> int | None:
        return (
            await self._db.execute(select(users.c.acts_as).where(users.c.user_id == user_id))
        ).scalar_one_or_none()

    async def join(self, other: int, person: int) -> None:
        """``other`` acts as ``person`` from now on; its roles and registrations become the
        person's where the person has none at that node (theirs stand)."""
        await self._db.execute(update(users).where(users.c.user_id == other).values(acts_as=person))
        # Once the row is ours: who a sighting remembered (channels/wecom/sightings.py) is
        # forgotten, as a language is (storage/repositories/seen.py).
        seen_memo(self._db.sync_engine).identity_joined()
        for table in (role_grants, registrations):
            held = select(table.c.node_id).where(table.c.user_id == person).scalar_subquery()
            await self._db.execute(
                update(table)
                .where(table.c.user_id == other, table.c.node_id.not_in(held))
                .values(user_id=person)
            )
            await self._db.execute(delete(table).where(table.c.user_id == other))

    async def open_topics(self) -> list[tuple[int, bool, str | None]]:
        """Every open topic: its id, whether its ballot is secret, and its salt."""
        rows = await self._db.execute(
            select(topics.c.id, topics.c.secret, topics.c.ballot_salt).where(
                topics.c.status == TopicStatus.OPEN
            )
        )
        return [(row.id, bool(row.secret), row.ballot_salt) for row in rows]

    async def rekey_ballots(self, moves: list[tuple[int, str, str]], person: int) -> list[int]:
        """Ballots ``(topic, old key, new key)`` re-keyed to the person; where the person has
        voted on that topic already, theirs stands and the other is dropped. The topics whose
        ballots changed."""
        if not moves:
            return []
        keys = [(topic_id, old) for topic_id, old, _ in moves]
        keys += [(topic_id, new) for topic_id, _, new in moves]
        found = await self._db.execute(
            select(ballots.c.topic_id, ballots.c.voter_key).where(
                in_pairs(ballots.c.topic_id, ballots.c.voter_key, "keys")  # storage/pairs.py
            ),
            pairs_parameters(self._db.dialect, "keys", set(keys)),
        )
        present = {(row.topic_id, row.voter_key) for row in found}
        changed: list[int] = []
        for topic_id, old, new in moves:
            if (topic_id, old) not in present:
                continue
            changed.append(topic_id)
            mine = and_(ballots.c.topic_id == topic_id, ballots.c.voter_key == old)
            if (topic_id, new) in present:
                await self._db.execute(delete(ballots).where(mine))
            else:
                values: dict[str, object] = {"voter_key": new}
                if not old.startswith("s:"):
                    values["user_id"] = person  # a secret ballot names nobody
                await self._db.execute(update(ballots).where(mine).values(values))
        return changed
