"""One repository per aggregate, bundled per transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.repositories.app_settings import AppSettingsRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.calendar_feeds import (
    CalendarFeedRepository,
    PublicPageRepository,
    ReachRepository,
)
from storage.repositories.chat_moves import ChatMoveRepository
from storage.repositories.chats import ChatRepository
from storage.repositories.digests import DigestRepository
from storage.repositories.escalations import EscalationRepository
from storage.repositories.households import HouseholdRepository
from storage.repositories.inbox import InboxRepository
from storage.repositories.invitations import InvitationRepository
from storage.repositories.leases import LeaseRepository
from storage.repositories.links import LinkRepository
from storage.repositories.meetings import MeetingRepository
from storage.repositories.operations import OperationsRepository
from storage.repositories.orgs import OrgRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.outbox_parts import OutboxPartRepository
from storage.repositories.proposals import ProposalRepository
from storage.repositories.roles import RoleRepository
from storage.repositories.stats import StatsRepository
from storage.repositories.timers import TimerRepository
from storage.repositories.topics import TopicRepository
from storage.repositories.users import UserRepository
from storage.repositories.web_sessions import WebSessionRepository


class Repositories:
    """The repositories of one transaction, sharing its connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.orgs = OrgRepository(connection)
        self.chats = ChatRepository(connection)
        self.chat_moves = ChatMoveRepository(connection)
        self.users = UserRepository(connection)
        self.links = LinkRepository(connection)
        self.roles = RoleRepository(connection)
        self.households = HouseholdRepository(connection)
        self.invitations = InvitationRepository(connection)
        self.audit = AuditRepository(connection)
        self.topics = TopicRepository(connection)
        self.proposals = ProposalRepository(connection)
        self.timers = TimerRepository(connection)
        self.outbox = OutboxRepository(connection)
        self.outbox_parts = OutboxPartRepository(connection)
        self.escalations = EscalationRepository(connection)
        self.digests = DigestRepository(connection)
        self.meetings = MeetingRepository(connection)
        self.stats = StatsRepository(connection)
        self.inbox = InboxRepository(connection)
        self.leases = LeaseRepository(connection)
        self.app_settings = AppSettingsRepository(connection)
        self.operations = OperationsRepository(connection)
        self.web_sessions = WebSessionRepository(connection)
        self.calendar_feeds = CalendarFeedRepository(connection)
        self.public_pages = PublicPageRepository(connection)
        self.reach = ReachRepository(connection)


__all__ = [
    "AppSettingsRepository",
    "AuditRepository",
    "ChatMoveRepository",
    "ChatRepository",
    "DigestRepository",
    "EscalationRepository",
    "HouseholdRepository",
    "InboxRepository",
    "InvitationRepository",
    "LeaseRepository",
    "MeetingRepository",
    "OperationsRepository",
    "OrgRepository",
    "OutboxRepository",
    "ProposalRepository",
    "Repositories",
    "RoleRepository",
    "StatsRepository",
    "TimerRepository",
    "TopicRepository",
    "UserRepository",
    "WebSessionRepository",
]
