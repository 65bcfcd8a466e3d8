"""Things that happened: recorded on the unit of work inside the transaction, published after
it commits (bot/services/unit_of_work.py); one typed union, :data:`DomainEvent`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicChanged:
    """A topic's tally, deadline or status changed: its messages may need refreshing."""

    topic_id: int


@dataclass(frozen=True, slots=True)
class OutboxQueued:
    """Announcements were written to the outbox."""


@dataclass(frozen=True, slots=True)
class EscalationChanged:
    """An escalation hop was created or changed state: its card may need refreshing."""

    escalation_id: int


@dataclass(frozen=True, slots=True)
class MeetingChanged:
    """An occurrence's answers, agenda or state changed: its messages may need refreshing."""

    occurrence_id: int


@dataclass(frozen=True, slots=True)
class RegistrationCardChanged:
    """A building's pending registrations changed or its card moved: the card may need
    posting or editing."""

    node_id: int


DomainEvent = (
    TopicChanged | OutboxQueued | EscalationChanged | MeetingChanged | RegistrationCardChanged
)
