"""The transport-neutral domain: plain values in, result objects or :class:`Refusal` out."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.services.orgs import OrgService
from bot.services.people import PeopleService
from bot.services.registration import RegistrationService
from bot.services.roles import RoleService
from bot.settings import Settings
from storage.database import Database


@dataclass(frozen=True, slots=True)
class Services:
    database: Database
    clock: Clock
    orgs: OrgService
    roles: RoleService
    registration: RegistrationService
    people: PeopleService

    @classmethod
    def build(cls, database: Database, clock: Clock, settings: Settings) -> Services:
        return cls(
            database=database,
            clock=clock,
            orgs=OrgService(database, clock),
            roles=RoleService(database, clock),
            registration=RegistrationService(database, clock),
            people=PeopleService(database, clock, settings.locale),
        )
