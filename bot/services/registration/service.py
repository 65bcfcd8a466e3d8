"""Residents registering their household (``/register 2-502 89.5``) and officers deciding."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.events import RegistrationCardChanged
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.unit_of_work import UnitOfWork
from storage.records import (
    Household,
    Level,
    Node,
    Registration,
    RegistrationCard,
    RegistrationStatus,
    User,
)
from storage.repositories import Repositories

MAX_AREA = Decimal(10000)
_UNIT = re.compile(r"([0-9A-Z]{1,4})-([0-9A-Z]{1,6})")
_DASHES = "‐‑‒–—―−－﹣~～"
_AREA_SUFFIXES = ("㎡", "m²", "m2", "平方米", "平米", "平")


@dataclass(frozen=True, slots=True)
class RegistrationOutcome:
    registration: Registration
    node: Node
    needs_approval: bool
    replaced: bool


@dataclass(frozen=True, slots=True)
class Decision:
    registration: Registration
    resident: User | None
    node: Node


@dataclass(frozen=True, slots=True)
class HouseholdMembers:
    household: Household
    members: list[tuple[Registration, User | None]]


@dataclass(frozen=True, slots=True)
class MemberList:
    node: Node
    households: list[HouseholdMembers]
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class PendingCard:
    """What a building's pending-registrations card shows, and where it was last shown."""

    node: Node
    chat_id: int
    pending: list[tuple[Registration, User | None]]
    decided: list[tuple[Registration, User | None]]  # the latest decisions, newest first
    card: RegistrationCard | None


DECIDED_SHOWN = 5


def parse_unit(text: str) -> str:
    """``2-502`` (also fullwidth, other dashes, lower case) -> ``2-502``; else a Refusal."""
    normalized = unicodedata.normalize("NFKC", text).strip().upper()
    for dash in _DASHES:
        normalized = normalized.replace(dash, "-")
    if not _UNIT.fullmatch(normalized):
        raise Refusal("registration.bad_unit", given=text[:40])
    return normalized


def is_area_unit(word: str) -> bool:
    """Whether ``word`` is only a unit of area (``平方米``, ``㎡``): typed apart from its number."""
    folded = unicodedata.normalize("NFKC", word).strip().lower()
    return folded in {unicodedata.normalize("NFKC", suffix).lower() for suffix in _AREA_SUFFIXES}


def parse_area(text: str) -> Decimal:
    """``89.5`` / ``89.5㎡`` -> Decimal('89.50'); must be > 0 and <= 10000."""
    cleaned = unicodedata.normalize("NFKC", text).strip().lower()
    for suffix in _AREA_SUFFIXES:
        cleaned = cleaned.removesuffix(suffix.lower())
    try:
        area = Decimal(cleaned)
    except InvalidOperation:
        raise Refusal("registration.bad_area", given=text[:40]) from None
    if not area.is_finite() or area <= 0 or area > MAX_AREA:
        raise Refusal("registration.area_out_of_range", given=text[:40], limit=MAX_AREA)
    return area.quantize(Decimal("0.01"))


