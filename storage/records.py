"""Plain, immutable rows as the repositories hand them to the services, and the closed sets
of values their state columns hold.

Each ``StrEnum`` here is the one source of truth for a column: ``storage/tables.py`` builds the
column's CHECK constraint from it, the repositories turn what they read into its members, and
the domain compares with its members (a member equals its string, so callers that still hold
the string agree with it).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

E = TypeVar("E", bound=StrEnum)


def member_of(kind: type[E]) -> Callable[[str], E]:
    """``kind(value)`` for a value its column holds, as a dict look-up: calling an enum takes
    two Python calls (about 2.7 µs here, 0.16 µs the look-up), and a row reader on the vote's
    path (``read_presses`` builds a topic for every press) calls it for every row."""
    return {member.value: member for member in kind}.__getitem__


# --- The closed sets of the state columns ---------------------------------------------------


class Level(StrEnum):
    """A node's level in the organisation tree (楼栋 → 网格 → 社区), top first."""

    COMMUNITY = "community"
    GRID = "grid"
    BUILDING = "building"


class RoleName(StrEnum):
    """The roles that can be granted, lowest first (``Rank`` in the domain orders them)."""

    BUILDING_OFFICER = "building_officer"
    BUILDING_HEAD = "building_head"
    GRID_WORKER = "grid_worker"
    GRID_HEAD = "grid_head"
    COMMUNITY_STAFF = "community_staff"
    COMMUNITY_ADMIN = "community_admin"


class ChatType(StrEnum):
    """A chat's type as Telegram names it."""

    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class BotStatus(StrEnum):
    """The bot's membership of a chat: Telegram's ChatMember statuses, and ``migrated`` for a
    group that became a supergroup (its rows moved to the new id)."""

    CREATOR = "creator"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    RESTRICTED = "restricted"
    LEFT = "left"
    KICKED = "kicked"
    MIGRATED = "migrated"


class RegistrationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class TopicStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Rule(StrEnum):
    """How a topic is decided (``bot/services/topics/outcome.py``)."""

    MAJORITY = "majority"
    TWO_THIRDS = "2/3"
    ART278 = "278"
    ART278_MAJOR = "278-major"
    OPINION = "opinion"


class Scope(StrEnum):
    """Where a topic or a meeting reaches: the node's own chat, or every chat below it too."""

    HERE = "here"
    ALL = "all"


class BallotChannel(StrEnum):
    """How a ballot was cast: a button press, or recorded by an officer (扫楼, paper, video)."""

    BUTTON = "button"
    PAPER = "paper"
    VISIT = "visit"
    VIDEO = "video"


class ProposalStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class EscalationReason(StrEnum):
    """Why a matter went up: an unresolved outcome's reason, an officer, or a missed SLA."""

    NO_QUORUM = "no_quorum"
    TIE = "tie"
    NO_VOTES = "no_votes"
    MANUAL = "manual"
    SLA_EXPIRED = "sla_expired"


