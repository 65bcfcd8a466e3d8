"""What the core asks to be told to people, as typed values: one dataclass per announcement.

One module rather than one per feature: the outbox must turn any stored row back into its
type, and every channel must render every type, so the union, the table of stable names
and the dispatch that makes a missing renderer a type error are one list, kept in one place.

A row stores the type's ``kind`` (today's outbox kind strings, kept as they were) and its
fields as JSON (today's payload field names), so rows queued by an earlier release are still
delivered, and rows queued now are still readable by that release after a downgrade.
Nothing here is rendered: each channel renders an announcement when it sends it, in the
chat's language of that moment.

A channel implements ``AnnouncementRenderer`` (one method per type); ``render`` dispatches
with an exhaustive ``match``, so mypy fails both when a type has no case here and when a
channel's renderer lacks a method.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar, assert_never, get_args, get_type_hints

# Kinds ---------------------------------------------------------------------------------


class _Stored:
    """The stable name and the JSON fields of an announcement (what the outbox stores)."""

    __slots__ = ()
    kind: ClassVar[str]

    def fields(self) -> dict[str, Any]:
        assert dataclasses.is_dataclass(self)
        return {
            field.name: _encode(getattr(self, field.name)) for field in dataclasses.fields(self)
        }


def _encode(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True, slots=True)
class TopicClosed(_Stored):
    """A topic's outcome, under its ballot message (and where it went if sent up)."""

    kind: ClassVar[str] = "topic.closed"
    topic_id: int


@dataclass(frozen=True, slots=True)
class TopicCancelled(_Stored):
    """A topic was cancelled, under its ballot message."""

    kind: ClassVar[str] = "topic.cancelled"
    topic_id: int


@dataclass(frozen=True, slots=True)
class GroupNudge(_Stored):
    """催票 in a voting chat: ``missing`` ballots are not cast yet (None: how many is not known,
    as the chat's size is not)."""

    kind: ClassVar[str] = "topic.nudge_group"
    topic_id: int
    missing: int | None = 0


@dataclass(frozen=True, slots=True)
class PrivateNudge(_Stored):
    """催票 to a household member who has not voted, in their private chat."""

    kind: ClassVar[str] = "topic.nudge_private"
    topic_id: int


@dataclass(frozen=True, slots=True)
class ProposalDeclined(_Stored):
    """The proposer is told why their proposal was declined (the catalogue's reason)."""

    kind: ClassVar[str] = "proposal.declined"
    proposal_id: int


@dataclass(frozen=True, slots=True)
class ChildLostBot(_Stored):
    """A notice to the parent's chat: a child node's group no longer has the bot."""

    kind: ClassVar[str] = "orgs.child_lost_bot"
    node_id: int


@dataclass(frozen=True, slots=True)
class SentUp(_Stored):
    """A matter left this chat for the level above (``late_since``: its SLA ran out while
    the bot was down)."""

    kind: ClassVar[str] = "escalation.sent_up"
    escalation_id: int
    late_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class EscalationReminder(_Stored):
    """Under an escalation card: its SLA is about to run out."""

    kind: ClassVar[str] = "escalation.reminder"
    escalation_id: int


@dataclass(frozen=True, slots=True)
class DecisionPublished(_Stored):
    """A decision published down the chain; ``rate``: ask the origin chat to rate it."""

    kind: ClassVar[str] = "matter.resolved"
    topic_id: int
    rate: bool = False


@dataclass(frozen=True, slots=True)
class MatterProgress(_Stored):
    """News of a decided matter, down the same chats."""

    kind: ClassVar[str] = "matter.progress"
    topic_id: int
    text: str = ""


@dataclass(frozen=True, slots=True)
class MatterDone(_Stored):
    """A decided matter is done (办结); ``text`` is the word the officer typed."""

    kind: ClassVar[str] = "matter.done"
    topic_id: int
    text: str = ""


