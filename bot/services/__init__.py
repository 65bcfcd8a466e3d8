"""The transport-neutral domain: plain values in, result objects or :class:`Refusal` out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.bus import EventBus
from bot.catalogue import Catalogue
from bot.clock import Clock
from bot.outbox import OutboxSender
from bot.services.announcements import DigestDue
from bot.services.escalation.sending_up import REMINDER_TIMER, SLA_TIMER
from bot.services.escalation.service import EscalationService
from bot.services.feedback.opinions import OpinionService
from bot.services.feedback.proposals import ProposalService
from bot.services.invitations.service import InvitationService
from bot.services.meetings.service import MeetingService
from bot.services.organisation.links import LinkService
from bot.services.organisation.people import PeopleService
from bot.services.organisation.roles import RoleService
from bot.services.organisation.service import OrgService
from bot.services.registration.service import RegistrationService
from bot.services.reports.digest import DIGEST_TIMER, DigestService
from bot.services.reports.export import ExportService
from bot.services.reports.stats import StatsService
from bot.services.sharing import SharingService
from bot.services.topics.closing import CLOSE_TIMER, NUDGE_TIMER, close_when_due
from bot.services.topics.nudges import NudgeService, on_nudge_due
from bot.services.topics.offline_ballots import OfflineBallots
from bot.services.topics.service import TopicService
from bot.services.unit_of_work import UnitOfWork
from bot.services.web.public_record import PublicRecords
from bot.services.web.sessions import WebSessionService
from bot.services.web_links import WebLinks
from bot.settings import Settings
from bot.timers import TimerEngine
from storage.database import Database

if TYPE_CHECKING:
    from bot.metrics import Metrics


@dataclass(frozen=True, slots=True)
class Services:
    database: Database
    clock: Clock
    settings: Settings
    catalogue: Catalogue
    bus: EventBus
    work: UnitOfWork
    timers: TimerEngine
    outbox: OutboxSender
    orgs: OrgService
    roles: RoleService
    registration: RegistrationService
    invitations: InvitationService
    people: PeopleService
    links: LinkService
    topics: TopicService
    opinions: OpinionService
    proposals: ProposalService
    offline_ballots: OfflineBallots
    nudges: NudgeService
    escalation: EscalationService
    digest: DigestService
    export: ExportService
    meetings: MeetingService
    stats: StatsService
    web_sessions: WebSessionService
    sharing: SharingService
    public_records: PublicRecords

    @classmethod
    def build(
        cls,
        database: Database,
        clock: Clock,
        settings: Settings,
        catalogue: Catalogue,
        *,
        realtime: bool = True,
        metrics: Metrics | None = None,
    ) -> Services:
        bus = EventBus()
        work = UnitOfWork(database, bus)  # publishes what a transaction recorded, once committed
        timers = TimerEngine(work, clock, realtime=realtime)
        escalation = EscalationService(work, clock, sla_default=settings.escalation_sla)
        timers.on_batch(CLOSE_TIMER, close_when_due(settings.escalation_sla))
        timers.on(NUDGE_TIMER, on_nudge_due)
        timers.on(REMINDER_TIMER, escalation.on_reminder_due)
        timers.on(SLA_TIMER, escalation.on_sla_due)
        meetings = MeetingService(work, clock, zone=settings.zone)
        meetings.register_timers(timers)
        digest = DigestService(database, clock, at=settings.digest_time, zone=settings.zone)
        timers.on(DIGEST_TIMER, digest.on_digest_due)
        outbox = OutboxSender(database, clock)
        outbox.when_gone(DigestDue.kind, digest.chat_gone)
        orgs = OrgService(work, clock)
        outbox.on_chat_gone(orgs.chat_gone)  # a bound group that refused: paused, parent told
        outbox.on_chat_migrated(orgs.chat_migrated)  # rows and living messages follow the chat
        topics = TopicService(
            work,
            clock,
            nudge_before=settings.nudge_before,
            sla_default=settings.escalation_sla,
            on_ballot=None if metrics is None else metrics.button_ballot,
        )
        return cls(
            database=database,
            clock=clock,
            settings=settings,
            catalogue=catalogue,
            bus=bus,
            work=work,
            timers=timers,
            outbox=outbox,
            orgs=orgs,
            roles=RoleService(database, clock),
            registration=RegistrationService(work, clock),
            invitations=InvitationService(work, clock),
            people=PeopleService(database, clock, settings.locale),
            links=LinkService(work, clock),
            topics=topics,
            opinions=OpinionService(work, clock),
            proposals=ProposalService(work, clock, catalogue, topics),
            offline_ballots=OfflineBallots(work, clock),
            nudges=NudgeService(work, clock),
            escalation=escalation,
            digest=digest,
            export=ExportService(database, clock, catalogue),
            meetings=meetings,
            stats=StatsService(database, clock),
            web_sessions=WebSessionService(work, clock),
            sharing=SharingService(work, clock, WebLinks.of(settings)),
            public_records=PublicRecords(work, clock),
        )
