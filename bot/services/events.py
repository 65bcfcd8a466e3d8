"""Things that happened, published after their transaction commits."""

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
class RegistrationCardChanged:
    """A building's pending registrations changed or its card moved: the card may need
    posting or editing."""

    node_id: int