@dataclass(frozen=True, slots=True)
class DigestDue(_Stored):
    """The staff digest (汇总) of a node for a period; ``late_since``: it fell due while the
    bot was down."""

    kind: ClassVar[str] = "digest"
    node_id: int
    since: datetime
    until: datetime
    weekly: bool = False
    late_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class MeetingCancelled(_Stored):
    """A meeting occurrence (``whole``: and the whole series) was cancelled."""

    kind: ClassVar[str] = "meeting.cancelled"
    occurrence_id: int
    whole: bool = False


@dataclass(frozen=True, slots=True)
class MeetingMissed(_Stored):
    """Its reminders fell due while the bot was down, after the meeting began."""

    kind: ClassVar[str] = "meeting.missed"
    occurrence_id: int


@dataclass(frozen=True, slots=True)
class MeetingUnreached(_Stored):
    """To the chat a meeting was scheduled in: its announcement (``slot`` 0) or a reminder
    could not be posted in some of its chats (WeCom posts only to a chat that wrote to the
    bot); which ones is read from the occurrence's posts when it is sent."""

    kind: ClassVar[str] = "meeting.unreached"
    occurrence_id: int
    slot: int


@dataclass(frozen=True, slots=True)
class MinutesDue(_Stored):
    """The officers are reminded that no minutes were recorded."""

    kind: ClassVar[str] = "meeting.minutes_due"
    occurrence_id: int


@dataclass(frozen=True, slots=True)
class MinutesPublished(_Stored):
    """会议纪要, where the meeting was announced (with its photo or document, if any)."""

    kind: ClassVar[str] = "meeting.minutes"
    minutes_id: int


@dataclass(frozen=True, slots=True)
class MinutesOfTopic(_Stored):
    """Under a linked topic's ballot message: it was discussed, here are the minutes."""

    kind: ClassVar[str] = "meeting.minutes_topic"
    minutes_id: int
    topic_id: int


Announcement = (
    TopicClosed
    | TopicCancelled
    | GroupNudge
    | PrivateNudge
    | ProposalDeclined
    | ChildLostBot
    | SentUp
    | EscalationReminder
    | DecisionPublished
    | MatterProgress
    | MatterDone
    | DigestDue
    | MeetingCancelled
    | MeetingMissed
    | MeetingUnreached
    | MinutesDue
    | MinutesPublished
    | MinutesOfTopic
)

ANNOUNCEMENT_TYPES: tuple[type[Announcement], ...] = get_args(Announcement)

# Stored rows ---------------------------------------------------------------------------


class UnknownAnnouncement(Exception):
    """A stored row this release cannot read: a kind it does not know (written by a newer
    release before a downgrade), or fields not of their type."""


def _converter(hint: Any) -> Callable[[Any], Any]:
    """How one JSON value becomes the field's type (``X | None`` keeps None)."""
    options = [option for option in get_args(hint) if option is not type(None)] or [hint]
    base = options[0]
    nullable = type(None) in get_args(hint)
    parse: Callable[[Any], Any] = _moment if base is datetime else base
    if nullable:
        return lambda value: None if value is None else parse(value)
    return parse


def _moment(value: object) -> datetime:
    return datetime.fromisoformat(str(value))


def _decoders(kind: type[Announcement]) -> dict[str, Callable[[Any], Any]]:
    hints = get_type_hints(kind)
    return {field.name: _converter(hints[field.name]) for field in dataclasses.fields(kind)}


_BY_KIND: dict[str, tuple[type[Announcement], dict[str, Callable[[Any], Any]]]] = {
    kind.kind: (kind, _decoders(kind)) for kind in ANNOUNCEMENT_TYPES
}


def decode(kind: str, payload: dict[str, Any]) -> Announcement:
    """The announcement a stored row holds; fields it does not know are ignored, missing
    ones take their defaults (rows of other releases)."""
    found = _BY_KIND.get(kind)
    if found is None:
        raise UnknownAnnouncement(kind)
    cls, decoders = found
    try:
        values = {
            name: convert(payload[name]) for name, convert in decoders.items() if name in payload
        }
        return cls(**values)
    except (TypeError, ValueError) as error:  # a required field missing, or not of its type
        raise UnknownAnnouncement(f"{kind}: {error}") from error


