"""Telegram's renderers of the core's announcements (bot/services/announcements.py) and of
its living messages' views (bot/services/views.py, ``TelegramViews``). Announcements: one
method per type, each formatting what the core says at send time
(bot/services/announcement_texts.py) in the chat's language of that moment.
``TelegramAnnouncements`` is assigned to ``AnnouncementRenderer`` below, so mypy fails when a
type has no renderer here. What a renderer returns, the
announcer (channels/telegram/delivery/ports.py) sends: a message, a file, or parts sent one by
one."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup

from bot.services import Services
from bot.services.announcement_texts import AnnouncementTexts, Attachment, Told
from bot.services.announcements import (
    AnnouncementRenderer,
    ChildLostBot,
    DecisionPublished,
    DigestDue,
    EscalationReminder,
    GroupNudge,
    MatterDone,
    MatterProgress,
    MeetingCancelled,
    MeetingMissed,
    MeetingUnreached,
    MinutesDue,
    MinutesOfTopic,
    MinutesPublished,
    PrivateNudge,
    ProposalDeclined,
    SentUp,
    TopicCancelled,
    TopicClosed,
)
from bot.services.escalation.views import EscalationCardView
from bot.services.meetings.views import MeetingMessageView
from bot.services.registration.views import RegistrationCardView
from bot.services.topics.views import BallotView
from bot.services.views import ViewRenderer
from channels.common.told import Writer
from channels.telegram.escalation.render import EscalationRenderer
from channels.telegram.reports.digest import digest_parts
from channels.telegram.reports.digest_render import DigestRenderer
from channels.telegram.topics.render import TopicRenderer
from locales import Html, Translator, escape
from storage.records import OutboxMessage, OutboxPart, PartKind

if TYPE_CHECKING:  # it renders with these types
    from channels.telegram.meetings.render import MeetingRenderer
    from channels.telegram.registration.pending_card import RegistrationCards


@dataclass(frozen=True, slots=True)
class Target:
    """Where an announcement goes: the chat's language now, and its outbox row."""

    locale: str
    message: OutboxMessage


@dataclass(frozen=True, slots=True)
class Text:
    text: Html
    markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True)
class File:
    """A file Telegram already has (a photo or document sent with minutes), captioned."""

    kind: str  # photo | document
    file_id: str
    caption: Html


@dataclass(frozen=True, slots=True)
class Parts:
    """Several messages, each sent once (bot/outbox_parts.py); rendered at the first
    delivery only."""

    render: Callable[[], Awaitable[list[OutboxPart]]]


# None: what it was about is gone (a deleted topic): nothing to say.
Rendered = Text | File | Parts | None

CAPTION_LIMIT = 1000  # Telegram's is 1024 characters after parsing; keep clear of it


def _plain_length(text: str) -> int:
    return len(html.unescape(re.sub(r"<[^>]+>", "", text)))


