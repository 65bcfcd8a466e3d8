"""/register and /members. A registration that waits for approval shows on the building's
pending-registrations card, which each channel keeps its way (the service records the
change: ``RegistrationCardChanged``)."""

from __future__ import annotations

from decimal import Decimal

from bot.commands.base import Asked, Reply, UsageError, lines, said
from bot.commands.roles import person
from bot.services.announcement_texts import Joined, Line, Said
from bot.services.registration.service import is_area_unit
from storage.records import RegistrationStatus


def area_said(area: Decimal | None) -> Said:
    """``89.5㎡``, or "面积未填" when the resident gave none."""
    if area is None:
        return Said("registration.area_unknown")
    return Said("registration.area", {"area": area})


async def register(asked: Asked) -> Reply | None:
    args = asked.text.split()
    if len(args) == 3 and is_area_unit(args[2]):  # "89.5 平方米": the unit after a space
        args = [args[0], args[1] + args[2]]
    if not 1 <= len(args) <= 2:
        raise UsageError("registration.usage")
    outcome = await asked.services.registration.register(
        asked.actor, asked.place, args[0], args[1] if len(args) > 1 else None
    )
    if outcome.needs_approval:
        return None  # the building's card shows it, for its officers to decide
    registration = outcome.registration
    user = await asked.services.people.user(asked.actor.user_id)
    assert user is not None  # the sender is known before any command runs
    return said(
        "registration.registered",
        user=person(user),
        unit=registration.unit,
        area=area_said(registration.area),
    )


async def members(asked: Asked) -> Reply:
    listing = await asked.services.registration.members(asked.actor, asked.place)
    parts: list[Line] = [
        Said(
            "registration.members_title",
            {
                "name": listing.node.name,
                "households": len(listing.households),
                "approved": listing.counts.get(RegistrationStatus.APPROVED, 0),
                "pending": listing.counts.get(RegistrationStatus.PENDING, 0),
            },
        )
    ]
    for entry in listing.households:
        people = tuple(
            Said(
                "registration.members_person",
                {
                    "user": person(user) if user else str(reg.user_id),
                    "status": Said(f"statuses.{reg.status}"),
                },
            )
            for reg, user in entry.members
        )
        parts.append(
            Said(
                "registration.members_line",
                {
                    "unit": entry.household.unit,
                    "area": area_said(entry.household.area),
                    "people": Joined(people, ", "),
                },
            )
        )
    if not listing.households:
        parts.append(Said("registration.members_none"))
    return lines(*parts)


COMMANDS = {"register": register, "members": members}
