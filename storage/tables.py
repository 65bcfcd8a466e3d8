"""SQLAlchemy Core tables. Times are stored as timezone-aware UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from storage.records import (
    Answer,
    BallotChannel,
    BotStatus,
    ChatType,
    EscalationReason,
    EscalationState,
    FileKind,
    Level,
    MeetingStatus,
    OccurrenceStatus,
    PartKind,
    Platform,
    ProposalStatus,
    Rating,
    RegistrationStatus,
    Repeat,
    RoleName,
    Rule,
    Scope,
    TopicStatus,
)

# Stable constraint names so Alembic migrations are portable between SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _in_utc(value: Any) -> datetime | None:
    """The moment in UTC; a naive datetime (whose zone nobody knows) is refused."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError("UtcDateTime needs a timezone-aware datetime")
    return value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        moment = _in_utc(value)
        if moment is None or dialect.name != "sqlite":
            return moment
        return moment.replace(tzinfo=None)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, the text SQLAlchemy's DATETIME stores ("2026-12-06 10:00:00.000000", in
        UTC), made in one step instead of through the two layered processors: every ballot,
        sighting and membership binds one or two, and the layers cost more than the rest of
        the value's way to the database (tests/storage/test_utc_datetime.py: the same text)."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: Any) -> str | None:
            moment = _in_utc(value)
            if moment is None:
                return None
            return moment.replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def one_of(name: str, values: type[StrEnum]) -> ColumnElement[bool]:
    """A CHECK that the column holds one of an enum's values (the enum is the one list)."""
    return column(name).in_([member.value for member in values])


def state_check(name: str, values: type[StrEnum]) -> CheckConstraint:
    """The CHECK of a state column: it holds one of the enum's values (a NULL passes, so a
    nullable column stays nullable), so the database refuses a state the code does not know.
    Named ``ck_<table>_<column>``; migration 0011 added them to the existing tables."""
    return CheckConstraint(one_of(name, values), name=name)