class TelegramAnnouncements:
    """Formats what the core says (bot/services/announcement_texts.py) as HTML, the rating
    actions as inline buttons, a file as that file; the digest as its parts."""

    def __init__(
        self,
        services: Services,
        translator: Translator,
        topics: TopicRenderer,
        escalation: EscalationRenderer,
        digest: DigestRenderer,
    ) -> None:
        self._services = services
        self._t = translator
        self._said = AnnouncementTexts(services)
        self._escalation = escalation
        self._digest = digest
        self._writer = Writer(translator, escape, topics.zone)

    def _draw(self, locale: str, told: Told | None) -> Rendered:
        if told is None:
            return None
        text = Html(self._writer.text(locale, told))
        if told.attachment is not None:
            return self._with_file(locale, told, text, told.attachment)
        if told.actions:
            return Text(text, self._escalation.rating_buttons(locale, told.actions))
        return Text(text)

    def _with_file(self, locale: str, told: Told, text: Html, file: Attachment) -> Rendered:
        """The file, the text its caption; or, when too long for a caption, the text in a
        message just before it and the file under the first line (two parts, each sent once,
        bot/outbox_parts.py)."""
        if _plain_length(text) <= CAPTION_LIMIT:
            return File(file.kind, file.file_id, text)
        head = Html(self._writer.line(locale, told.lines[0]))
        parts = [
            OutboxPart(seq=0, kind=PartKind.TEXT, text=text),
            OutboxPart(seq=1, kind=PartKind(file.kind), text=head, file_id=file.file_id),
        ]

        async def render() -> list[OutboxPart]:
            return parts

        return Parts(render)

    # Topics -------------------------------------------------------------------------------

    async def topic_closed(self, item: TopicClosed, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.topic_closed(item, to.locale))

    async def topic_cancelled(self, item: TopicCancelled, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.topic_cancelled(item, to.locale))

    async def group_nudge(self, item: GroupNudge, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.group_nudge(item, to.locale))

    async def private_nudge(self, item: PrivateNudge, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.private_nudge(item, to.locale))

    async def proposal_declined(self, item: ProposalDeclined, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.proposal_declined(item, to.locale))

    async def child_lost_bot(self, item: ChildLostBot, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.child_lost_bot(item, to.locale))

    # Escalation ---------------------------------------------------------------------------

    async def sent_up(self, item: SentUp, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.sent_up(item, to.locale))

    async def escalation_reminder(self, item: EscalationReminder, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.escalation_reminder(item, to.locale))

    async def decision_published(self, item: DecisionPublished, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.decision_published(item, to.locale))

    async def matter_progress(self, item: MatterProgress, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.matter_progress(item, to.locale))

    async def matter_done(self, item: MatterDone, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.matter_done(item, to.locale))

    # Reports ------------------------------------------------------------------------------

    async def digest_due(self, item: DigestDue, to: Target) -> Rendered:
        """Each of the digest's messages, its CSV and its chart a part of its own: a restart
        between them sends only what was not sent (bot/outbox_parts.py)."""

        async def render() -> list[OutboxPart]:
            digest = await self._services.digest.compose(
                item.node_id, item.since, item.until, weekly=item.weekly, late_since=item.late_since
            )
            return await digest_parts(to.locale, digest, self._digest, self._t)

        return Parts(render)

    # Meetings -----------------------------------------------------------------------------

    async def meeting_cancelled(self, item: MeetingCancelled, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.meeting_cancelled(item, to.locale))

    async def meeting_missed(self, item: MeetingMissed, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.meeting_missed(item, to.locale))

    async def meeting_unreached(self, item: MeetingUnreached, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.meeting_unreached(item, to.locale))

    async def minutes_due(self, item: MinutesDue, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.minutes_due(item, to.locale))

    async def minutes_published(self, item: MinutesPublished, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.minutes_published(item, to.locale))

    async def minutes_of_topic(self, item: MinutesOfTopic, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.minutes_of_topic(item, to.locale))


def _complete(renderers: TelegramAnnouncements) -> AnnouncementRenderer[Target, Rendered]:
    """Never called: mypy checks here that Telegram renders every announcement type."""
    return renderers


Drawn = tuple[Html, InlineKeyboardMarkup | None]


class TelegramViews:
    """Telegram's drawing of each living message's view (bot/services/views.py), in the
    chat's language: HTML and inline buttons, by the feature's renderer. The messages kept
    current (ballot_messages.py, escalation_cards.py, meeting_messages.py, pending_card.py)
    call those renderers; this class is the list a channel must complete."""

    def __init__(
        self,
        topics: TopicRenderer,
        escalation: EscalationRenderer,
        meetings: MeetingRenderer,
        registration: RegistrationCards,
    ) -> None:
        self._topics = topics
        self._escalation = escalation
        self._meetings = meetings
        self._registration = registration

    def ballot(self, view: BallotView, locale: str) -> Drawn:
        return self._topics.ballot(locale, view)

    def escalation_card(self, view: EscalationCardView, locale: str) -> Drawn:
        return self._escalation.card(locale, view)

    def meeting_message(self, view: MeetingMessageView, locale: str) -> Drawn:
        return self._meetings.post(locale, view)

    def registration_card(self, view: RegistrationCardView, locale: str) -> Drawn:
        return self._registration.render(locale, view)


def _views_complete(views: TelegramViews) -> ViewRenderer[str, Drawn]:
    """Never called: mypy checks here that Telegram draws every view."""
    return views