class EscalationState(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


#: A hop still waiting for its node: not yet resolved nor sent further up.
WAITING_STATES = (EscalationState.OPEN, EscalationState.ACCEPTED)


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY = "basically"
    UNSATISFIED = "unsatisfied"


class Repeat(StrEnum):
    ONCE = "once"
    WEEKLY = "weekly"
    MONTHLY_DAY = "monthly_day"
    MONTHLY_NTH = "monthly_nth"


class MeetingStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    ENDED = "ended"


class OccurrenceStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class Answer(StrEnum):
    """An answer to a meeting: 参加 (yes) or 请假 (no)."""

    YES = "yes"
    NO = "no"


class FileKind(StrEnum):
    """How a file is sent: as a photo or as a document."""

    PHOTO = "photo"
    DOCUMENT = "document"


class PartKind(StrEnum):
    """One Telegram message of a multi-part outbox row."""

    TEXT = "text"
    DOCUMENT = "document"
    PHOTO = "photo"


# --- The rows ---------------------------------------------------------------------------------


class Platform(StrEnum):
    """Where a chat or a person lives: the channel Yishi reaches them through."""

    TELEGRAM = "telegram"
    WECOM = "wecom"
    # A person who takes part from the web page only (a household invitation redeemed: a
    # WeChat resident with no bot); reached by no chat, so no chat is ever on this platform.
    WEB = "web"


# Yishi's own ids of chats and people on platforms other than Telegram start here: Telegram's
# ids have at most 52 significant bits (its Bot API says so), so none reaches 2**53.
FIRST_FOREIGN_ID = 2**53
# Yishi's own ids are drawn at random from [2**53, 2**53 + 2**62): concurrent first sightings
# never contend for "the next number", and a BIGINT holds them all.
FOREIGN_ID_SPAN = 2**62


# The message id recorded for a post on a platform whose sends return none (WeCom's
# aibot_send_msg): posted, and nothing to edit (WeCom updates a card only in a press's answer).
POSTED_WITHOUT_ID = 0


def on_telegram(chat_or_user_id: int) -> bool:
    """Whether the id is Telegram's own (any other platform's start at FIRST_FOREIGN_ID)."""
    return chat_or_user_id < FIRST_FOREIGN_ID


def new_foreign_id() -> int:
    """A new id for another platform's chat or person (unique: the key refuses a taken one)."""
    return FIRST_FOREIGN_ID + secrets.randbelow(FOREIGN_ID_SPAN)


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    level: Level
    name: str
    parent_id: int | None
    requires_approval: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Binding:
    node_id: int
    chat_id: int
    active: bool
    bound_at: datetime


@dataclass(frozen=True, slots=True)
class Chat:
    chat_id: int
    platform: Platform
    address: str  # the platform's own name of the chat (Telegram: the id in decimal)
    type: ChatType
    title: str | None
    locale: str | None
    bot_status: BotStatus


@dataclass(frozen=True, slots=True)
class BindCode:
    code: str
    parent_id: int
    level: Level
    name: str
    node_id: int | None
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    platform: Platform
    address: str  # the platform's own name of the person (Telegram: the id in decimal)
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
    locale: str | None
    started: bool

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True, slots=True)
class RoleGrant:
    user_id: int
    node_id: int
    role: RoleName
    granted_by: int | None
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class Household:
    id: int
    node_id: int
    unit: str
    area: Decimal | None


@dataclass(frozen=True, slots=True)
class Registration:
    id: int
    user_id: int
    node_id: int
    household_id: int
    unit: str
    area: Decimal | None
    status: RegistrationStatus
    created_at: datetime
    decided_by: int | None


@dataclass(frozen=True, slots=True)
class HouseholdInvitation:
    """A household invitation (``/invite 2-502``): a one-time code (only its hash is kept)
    that binds a browser to the household once the resident confirms the unit."""

    id: int
    node_id: int
    household_id: int
    unit: str
    issued_by: int
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None
    redeemed_by: int | None  # the web-only person it made
    revoked_at: datetime | None
    revoked_by: int | None


@dataclass(frozen=True, slots=True)
class RegistrationCard:
    """The message listing a building's pending registrations, as last posted or edited."""

    node_id: int
    chat_id: int
    message_id: int | None
    rendered_hash: str | None
    pending_shown: int


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: int | None
    action: str
    node_id: int | None
    chat_id: int | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Topic:
    id: int
    node_id: int
    title: str
    description: str
    options: tuple[str, ...]
    rule: Rule
    category: str | None
    quorum_percent: int | None
    secret: bool
    household: bool
    hide_results: bool
    scope: Scope
    status: TopicStatus
    deadline: datetime
    created_by: int
    created_at: datetime
    closed_at: datetime | None
    outcome: dict[str, Any] | None
    ballot_salt: str | None
    last_nudge_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status == TopicStatus.OPEN

    @property
    def is_opinion(self) -> bool:
        return self.rule == Rule.OPINION


@dataclass(frozen=True, slots=True)
class TopicPost:
    topic_id: int
    chat_id: int
    node_id: int
    message_id: int | None
    voting: bool
    members: int | None
    rendered_hash: str | None
    thread_id: int | None = None  # the forum topic it is posted in (None: none, or General)


