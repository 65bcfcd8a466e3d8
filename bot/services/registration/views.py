"""What a building's pending-registrations card says, as a value: how many wait, the first
few with the decision an officer may take on each, the latest decisions. Each channel turns
it into its own message (Telegram: HTML and buttons,
channels/telegram/registration/pending_card.py)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.services.registration.service import PendingCard
from storage.records import User


@dataclass(frozen=True, slots=True)
class DecideAction:
    """Approve (or reject) the registration of ``unit``."""

    registration_id: int
    unit: str
    approve: bool


@dataclass(frozen=True, slots=True)
class PendingLine:
    unit: str
    area: Decimal | None  # None: the resident gave none
    name: str


@dataclass(frozen=True, slots=True)
class DecidedLine:
    unit: str
    name: str
    approved: bool


@dataclass(frozen=True, slots=True)
class RegistrationCardView:
    pending: int  # how many wait in all
    shown: tuple[PendingLine, ...]  # the first few, each with its actions
    decided: tuple[DecidedLine, ...]  # the latest decisions, newest first
    actions: tuple[DecideAction, ...]

    @property
    def more(self) -> int:
        """Pending but not shown: they move up as those shown are decided."""
        return self.pending - len(self.shown)


def _name(user: User | None, user_id: int) -> str:
    if user is None:
        return str(user_id)
    return " ".join(part for part in (user.first_name, user.last_name) if part)


def decide_actions(card: PendingCard, *, first: int) -> tuple[DecideAction, ...]:
    """Approve and reject for each of the ``first`` pending registrations."""
    return tuple(
        DecideAction(registration.id, registration.unit, approve)
        for registration, _ in card.pending[:first]
        for approve in (True, False)
    )


def registration_card_view(card: PendingCard, *, first: int) -> RegistrationCardView:
    """The card with the ``first`` pending registrations shown (a channel shows a few at a
    time, so its message and its buttons stay small however many wait)."""
    return RegistrationCardView(
        pending=len(card.pending),
        shown=tuple(
            PendingLine(r.unit, r.area, _name(user, r.user_id)) for r, user in card.pending[:first]
        ),
        decided=tuple(
            DecidedLine(r.unit, _name(user, r.user_id), r.status == "approved")
            for r, user in card.decided
        ),
        actions=decide_actions(card, first=first),
    )