class RegistrationService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def register(
        self, actor: Actor, place: Place, unit_text: str, area_text: str | None
    ) -> RegistrationOutcome:
        node = await self._building_of(place)
        unit = parse_unit(unit_text)
        area = parse_area(area_text) if area_text else None
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            previous = await repos.households.registration_of(actor.user_id, node.id)
            if (
                previous is not None
                and previous.status != RegistrationStatus.REJECTED
                and previous.unit == unit
                and (area is None or previous.area == area)
            ):
                raise Refusal("registration.already_registered", unit=unit, status=previous.status)
            household = await repos.households.ensure_household(node.id, unit, now)
            status = (
                RegistrationStatus.PENDING
                if node.requires_approval
                else RegistrationStatus.APPROVED
            )
            registration_id = await repos.households.register(
                user_id=actor.user_id,
                node_id=node.id,
                household_id=household.id,
                area=area,
                status=status,
                now=now,
            )
            if status == RegistrationStatus.APPROVED and area is not None:
                await repos.households.set_area(household.id, area)
            await repos.audit.record(
                action="registration.submitted",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                unit=unit,
                area=str(area) if area is not None else None,
                status=status,
            )
            registration = await repos.households.registration(registration_id)
            if status == RegistrationStatus.PENDING:
                repos.record(RegistrationCardChanged(node.id))
        assert registration is not None
        return RegistrationOutcome(
            registration=registration,
            node=node,
            needs_approval=status == RegistrationStatus.PENDING,
            replaced=previous is not None,
        )

    async def decide(
        self, actor: Actor, chat_id: int, registration_id: int, *, approve: bool
    ) -> Decision:
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            registration = await repos.households.registration(registration_id)
            node = await repos.orgs.node_of_chat(chat_id)
            if registration is None or node is None or registration.node_id != node.id:
                raise Refusal("registration.not_found")
            if not is_officer(await rank_at(repos, actor, node), node):
                raise Refusal("registration.decide_needs_officer")
            status = RegistrationStatus.APPROVED if approve else RegistrationStatus.REJECTED
            if not await repos.households.decide(
                registration_id, status=status, decided_by=actor.user_id, now=now
            ):
                raise Refusal("registration.already_decided", status=registration.status)
            if approve and registration.area is not None:
                await repos.households.set_area(registration.household_id, registration.area)
            await repos.audit.record(
                action=f"registration.{status}",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=chat_id,
                user_id=registration.user_id,
                unit=registration.unit,
            )
            decided = await repos.households.registration(registration_id)
            resident = await repos.users.get(registration.user_id)
            repos.record(RegistrationCardChanged(node.id))
        assert decided is not None
        return Decision(registration=decided, resident=resident, node=node)

    async def members(self, actor: Actor, place: Place) -> MemberList:
        node = await self._building_of(place)
        async with self._uow.transaction() as repos:
            if not is_officer(await rank_at(repos, actor, node), node):
                raise Refusal("registration.members_needs_officer")
            households = await repos.households.households_of(node.id)
            registrations = await repos.households.registrations_of(node.id)
            people = await repos.users.many(sorted({r.user_id for r in registrations}))
            counts = await repos.households.count_by_status(node.id)
        listing = []
        for household in households:
            members = [
                (registration, people.get(registration.user_id))
                for registration in registrations
                if registration.household_id == household.id
            ]
            if members:
                listing.append(HouseholdMembers(household=household, members=members))
        return MemberList(node=node, households=listing, counts=counts)

    async def pending_card(self, node_id: int) -> PendingCard | None:
        """The card's content, or None when the building has no chat to show it in."""
        async with self._uow.transaction() as repos:
            node = await repos.orgs.node(node_id)
            binding = await repos.orgs.binding_of_node(node_id)
            if node is None or binding is None or not binding.active:
                return None
            pending = [
                r
                for r in await repos.households.registrations_of(node_id)
                if r.status == RegistrationStatus.PENDING
            ]
            decided = await repos.households.decided_lately(node_id, DECIDED_SHOWN)
            people = await repos.users.many(sorted({r.user_id for r in pending + decided}))
            card = await repos.households.card(node_id)
        return PendingCard(
            node=node,
            chat_id=binding.chat_id,
            pending=[(r, people.get(r.user_id)) for r in pending],
            decided=[(r, people.get(r.user_id)) for r in decided],
            card=card,
        )

    async def record_card(self, card: RegistrationCard) -> None:
        async with self._uow.transaction() as repos:
            await repos.households.record_card(card)

    async def cards_to_refresh(self) -> list[int]:
        async with self._uow.transaction() as repos:
            return await repos.households.nodes_with_cards_to_refresh()

    async def _building_of(self, place: Place) -> Node:
        async with self._uow.transaction() as repos:
            return await self._require_building(repos, place)

    @staticmethod
    async def _require_building(repos: Repositories, place: Place) -> Node:
        node = await repos.orgs.node_of_chat(place.chat_id) if place.is_group else None
        if node is None or node.level != Level.BUILDING:
            raise Refusal("registration.needs_building_chat")
        return node