# Rendering -----------------------------------------------------------------------------

C_contra = TypeVar("C_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)
C = TypeVar("C")
R = TypeVar("R")


class AnnouncementRenderer(Protocol[C_contra, R_co]):
    """What a channel writes to show announcements: one method per type. ``context`` is the
    channel's own (for Telegram: the chat's language and the outbox row)."""

    async def topic_closed(self, item: TopicClosed, context: C_contra) -> R_co: ...
    async def topic_cancelled(self, item: TopicCancelled, context: C_contra) -> R_co: ...
    async def group_nudge(self, item: GroupNudge, context: C_contra) -> R_co: ...
    async def private_nudge(self, item: PrivateNudge, context: C_contra) -> R_co: ...
    async def proposal_declined(self, item: ProposalDeclined, context: C_contra) -> R_co: ...
    async def child_lost_bot(self, item: ChildLostBot, context: C_contra) -> R_co: ...
    async def sent_up(self, item: SentUp, context: C_contra) -> R_co: ...
    async def escalation_reminder(self, item: EscalationReminder, context: C_contra) -> R_co: ...
    async def decision_published(self, item: DecisionPublished, context: C_contra) -> R_co: ...
    async def matter_progress(self, item: MatterProgress, context: C_contra) -> R_co: ...
    async def matter_done(self, item: MatterDone, context: C_contra) -> R_co: ...
    async def digest_due(self, item: DigestDue, context: C_contra) -> R_co: ...
    async def meeting_cancelled(self, item: MeetingCancelled, context: C_contra) -> R_co: ...
    async def meeting_missed(self, item: MeetingMissed, context: C_contra) -> R_co: ...
    async def meeting_unreached(self, item: MeetingUnreached, context: C_contra) -> R_co: ...
    async def minutes_due(self, item: MinutesDue, context: C_contra) -> R_co: ...
    async def minutes_published(self, item: MinutesPublished, context: C_contra) -> R_co: ...
    async def minutes_of_topic(self, item: MinutesOfTopic, context: C_contra) -> R_co: ...


async def render(renderer: AnnouncementRenderer[C, R], item: Announcement, context: C) -> R:
    """The channel's rendering of ``item`` (mypy holds this match exhaustive)."""
    match item:
        case TopicClosed():
            return await renderer.topic_closed(item, context)
        case TopicCancelled():
            return await renderer.topic_cancelled(item, context)
        case GroupNudge():
            return await renderer.group_nudge(item, context)
        case PrivateNudge():
            return await renderer.private_nudge(item, context)
        case ProposalDeclined():
            return await renderer.proposal_declined(item, context)
        case ChildLostBot():
            return await renderer.child_lost_bot(item, context)
        case SentUp():
            return await renderer.sent_up(item, context)
        case EscalationReminder():
            return await renderer.escalation_reminder(item, context)
        case DecisionPublished():
            return await renderer.decision_published(item, context)
        case MatterProgress():
            return await renderer.matter_progress(item, context)
        case MatterDone():
            return await renderer.matter_done(item, context)
        case DigestDue():
            return await renderer.digest_due(item, context)
        case MeetingCancelled():
            return await renderer.meeting_cancelled(item, context)
        case MeetingMissed():
            return await renderer.meeting_missed(item, context)
        case MeetingUnreached():
            return await renderer.meeting_unreached(item, context)
        case MinutesDue():
            return await renderer.minutes_due(item, context)
        case MinutesPublished():
            return await renderer.minutes_published(item, context)
        case MinutesOfTopic():
            return await renderer.minutes_of_topic(item, context)
        case _:
            assert_never(item)


def renderer_method(kind: type[Announcement]) -> str:
    """The name of the ``AnnouncementRenderer`` method for ``kind`` (``SentUp`` -> sent_up):
    what the completeness test looks for on each channel."""
    name = kind.__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
