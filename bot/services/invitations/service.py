"""Household invitations: a building's officer issues one-time codes (/invite 2-502, or a sheet
for the whole building), a resident with no bot redeems one on the web page after confirming
the unit and becomes a web-only person registered in that household; /revoke ends them.

A web-only person is a ``users`` row on the platform ``web``, registered (approved) in the
household: on household topics they cast or change the household's one ballot (its key is the
household's, whoever presses); per-person topics count the members of the bound chat, which a
web-only person is not, so they are refused there with the reason (topics/ballots.py).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.events import RegistrationCardChanged
from bot.services.invitations.units import MAX_SHEET_UNITS, choose_units
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.registration.service import parse_unit
from bot.services.unit_of_work import UnitOfWork
from storage.records import HouseholdInvitation, Level, Node, RegistrationStatus
from storage.repositories import Repositories

# An unused invitation lasts 30 days: a sheet stays posted at the entrance for weeks, and a
# household away for a fortnight still finds its code good; a month later the officer prints
# a new one (issuing again does not void the old ones: /revoke does).
INVITATION_TTL = timedelta(days=30)
# 20 symbols of the bind codes' alphabet (no look-alikes, lower case for a URL): about 99
# bits, so codes are not guessed however many are tried; only their SHA-256 is stored.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 20
JOIN_PATH = "/join/"


def new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()


def join_link(public_url: str, code: str) -> str:
    """The page that redeems ``code``: ``<YISHI_PUBLIC_URL>/join/<code>``."""
    return public_url.rstrip("/") + JOIN_PATH + code


def code_of_link(text: str) -> str:
    """The code in a join link (or the code itself)."""
    return text.strip().rsplit(JOIN_PATH, 1)[-1].strip("/ ")


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    code: str  # shown once, never stored
    unit: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedSheet:
    node: Node
    invitations: list[IssuedInvitation]  # by unit


@dataclass(frozen=True, slots=True)
class InvitationLook:
    """What the redeem page shows before the resident confirms: whose household it is for."""

    node: Node
    unit: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Redeemed:
    user_id: int  # the new web-only person
    node: Node
    unit: str
    household_id: int


@dataclass(frozen=True, slots=True)
class Revoked:
    node: Node
    unit: str
    invitations: int  # the invitations ended (used or not)
    people: int  # the web-only people whose access ended


class InvitationService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    # The officer's side -------------------------------------------------------------------

    async def issue(
        self, actor: Actor, place: Place, unit_text: str
    ) -> tuple[Node, IssuedInvitation]:
        """One invitation for the household ``unit_text`` of the officer's building."""
        unit = parse_unit(unit_text)
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            node = await self._officer_building(repos, actor, place)
            issued = await self._issue(repos, actor, node, unit, now)
            await repos.audit.record(
                action="invitation.issued",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                unit=unit,
            )
        return node, issued

    async def issue_sheet(self, actor: Actor, place: Place, text: str) -> IssuedSheet:
        """Invitations for ``all`` the households the building knows, or for the units and
        ranges given (``2-501~2-504 3-101``): one each, for a sheet to print."""
        choice = choose_units(text)
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            node = await self._officer_building(repos, actor, place)
            if choice.everyone:
                units = [
                    household.unit for household in await repos.households.households_of(node.id)
                ]
                if not units:
                    raise Refusal("invitations.no_households")
                if len(units) > MAX_SHEET_UNITS:
                    raise Refusal("invitations.too_many_units", limit=MAX_SHEET_UNITS)
            else:
                units = list(choice.units)
            issued = [await self._issue(repos, actor, node, unit, now) for unit in units]
            await repos.audit.record(
                action="invitation.sheet_issued",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                units=len(issued),
            )
        return IssuedSheet(
            node=node, invitations=sorted(issued, key=lambda one: _unit_order(one.unit))
        )

    async def revoke(self, actor: Actor, place: Place, unit_text: str) -> Revoked:
        """End every invitation of the household and the access of every web-only person
        they made: their registrations end (the record stays); a ballot the household cast
        stays the household's."""
        unit = parse_unit(unit_text)
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            node = await self._officer_building(repos, actor, place)
            household = await repos.households.household(node.id, unit)
            if household is None:
                raise Refusal("invitations.nothing_to_revoke", unit=unit)
            before = await repos.invitations.of_household(household.id)
            people = await repos.invitations.revoke_household(
                household.id, by=actor.user_id, now=now
            )
            ended = sum(1 for invitation in before if invitation.revoked_at is None)
            if not ended:
                raise Refusal("invitations.nothing_to_revoke", unit=unit)
            await repos.invitations.reject_registrations(people, by=actor.user_id, now=now)
            for person in people:  # their browsers are signed out at their next request
                await repos.web_sessions.revoke_user(person, now)
            await repos.audit.record(
                action="invitation.revoked",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                unit=unit,
                invitations=ended,
                people=len(people),
            )
            if people:
                repos.record(RegistrationCardChanged(node.id))
        return Revoked(node=node, unit=unit, invitations=ended, people=len(people))

    # The resident's side (the web page) ---------------------------------------------------

    async def look(self, code: str) -> InvitationLook:
        """The household an invitation is for, if it can still be redeemed; else the
        refusal saying why (unknown, used, revoked, expired)."""
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            invitation = await self._usable(repos, code, now)
            node = await repos.orgs.node(invitation.node_id)
        assert node is not None
        return InvitationLook(node=node, unit=invitation.unit, expires_at=invitation.expires_at)

    async def redeem(self, code: str, confirmed_unit: str) -> Redeemed:
        """The resident confirmed their unit: a web-only person registered (approved) in the
        household; the code is used. Refused, with nothing changed, when the code is unknown,
        used, revoked or expired, or the unit confirmed is not the invitation's."""
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            invitation = await self._usable(repos, code, now)
            try:
                unit = parse_unit(confirmed_unit)
            except Refusal:
                raise Refusal("invitations.wrong_unit", given=confirmed_unit[:40]) from None
            if unit != invitation.unit:
                raise Refusal("invitations.wrong_unit", given=unit)
            user_id = await repos.invitations.new_web_person(name=invitation.unit, now=now)
            if not await repos.invitations.claim(invitation.id, user_id=user_id, now=now):
                raise Refusal("invitations.used")  # redeemed meanwhile: this one rolls back
            await repos.households.register(
                user_id=user_id,
                node_id=invitation.node_id,
                household_id=invitation.household_id,
                area=None,
                status=RegistrationStatus.APPROVED,
                now=now,
            )
            await repos.audit.record(
                action="invitation.redeemed",
                actor_id=user_id,
                now=now,
                node_id=invitation.node_id,
                unit=invitation.unit,
                issued_by=invitation.issued_by,
            )
            node = await repos.orgs.node(invitation.node_id)
        assert node is not None
        return Redeemed(
            user_id=user_id, node=node, unit=invitation.unit, household_id=invitation.household_id
        )

    async def is_active(self, user_id: int) -> bool:
        """Whether the person may still act: anyone but a web-only person whose invitation
        was revoked (the web sessions ask this on every request)."""
        async with self._uow.transaction() as repos:
            return await repos.invitations.is_active(user_id)

    # -------------------------------------------------------------------------------------

    async def _issue(
        self, repos: Repositories, actor: Actor, node: Node, unit: str, now: datetime
    ) -> IssuedInvitation:
        household = await repos.households.ensure_household(node.id, unit, now)
        code = new_code()
        expires_at = now + INVITATION_TTL
        await repos.invitations.add(
            code_hash=code_hash(code),
            node_id=node.id,
            household_id=household.id,
            issued_by=actor.user_id,
            now=now,
            expires_at=expires_at,
        )
        return IssuedInvitation(code=code, unit=unit, expires_at=expires_at)

    @staticmethod
    async def _usable(repos: Repositories, code: str, now: datetime) -> HouseholdInvitation:
        invitation = await repos.invitations.by_hash(code_hash(code_of_link(code)))
        if invitation is None:
            raise Refusal("invitations.unknown_code")
        if invitation.revoked_at is not None:
            raise Refusal("invitations.revoked", unit=invitation.unit)
        if invitation.redeemed_at is not None:
            raise Refusal("invitations.used")
        if invitation.expires_at <= now:
            raise Refusal("invitations.expired", unit=invitation.unit)
        return invitation

    @staticmethod
    async def _officer_building(repos: Repositories, actor: Actor, place: Place) -> Node:
        """The building the officer acts for: the group's, or in a private chat the one
        building where they hold a role; refused unless they are its officer or above."""
        if place.is_group:
            node = await repos.orgs.node_of_chat(place.chat_id)
            if node is None or node.level != Level.BUILDING:
                raise Refusal("invitations.needs_building")
        else:
            held = await repos.invitations.buildings_held(actor.user_id)
            if len(held) != 1:
                raise Refusal("invitations.needs_building_group")
            node = await repos.orgs.node(held[0])
            assert node is not None
        if not is_officer(await rank_at(repos, actor, node), node):
            raise Refusal("invitations.needs_officer")
        return node


def _unit_order(unit: str) -> tuple[tuple[int, str], ...]:
    """2-502 before 2-1001 before 10-101: numbers as numbers."""
    return tuple((int(part), "") if part.isdigit() else (0, part) for part in unit.split("-"))