# The organisation tree (楼栋 → 网格 → 社区). Levels are data: a parent link and a level name.
nodes = Table(
    "nodes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("level", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("parent_id", Integer, ForeignKey("nodes.id", ondelete="RESTRICT"), nullable=True),
    Column("requires_approval", Boolean, nullable=False, default=True),
    Column("created_by", BigInteger, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_nodes_parent_id", "parent_id"),
    state_check("level", Level),
)

# Everything the bot knows about a chat it has seen: its kind, title and language.
chats = Table(
    "chats",
    metadata,
    # Yishi's own id of the chat. A Telegram chat keeps Telegram's id (every row before 0010
    # is one); a chat of another platform gets one of its own at or above FIRST_FOREIGN_ID,
    # where no Telegram id can be, so ``chat_id`` alone names a chat on any platform.
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    # Where the chat lives and the platform's own name for it (Telegram: its id in decimal;
    # WeCom: the ``chatid``): unique per platform.
    Column("platform", String(16), nullable=False, server_default=Platform.TELEGRAM.value),
    Column("address", String(128), nullable=False),
    Column("type", String(16), nullable=False),
    Column("title", String(255), nullable=True),
    Column("locale", String(8), nullable=True),
    Column("bot_status", String(16), nullable=False, default=BotStatus.MEMBER.value),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("platform", "address", name="uq_chats_platform_address"),
    CheckConstraint(one_of("platform", Platform), name="platform"),
    state_check("type", ChatType),
    state_check("bot_status", BotStatus),
)

# Each node is bound to at most one chat and each chat to at most one node.
chat_bindings = Table(
    "chat_bindings",
    metadata,
    Column(
        "node_id",
        Integer,
        ForeignKey("nodes.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("chat_id", BigInteger, nullable=False, unique=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("bound_by", BigInteger, nullable=True),
    Column("bound_at", UtcDateTime(), nullable=False),
)

# Single-use codes that bind a new (or unbound) child node to a group chat.
bind_codes = Table(
    "bind_codes",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("parent_id", Integer, ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False),
    Column("level", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("node_id", Integer, ForeignKey("nodes.id", ondelete="CASCADE"), nullable=True),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    Column("used_by", BigInteger, nullable=True),
    Column("used_chat_id", BigInteger, nullable=True),
    state_check("level", Level),
)

users = Table(
    "users",
    metadata,
    # As chats: a Telegram user keeps Telegram's id; a person on another platform (a WeCom
    # ``userid`` in its corp) gets one at or above FIRST_FOREIGN_ID.
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("platform", String(16), nullable=False, server_default=Platform.TELEGRAM.value),
    Column("address", String(128), nullable=False),
    Column("first_name", String(255), nullable=False),
    Column("last_name", String(255), nullable=True),
    Column("username", String(64), nullable=True),
    Column("language_code", String(16), nullable=True),
    Column("locale", String(8), nullable=True),
    Column("started", Boolean, nullable=False, default=False),
    Column("first_seen", UtcDateTime(), nullable=False),
    Column("last_seen", UtcDateTime(), nullable=False),
    # /link: this identity acts as that person (their Telegram identity): roles, households
    # and ballots are theirs. NULL: the identity is its own person.
    Column("acts_as", BigInteger, nullable=True),
    UniqueConstraint("platform", "address", name="uq_users_platform_address"),
    CheckConstraint(one_of("platform", Platform), name="platform"),
)

# /link's one-time codes: said on one platform, confirmed on the other within minutes.
link_codes = Table(
    "link_codes",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.user_id"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

role_grants = Table(
    "role_grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.user_id"), nullable=False),
    Column("node_id", Integer, ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("granted_by", BigInteger, nullable=True),
    Column("granted_at", UtcDateTime(), nullable=False),
    UniqueConstraint("user_id", "node_id", name="uq_role_grants_user_node"),
    Index("ix_role_grants_node_id", "node_id"),
    state_check("role", RoleName),
)

# A household (户) of a building, identified by its unit and room (单元-房号).
households = Table(
    "households",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", Integer, ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("area", Numeric(10, 2), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("node_id", "unit", name="uq_households_node_unit"),
    CheckConstraint("area IS NULL OR (area > 0 AND area <= 10000)", name="area_range"),
)

# A resident's registration in a household; one per user per building.
registrations = Table(
    "registrations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.user_id"), nullable=False),
    Column("node_id", Integer, ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("area", Numeric(10, 2), nullable=True),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("decided_by", BigInteger, nullable=True),
    Column("decided_at", UtcDateTime(), nullable=True),
    UniqueConstraint("user_id", "node_id", name="uq_registrations_user_node"),
    Index("ix_registrations_household_id", "household_id"),
    Index("ix_registrations_node_status", "node_id", "status"),  # a building's roll and card
    state_check("status", RegistrationStatus),
)

# Household invitations (/invite 2-502): one-time codes a building's officer hands to a household
# whose residents have no bot (a personal-WeChat group). Only the code's SHA-256 is kept, so the
# table leaks no usable code. Redeemed, it names the web-only person it made (platform "web");
# revoked, that person's access ends (bot/services/invitations/).
household_invitations = Table(
    "household_invitations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("node_id", Integer, ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("issued_by", BigInteger, nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("redeemed_at", UtcDateTime(), nullable=True),
    Column("redeemed_by", BigInteger, ForeignKey("users.user_id"), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("revoked_by", BigInteger, nullable=True),
    Index("ix_household_invitations_household_id", "household_id"),
    Index("ix_household_invitations_redeemed_by", "redeemed_by"),
    CheckConstraint("expires_at > issued_at", name="expires_after_issued"),
    CheckConstraint(
        "(redeemed_at IS NULL AND redeemed_by IS NULL)"
        " OR (redeemed_at IS NOT NULL AND redeemed_by IS NOT NULL)",
        name="redeemed_by_whom",
    ),
    CheckConstraint(
        "(revoked_at IS NULL AND revoked_by IS NULL)"
        " OR (revoked_at IS NOT NULL AND revoked_by IS NOT NULL)",
        name="revoked_by_whom",
    ),
)

# The one message per building group that lists its pending registrations (待审核登记), edited
# as requests come and are decided; kept here so that it survives a restart.
registration_cards = Table(
    "registration_cards",
    metadata,
    Column(
        "node_id",
        Integer,
        ForeignKey("nodes.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("rendered_hash", String(64), nullable=True),
    Column("pending_shown", Integer, nullable=False, default=0),
)

# Append-only: rows are inserted, never updated or deleted.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor_id", BigInteger, nullable=True),
    Column("action", String(64), nullable=False),
    Column("node_id", Integer, nullable=True),
    Column("chat_id", BigInteger, nullable=True),
    Column("details", JSON, nullable=False),
    Index("ix_audit_log_node_id", "node_id"),
)

# --- Topics (议题), ballots and opinions -----------------------------------------------------

topics = Table(
    "topics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", Integer, ForeignKey("nodes.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("options", JSON, nullable=False),
    Column("rule", String(16), nullable=False),
    Column("category", String(32), nullable=True),
    Column("quorum_percent", Integer, nullable=True),
    Column("secret", Boolean, nullable=False, default=False),
    Column("household", Boolean, nullable=False, default=False),
    Column("hide_results", Boolean, nullable=False, default=False),
    Column("scope", String(8), nullable=False, default=Scope.HERE.value),
    Column("status", String(16), nullable=False, default=TopicStatus.OPEN.value),
    Column("deadline", UtcDateTime(), nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("outcome", JSON, nullable=True),
    # Secret ballots key voters by HMAC(ballot_salt, voter); the salt is erased at close so
    # afterwards nobody, not even someone reading the database, can link voters to choices.
    Column("ballot_salt", String(64), nullable=True),
    Column("last_nudge_at", UtcDateTime(), nullable=True),
    Index("ix_topics_node_status", "node_id", "status"),
    # The staff pages: a scope's topics by date (published in a period, by category).
    Index("ix_topics_node_created", "node_id", "created_at", "category"),
    state_check("rule", Rule),
    state_check("scope", Scope),
    state_check("status", TopicStatus),
)

# Where a topic's ballot message lives: one row per chat it was posted in.
topic_posts = Table(
    "topic_posts",
    metadata,
    Column("topic_id", Integer, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("node_id", Integer, ForeignKey("nodes.id"), nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("voting", Boolean, nullable=False, default=True),
    # Human members of the chat when the topic was published (eligible voters per person).
    Column("members", Integer, nullable=True),
    Column("rendered_hash", String(64), nullable=True),
    # The forum topic (thread) it is posted in; NULL: none, or a forum's General topic.
    Column("message_thread_id", BigInteger, nullable=True),
    Index("ix_topic_posts_chat_message", "chat_id", "message_id"),
)

ballots = Table(
    "ballots",
    metadata,
    Column("topic_id", Integer, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    # "u:<user id>" or "h:<household id>"; for secret ballots an HMAC of that.
    Column("voter_key", String(80), primary_key=True),
    Column("option", Integer, nullable=False),
    # Who pressed (NULL for secret ballots) and which household (NULL unless per household).
    Column("user_id", BigInteger, nullable=True),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=True),
    # The household's registered floor area, for Art. 278 shares (kept for secret ballots too).
    Column("area", Numeric(10, 2), nullable=True),
    Column("node_id", Integer, ForeignKey("nodes.id"), nullable=True),
    Column("channel", String(8), nullable=False, default=BallotChannel.BUTTON.value),
    Column("recorded_by", BigInteger, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    state_check("channel", BallotChannel),
    Index("ix_ballots_topic_option", "topic_id", "option"),  # tallies from the index alone
)

opinions = Table(
    "opinions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic_id", Integer, ForeignKey("topics.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("public", Boolean, nullable=False),
    Column("text", Text, nullable=False),
    Column("chat_id", BigInteger, nullable=True),
    Column("message_id", BigInteger, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("chat_id", "message_id", name="uq_opinions_chat_message"),
    Index("ix_opinions_topic_id", "topic_id"),
)

# Telegram membership of users in chats, as last verified (getChatMember / chat_member).
chat_members = Table(
    "chat_members",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("member", Boolean, nullable=False),
    Column("checked_at", UtcDateTime(), nullable=False),
    Index("ix_chat_members_user_id", "user_id"),  # a person's chats (the web's own pages)
)

# Resident proposals (/propose) waiting for officers to accept or decline.
proposals = Table(
    "proposals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", Integer, ForeignKey("nodes.id"), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False, default=ProposalStatus.OPEN.value),
    Column("topic_id", Integer, ForeignKey("topics.id"), nullable=True),
    Column("decided_by", BigInteger, nullable=True),
    Column("reason", String(32), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("decided_at", UtcDateTime(), nullable=True),
    state_check("status", ProposalStatus),
)

# --- Due work and delivery ---------------------------------------------------------------

# The database is the truth for due work: a row's effect and its done-mark commit together.
timers = Table(
    "timers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("done_at", UtcDateTime(), nullable=True),
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("kind", "ref", name="uq_timers_kind_ref"),
    Index("ix_timers_due", "done_at", "due_at"),
)

# Announcements that must reach a chat, written in the same transaction as the change they
# announce: what to say (kind + payload), rendered in the chat's language when sent, and
# retried by the outbox sender until delivered.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("reply_to", BigInteger, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("message_id", BigInteger, nullable=True),
    Column("failed", Boolean, nullable=False, default=False),
    Column("last_error", Text, nullable=True),
    Column("message_thread_id", BigInteger, nullable=True),  # the forum topic to post in
    Index("ix_outbox_pending", "sent_at", "next_attempt_at"),
)

# The Telegram messages of one outbox row that takes several (a digest's text parts, its CSV,
# its chart): rendered once, at the row's first delivery, and each marked sent on its own, so
# a restart sends only the parts not yet sent (docs/RELIABILITY.md). Files are kept whole.
outbox_parts = Table(
    "outbox_parts",
    metadata,
    Column("outbox_id", Integer, ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=True),  # the message, or the file's caption
    Column("filename", String(255), nullable=True),
    Column("data", LargeBinary, nullable=True),
    Column("file_id", String(255), nullable=True),  # a file Telegram has already (minutes)
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("message_id", BigInteger, nullable=True),
    state_check("kind", PartKind),
)

# --- Escalation (上报), resolution and feedback, digests -------------------------------------

# One row per hop up the tree: 楼栋 → 网格 → 社区.
escalations = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic_id", Integer, ForeignKey("topics.id"), nullable=False),
    Column("from_node_id", Integer, ForeignKey("nodes.id"), nullable=False),
    Column("to_node_id", Integer, ForeignKey("nodes.id"), nullable=False),
    Column("reason", String(16), nullable=False),
    Column("note", Text, nullable=True),
    Column("escalated_by", BigInteger, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sla_due_at", UtcDateTime(), nullable=True),
    Column("state", String(16), nullable=False, default=EscalationState.OPEN.value),
    Column("accepted_by", BigInteger, nullable=True),
    Column("accepted_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("card_chat_id", BigInteger, nullable=True),
    Column("card_message_id", BigInteger, nullable=True),
    Column("card_hash", String(64), nullable=True),
    # The vote the receiving node opened on the matter (发起网格表决), if it did.
    Column("vote_topic_id", Integer, nullable=True),
    Index("ix_escalations_topic_id", "topic_id"),
    Index("ix_escalations_to_node_state", "to_node_id", "state"),
    Index("ix_escalations_state_sla", "state", "sla_due_at"),
    state_check("reason", EscalationReason),
    state_check("state", EscalationState),
)

# The decision on a matter, published back down every chat it passed through.
resolutions = Table(
    "resolutions",
    metadata,
    Column("topic_id", Integer, ForeignKey("topics.id"), primary_key=True, autoincrement=False),
    Column("node_id", Integer, ForeignKey("nodes.id"), nullable=False),
    Column("decision", Text, nullable=False),
    Column("resolved_by", BigInteger, nullable=False),
    Column("resolved_at", UtcDateTime(), nullable=False),
    Column("done_at", UtcDateTime(), nullable=True),
)

progress_updates = Table(
    "progress_updates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic_id", Integer, ForeignKey("topics.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("posted_by", BigInteger, nullable=False),
    Column("posted_at", UtcDateTime(), nullable=False),
    Index("ix_progress_updates_topic_id", "topic_id"),
)

# Residents of the origin building rate a resolution: one rating per person, changeable.
ratings = Table(
    "ratings",
    metadata,
    Column("topic_id", Integer, ForeignKey("topics.id"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("rating", String(16), nullable=False),
    Column("rated_at", UtcDateTime(), nullable=False),
    state_check("rating", Rating),
)

# Community-level chats that receive the digest (汇总).
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("node_id", Integer, ForeignKey("nodes.id"), nullable=False),
    Column("subscribed_by", BigInteger, nullable=False),
    Column("subscribed_at", UtcDateTime(), nullable=False),
)

# A digest period sent to a chat: never twice, even across a restart.
digests_sent = Table(
    "digests_sent",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("period", String(16), primary_key=True),
    Column("since", UtcDateTime(), nullable=False),
    Column("until", UtcDateTime(), nullable=False),
    Column("queued_at", UtcDateTime(), nullable=False),
)

# Per-node settings that override the deployment's defaults (e.g. a community's /sla).
node_settings = Table(
    "node_settings",
    metadata,
    Column("node_id", Integer, ForeignKey("nodes.id"), primary_key=True, autoincrement=False),
    Column("escalation_sla_seconds", Integer, nullable=True),
)

# --- Meetings (议事会): series, occurrences, reminders, RSVP, agenda and minutes --------------

# A node's meeting: one-off or a series whose rule (expanded with dateutil) is a local time
# plus a weekday or day of the month. Reminder offsets are seconds before each start.
meetings = Table(
    "meetings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", Integer, ForeignKey("nodes.id"), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("title", String(200), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("place", String(200), nullable=True),
    Column("link", String(500), nullable=True),
    Column("repeat", String(16), nullable=False),
    Column("repeat_day", Integer, nullable=True),
    Column("repeat_nth", Integer, nullable=True),
    Column("local_time", String(5), nullable=False),
    Column("once_on", String(10), nullable=True),
    Column("reminders", JSON, nullable=False),
    Column("topic_ids", JSON, nullable=False),
    Column("scope", String(8), nullable=False, default=Scope.HERE.value),
    Column("holiday_shift", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False, default=MeetingStatus.ACTIVE.value),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("cancelled_at", UtcDateTime(), nullable=True),
    # The forum topic it was scheduled in: its messages in ``chat_id`` go there.
    Column("message_thread_id", BigInteger, nullable=True),
    Index("ix_meetings_node_status", "node_id", "status"),
    state_check("repeat", Repeat),
    state_check("scope", Scope),
    state_check("status", MeetingStatus),
)

# One date of a meeting. A series has one scheduled occurrence at a time: the next is made
# when the current one starts or is cancelled. ``planned_at`` is where the rule puts it,
# ``starts_at`` where it happens (moved off a statutory holiday); its reminders are those
# due after ``reminders_after`` (when it was planned, or when the previous one started).
meeting_occurrences = Table(
    "meeting_occurrences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("meeting_id", Integer, ForeignKey("meetings.id"), nullable=False),
    Column("planned_at", UtcDateTime(), nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("reminders_after", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False, default=OccurrenceStatus.SCHEDULED.value),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("cancelled_at", UtcDateTime(), nullable=True),
    UniqueConstraint("meeting_id", "planned_at", name="uq_meeting_occurrences_meeting_planned"),
    Index("ix_meeting_occurrences_status_starts", "status", "starts_at"),
    state_check("status", OccurrenceStatus),
)

# The messages about an occurrence, one per chat and slot (0: the announcement; else the
# reminder's offset in seconds), kept in step with the RSVP counts like ballot messages.
meeting_posts = Table(
    "meeting_posts",
    metadata,
    Column("occurrence_id", Integer, ForeignKey("meeting_occurrences.id"), primary_key=True),
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("node_id", Integer, ForeignKey("nodes.id"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("late", Boolean, nullable=False, default=False),
    Column("message_id", BigInteger, nullable=True),
    Column("rendered_hash", String(64), nullable=True),
    Column("message_thread_id", BigInteger, nullable=True),
    Index("ix_meeting_posts_chat_message", "chat_id", "message_id"),
)

meeting_rsvps = Table(
    "meeting_rsvps",
    metadata,
    Column("occurrence_id", Integer, ForeignKey("meeting_occurrences.id"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("answer", String(8), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    state_check("answer", Answer),
)

# Items an officer added to an occurrence's agenda (/agenda); escalations and linked topics
# are read live.
meeting_agenda = Table(
    "meeting_agenda",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("occurrence_id", Integer, ForeignKey("meeting_occurrences.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("added_by", BigInteger, nullable=False),
    Column("added_at", UtcDateTime(), nullable=False),
    Index("ix_meeting_agenda_occurrence_id", "occurrence_id"),
)

# 会议纪要: text, and a photo or document by its Telegram file id; published where the
# occurrence was announced.
meeting_minutes = Table(
    "meeting_minutes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("occurrence_id", Integer, ForeignKey("meeting_occurrences.id"), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("file_kind", String(16), nullable=True),
    Column("file_id", String(255), nullable=True),
    Column("file_name", String(255), nullable=True),
    Column("recorded_by", BigInteger, nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Index("ix_meeting_minutes_occurrence_id", "occurrence_id"),
    state_check("file_kind", FileKind),
)

# --- Reliability: the durable inbox of updates, the one-instance lease ----------------------

# Every update fetched from Telegram, stored before the getUpdates that confirms it is sent.
# The payload is erased once the update is handled (it can say who pressed which button of a
# secret ballot); the id stays, so that a redelivery is recognised.
inbox = Table(
    "inbox",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("payload", Text, nullable=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("handled_at", UtcDateTime(), nullable=True),
    Index("ix_inbox_handled_at", "handled_at"),
)

# The process that runs the bot on this database. Its heartbeat renews ``expires_at``; another
# process takes the row over only once that has passed (see bot/lease.py).
instance_lease = Table(
    "instance_lease",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("acquired_at", UtcDateTime(), nullable=False),
    Column("heartbeat_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

# Values the deployment makes for itself once and keeps across restarts, by name: the webhook
# secret generated on the first `yishi run --webhook` when YISHI_WEBHOOK_SECRET is not set.
# A WeCom group's 消息推送 (push) webhook, set by its officers with /pushwebhook: the URL
# carries its key, a credential (never logged: bot/redaction.py).
push_webhooks = Table(
    "push_webhooks",
    metadata,
    Column("chat_id", BigInteger, ForeignKey("chats.chat_id"), primary_key=True),
    Column("url", Text, nullable=False),
    Column("set_by", BigInteger, nullable=False),
    Column("set_at", UtcDateTime(), nullable=False),
)

# The web pages' sign-in (channels/web/, bot/services/web/): only hashes of the secrets are
# kept, so a copy of the database signs nobody in.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.user_id"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Index("ix_web_sessions_user_id", "user_id"),
)

# A node's calendar feed (.ics, channels/web/staff_cal.py): a calendar app cannot sign in, so
# its URL carries a secret; only the secret's SHA-256 is kept. A new one replaces the old.
calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("node_id", Integer, ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

# A community whose decided matters are public (/publish on; the page /p/<community>): a row
# while it is on.
public_pages = Table(
    "public_pages",
    metadata,
    Column("node_id", Integer, ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True),
    Column("published_by", BigInteger, nullable=False),
    Column("published_at", UtcDateTime(), nullable=False),
)

web_signin_codes = Table(
    "web_signin_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.user_id"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
)

app_settings = Table(
    "app_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
