"""Household invitations (/invite): one-time codes kept as hashes, the web-only people they
made, and their revocation (/revoke)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import (
    HouseholdInvitation,
    Level,
    Platform,
    RegistrationStatus,
    new_foreign_id,
)
from storage.tables import (
    household_invitations,
    households,
    nodes,
    registrations,
    role_grants,
    users,
)

_COLUMNS = (*household_invitations.c, households.c.unit)
_ALLOCATION_ATTEMPTS = 5


def _invitation(row: Any) -> HouseholdInvitation:
    return HouseholdInvitation(
        id=row.id,
        node_id=row.node_id,
        household_id=row.household_id,
        unit=row.unit,
        issued_by=row.issued_by,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        redeemed_at=row.redeemed_at,
        redeemed_by=row.redeemed_by,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
    )


class InvitationRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def add(
        self,
        *,
        code_hash: str,
        node_id: int,
        household_id: int,
        issued_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> int:
        result = await self._db.execute(
            household_invitations.insert()
            .values(
                code_hash=code_hash,
                node_id=node_id,
                household_id=household_id,
                issued_by=issued_by,
                issued_at=now,
                expires_at=expires_at,
            )
            .returning(household_invitations.c.id)
        )
        return int(result.scalar_one())

    async def by_hash(self, code_hash: str) -> HouseholdInvitation | None:
        row = (
            await self._db.execute(
                select(*_COLUMNS)
                .join(households, households.c.id == household_invitations.c.household_id)
                .where(household_invitations.c.code_hash == code_hash)
            )
        ).first()
        return _invitation(row) if row else None

    async def of_household(self, household_id: int) -> list[HouseholdInvitation]:
        rows = await self._db.execute(
            select(*_COLUMNS)
            .join(households, households.c.id == household_invitations.c.household_id)
            .where(household_invitations.c.household_id == household_id)
            .order_by(household_invitations.c.id)
        )
        return [_invitation(row) for row in rows]

    async def claim(self, invitation_id: int, *, user_id: int, now: datetime) -> bool:
        """Mark the invitation redeemed by ``user_id``, if nobody did and it is still good:
        the condition makes a second redemption racing this one change nothing."""
        result = await self._db.execute(
            update(household_invitations)
            .where(
                household_invitations.c.id == invitation_id,
                household_invitations.c.redeemed_at.is_(None),
                household_invitations.c.revoked_at.is_(None),
                household_invitations.c.expires_at > now,
            )
            .values(redeemed_at=now, redeemed_by=user_id)
        )
        return bool(result.rowcount)

    async def new_web_person(self, *, name: str, now: datetime) -> int:
        """A person on the platform ``web`` (an id at or above FIRST_FOREIGN_ID); their
        address is their own id, as nothing outside Yishi names them."""
        for _ in range(_ALLOCATION_ATTEMPTS):
            candidate = new_foreign_id()
            taken = (
                await self._db.execute(select(users.c.user_id).where(users.c.user_id == candidate))
            ).first()
            if taken is not None:
                continue
            await self._db.execute(
                users.insert().values(
                    user_id=candidate,
                    platform=Platform.WEB.value,
                    address=str(candidate),
                    first_name=name[:255],
                    first_seen=now,
                    last_seen=now,
                    started=False,
                )
            )
            return candidate
        raise RuntimeError("no id for a new web person")

    async def revoke_household(self, household_id: int, *, by: int, now: datetime) -> list[int]:
        """End every invitation of the household not ended yet; the web-only people those
        made (redeemed), whose access ends with it."""
        ended = await self._db.execute(
            update(household_invitations)
            .where(
                household_invitations.c.household_id == household_id,
                household_invitations.c.revoked_at.is_(None),
            )
            .values(revoked_at=now, revoked_by=by)
            .returning(household_invitations.c.redeemed_by)
        )
        return sorted(int(row.redeemed_by) for row in ended if row.redeemed_by is not None)

    async def reject_registrations(self, user_ids: list[int], *, by: int, now: datetime) -> None:
        """The revoked web-only people's registrations end (rejected: the record stays), so
        they count and vote for the household no more."""
        if not user_ids:
            return
        await self._db.execute(
            update(registrations)
            .where(
                registrations.c.user_id.in_(user_ids),
                registrations.c.status != RegistrationStatus.REJECTED,
            )
            .values(status=RegistrationStatus.REJECTED, decided_by=by, decided_at=now)
        )

    async def is_active(self, user_id: int) -> bool:
        """Whether the person may act: not a web-only person, or one whose invitation stands."""
        platform = (
            await self._db.execute(select(users.c.platform).where(users.c.user_id == user_id))
        ).scalar_one_or_none()
        if platform is None:
            return False
        if platform != Platform.WEB.value:
            return True
        standing = exists().where(
            and_(
                household_invitations.c.redeemed_by == user_id,
                household_invitations.c.revoked_at.is_(None),
            )
        )
        return bool((await self._db.execute(select(standing))).scalar())

    async def platform_of(self, user_id: int) -> Platform | None:
        value = (
            await self._db.execute(select(users.c.platform).where(users.c.user_id == user_id))
        ).scalar_one_or_none()
        return Platform(value) if value is not None else None

    async def buildings_held(self, user_id: int) -> list[int]:
        """The buildings where the person holds a role themselves (楼栋长, 楼栋管理员)."""
        rows = await self._db.execute(
            select(role_grants.c.node_id)
            .join(nodes, nodes.c.id == role_grants.c.node_id)
            .where(role_grants.c.user_id == user_id, nodes.c.level == Level.BUILDING.value)
            .order_by(role_grants.c.node_id)
        )
        return [int(node_id) for (node_id,) in rows]
