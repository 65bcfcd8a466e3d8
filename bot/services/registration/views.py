"""What an officer may do from a building's pending-registrations card, as values; each
channel turns them into its own buttons (Telegram: handlers/registration/pending_card.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.registration.service import PendingCard


@dataclass(frozen=True, slots=True)
class DecideAction:
    """Approve (or reject) the registration of ``unit``."""

    registration_id: int
    unit: str
    approve: bool


def decide_actions(card: PendingCard, *, first: int) -> tuple[DecideAction, ...]:
    """Approve and reject for each of the ``first`` pending registrations (a channel shows
    only a few at a time; the rest move up as those are decided)."""
    return tuple(
        DecideAction(registration.id, registration.unit, approve)
        for registration, _ in card.pending[:first]
        for approve in (True, False)
    )