@dataclass(frozen=True, slots=True)
class Ballot:
    topic_id: int
    voter_key: str
    option: int
    user_id: int | None
    household_id: int | None
    area: Decimal | None
    node_id: int | None
    channel: BallotChannel
    recorded_by: int | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Opinion:
    id: int
    topic_id: int
    user_id: int
    public: bool
    text: str
    chat_id: int | None
    message_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Proposal:
    id: int
    node_id: int
    chat_id: int
    user_id: int
    text: str
    status: ProposalStatus
    topic_id: int | None
    decided_by: int | None
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DueTimer:
    id: int
    kind: str
    ref: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    reply_to: int | None
    attempts: int
    thread_id: int | None = None  # the forum topic to post in


@dataclass(frozen=True, slots=True)
class OutboxPart:
    """One Telegram message of a multi-part outbox row: ``kind`` is text, document or photo;
    ``text`` the message or the file's caption; the file is ``data`` (uploaded, named
    ``filename``) or ``file_id`` (one Telegram has, e.g. a photo sent with minutes)."""

    seq: int
    kind: PartKind
    text: str | None = None
    filename: str | None = None
    data: bytes | None = None
    file_id: str | None = None
    message_id: int | None = None
    sent: bool = False


@dataclass(frozen=True, slots=True)
class Escalation:
    id: int
    topic_id: int
    from_node_id: int
    to_node_id: int
    reason: EscalationReason
    note: str | None
    escalated_by: int | None
    created_at: datetime
    sla_due_at: datetime | None
    state: EscalationState
    accepted_by: int | None
    closed_at: datetime | None
    card_chat_id: int | None
    card_message_id: int | None
    card_hash: str | None

    @property
    def is_active(self) -> bool:
        return self.state in WAITING_STATES


@dataclass(frozen=True, slots=True)
class Resolution:
    topic_id: int
    node_id: int
    decision: str
    resolved_by: int
    resolved_at: datetime
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class ProgressUpdate:
    id: int
    topic_id: int
    text: str
    posted_by: int
    posted_at: datetime


@dataclass(frozen=True, slots=True)
class Meeting:
    id: int
    node_id: int
    chat_id: int
    title: str
    note: str
    place: str | None
    link: str | None
    repeat: Repeat
    repeat_day: int | None
    repeat_nth: int | None
    local_time: str
    once_on: str | None
    reminders: tuple[int, ...]  # seconds before each start, longest first
    topic_ids: tuple[int, ...]
    scope: Scope
    holiday_shift: bool
    status: MeetingStatus
    created_by: int
    created_at: datetime
    thread_id: int | None = None  # the forum topic it was scheduled in

    @property
    def is_active(self) -> bool:
        return self.status == MeetingStatus.ACTIVE

    @property
    def recurring(self) -> bool:
        return self.repeat != Repeat.ONCE


@dataclass(frozen=True, slots=True)
class MeetingOccurrence:
    id: int
    meeting_id: int
    planned_at: datetime
    starts_at: datetime
    reminders_after: datetime
    status: OccurrenceStatus
    created_at: datetime
    cancelled_at: datetime | None


@dataclass(frozen=True, slots=True)
class MeetingPost:
    occurrence_id: int
    slot: int  # 0: the announcement; else the reminder's offset in seconds
    chat_id: int
    node_id: int
    created_at: datetime
    late: bool
    message_id: int | None
    rendered_hash: str | None
    thread_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgendaItem:
    id: int
    occurrence_id: int
    text: str
    added_by: int
    added_at: datetime


@dataclass(frozen=True, slots=True)
class MeetingMinutes:
    id: int
    occurrence_id: int
    text: str
    file_kind: FileKind | None
    file_id: str | None
    file_name: str | None
    recorded_by: int
    recorded_at: datetime


# --- Reliability -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxUpdate:
    """An update stored when it was fetched and not handled yet (its JSON as received)."""

    update_id: int
    payload: str


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SeenUser:
    """A user as an update names them."""

    user_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
