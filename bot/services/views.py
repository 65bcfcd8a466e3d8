"""The living messages' views: what the core says a ballot message, an escalation card, a
meeting message and a registration card show, each built in its feature's ``views.py``.

A channel draws every one of them: ``ViewRenderer`` lists one method per view, and a
channel's class of view renderers assigned to it makes mypy fail while one is missing.
tests/unit/test_announcements.py lists every view (``VIEW_METHODS``) against every channel
too. A channel's living messages build the view and call their method."""

from __future__ import annotations

from typing import Protocol, TypeVar, get_args

from bot.services.escalation.views import EscalationCardView
from bot.services.meetings.views import MeetingMessageView
from bot.services.registration.views import RegistrationCardView
from bot.services.topics.views import BallotView

View = BallotView | EscalationCardView | MeetingMessageView | RegistrationCardView
VIEW_TYPES: tuple[type[View], ...] = get_args(View)

C_contra = TypeVar("C_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)


class ViewRenderer(Protocol[C_contra, R_co]):
    """What a channel writes to draw the living messages (``context``: its own, e.g. the
    chat's language)."""

    def ballot(self, view: BallotView, context: C_contra) -> R_co: ...
    def escalation_card(self, view: EscalationCardView, context: C_contra) -> R_co: ...
    def meeting_message(self, view: MeetingMessageView, context: C_contra) -> R_co: ...
    def registration_card(self, view: RegistrationCardView, context: C_contra) -> R_co: ...


# The ViewRenderer method of each view.
VIEW_METHODS: dict[type[View], str] = {
    BallotView: "ballot",
    EscalationCardView: "escalation_card",
    MeetingMessageView: "meeting_message",
    RegistrationCardView: "registration_card",
}
