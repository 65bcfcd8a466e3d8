"""Households (户) of a building and the residents registered in them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Household, Registration, RegistrationCard, RegistrationStatus
from storage.tables import households, registration_cards, registrations
from storage.upsert import insert_ignore

_REGISTRATION_COLUMNS = (
    registrations.c.id,
    registrations.c.user_id,
    registrations.c.node_id,
    registrations.c.household_id,
    households.c.unit,
    registrations.c.area,
    registrations.c.status,
    registrations.c.created_at,
    registrations.c.decided_by,
)


def _household(row: Any) -> Household:
    return Household(id=row.id, node_id=row.node_id, unit=row.unit, area=row.area)


def _registration(row: Any) -> Registration:
    return Registration(
        id=row.id,
        user_id=row.user_id,
        node_id=row.node_id,
        household_id=row.household_id,
        unit=row.unit,
        area=row.area,
        status=RegistrationStatus(row.status),
        created_at=row.created_at,
        decided_by=row.decided_by,
    )


class HouseholdRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def household(self, node_id: int, unit: str) -> Household | None:
        row = (
            await self._db.execute(
                select(households).where(households.c.node_id == node_id, households.c.unit == unit)
            )
        ).first()
        return _household(row) if row else None

    async def ensure_household(self, node_id: int, unit: str, now: datetime) -> Household:
        await insert_ignore(
            self._db,
            households,
            {"node_id": node_id, "unit": unit, "created_at": now},
            conflict=["node_id", "unit"],
        )
        found = await self.household(node_id, unit)
        assert found is not None
        return found

    async def set_area(self, household_id: int, area: Decimal) -> None:
        await self._db.execute(
            update(households).where(households.c.id == household_id).values(area=area)
        )

    async def households_of(self, node_id: int) -> list[Household]:
        rows = await self._db.execute(
            select(households).where(households.c.node_id == node_id).order_by(households.c.unit)
        )
        return [_household(row) for row in rows]

    async def registration(self, registration_id: int) -> Registration | None:
        row = (
            await self._db.execute(
                select(*_REGISTRATION_COLUMNS)
                .join(households, households.c.id == registrations.c.household_id)
                .where(registrations.c.id == registration_id)
            )
        ).first()
        return _registration(row) if row else None

    async def registration_of(self, user_id: int, node_id: int) -> Registration | None:
        row = (
            await self._db.execute(
                select(*_REGISTRATION_COLUMNS)
                .join(households, households.c.id == registrations.c.household_id)
                .where(registrations.c.user_id == user_id, registrations.c.node_id == node_id)
            )
        ).first()
        return _registration(row) if row else None

    async def registrations_of_user(self, user_id: int) -> list[Registration]:
        """The user's registrations at every node (the web's "my household" page)."""
        rows = await self._db.execute(
            select(*_REGISTRATION_COLUMNS)
            .join(households, households.c.id == registrations.c.household_id)
            .where(registrations.c.user_id == user_id)
            .order_by(registrations.c.created_at)
        )
        return [_registration(row) for row in rows]

    async def registrations_of(self, node_id: int) -> list[Registration]:
        rows = await self._db.execute(
            select(*_REGISTRATION_COLUMNS)
            .join(households, households.c.id == registrations.c.household_id)
            .where(registrations.c.node_id == node_id)
            .order_by(households.c.unit, registrations.c.created_at)
        )
        return [_registration(row) for row in rows]

    async def register(
        self,
        *,
        user_id: int,
        node_id: int,
        household_id: int,
        area: Decimal | None,
        status: RegistrationStatus,
        now: datetime,
    ) -> int:
        """Create or replace the user's registration in this building; returns its id."""
        existing = await self.registration_of(user_id, node_id)
        values = {
            "household_id": household_id,
            "area": area,
            "status": status,
            "created_at": now,
            "decided_by": None,
            "decided_at": None,
        }
        if existing is not None:
            await self._db.execute(
                update(registrations).where(registrations.c.id == existing.id).values(**values)
            )
            return existing.id
        result = await self._db.execute(
            registrations.insert()
            .values(user_id=user_id, node_id=node_id, **values)
            .returning(registrations.c.id)
        )
        return int(result.scalar_one())

    async def decide(
        self, registration_id: int, *, status: RegistrationStatus, decided_by: int, now: datetime
    ) -> bool:
        """Approve or reject a pending registration; False if it was no longer pending."""
        result = await self._db.execute(
            update(registrations)
            .where(
                registrations.c.id == registration_id,
                registrations.c.status == RegistrationStatus.PENDING,
            )
            .values(status=status, decided_by=decided_by, decided_at=now)
        )
        return bool(result.rowcount)

    async def count_by_status(self, node_id: int) -> dict[str, int]:
        rows = await self._db.execute(
            select(registrations.c.status, func.count())
            .where(registrations.c.node_id == node_id)
            .group_by(registrations.c.status)
        )
        return {status: int(count) for status, count in rows}

    async def household_by_id(self, household_id: int) -> Household | None:
        row = (
            await self._db.execute(select(households).where(households.c.id == household_id))
        ).first()
        return _household(row) if row else None

    # The pending-registrations card of a building group ------------------------------------

    async def decided_lately(self, node_id: int, limit: int) -> list[Registration]:
        """The building's latest decided registrations, newest first."""
        rows = await self._db.execute(
            select(*_REGISTRATION_COLUMNS)
            .join(households, households.c.id == registrations.c.household_id)
            .where(registrations.c.node_id == node_id, registrations.c.decided_at.is_not(None))
            .order_by(registrations.c.decided_at.desc(), registrations.c.id.desc())
            .limit(limit)
        )
        return [_registration(row) for row in rows]

    async def card(self, node_id: int) -> RegistrationCard | None:
        row = (
            await self._db.execute(
                select(registration_cards).where(registration_cards.c.node_id == node_id)
            )
        ).first()
        if row is None:
            return None
        return RegistrationCard(
            node_id=row.node_id,
            chat_id=row.chat_id,
            message_id=row.message_id,
            rendered_hash=row.rendered_hash,
            pending_shown=row.pending_shown,
        )

    async def record_card(self, card: RegistrationCard) -> None:
        values = {
            "chat_id": card.chat_id,
            "message_id": card.message_id,
            "rendered_hash": card.rendered_hash,
            "pending_shown": card.pending_shown,
        }
        updated = await self._db.execute(
            update(registration_cards)
            .where(registration_cards.c.node_id == card.node_id)
            .values(**values)
        )
        if not updated.rowcount:
            await self._db.execute(
                registration_cards.insert().values(node_id=card.node_id, **values)
            )

    async def nodes_with_cards_to_refresh(self) -> list[int]:
        """Buildings with a card or a pending registration (synced once after a restart)."""
        pending = select(registrations.c.node_id).where(
            registrations.c.status == RegistrationStatus.PENDING
        )
        carded = select(registration_cards.c.node_id)
        rows = await self._db.execute(pending.union(carded))
        return sorted(int(node_id) for (node_id,) in rows)
