"""Telegram's renderers of the core's announcements (bot/services/announcements.py) and of
its living messages' views (bot/services/views.py, ``TelegramViews``). Announcements: one
method per type, each reading what it shows at send time and rendering it in the chat's
language of that moment. ``TelegramAnnouncements`` is assigned to ``AnnouncementRenderer``
below, so mypy fails when a type has no renderer here. What a renderer returns, the
announcer (channels/telegram/delivery/ports.py) sends: a message, a file, or parts sent one by
one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup

from bot.services import Services
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
    MinutesDue,
    MinutesOfTopic,
    MinutesPublished,
    PrivateNudge,
    ProposalDeclined,
    SentUp,
    TopicCancelled,
    TopicClosed,
)
from bot.services.escalation.views import EscalationCardView, rating_actions
from bot.services.meetings.views import MeetingMessageView
from bot.services.registration.views import RegistrationCardView
from bot.services.topics.views import BallotView
from bot.services.views import ViewRenderer
from channels.telegram.escalation.render import EscalationRenderer
from channels.telegram.reports.digest import digest_parts
from channels.telegram.reports.digest_render import DigestRenderer
from channels.telegram.topics.render import TopicRenderer
from locales import Html, Translator
from storage.records import OutboxMessage, OutboxPart, Topic

if TYPE_CHECKING:  # it renders with these types
    from channels.telegram.meetings.announcer import MeetingAnnouncements
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


class TelegramAnnouncements:
    def __init__(
        self,
        services: Services,
        translator: Translator,
        topics: TopicRenderer,
        escalation: EscalationRenderer,
        digest: DigestRenderer,
        meetings: MeetingAnnouncements,
    ) -> None:
        self._services = services
        self._t = translator
        self._topics = topics
        self._escalation = escalation
        self._digest = digest
        self._meetings = meetings

    # Topics -------------------------------------------------------------------------------

    async def _topic(self, topic_id: int) -> Topic | None:
        snap = await self._services.topics.snapshot(topic_id)
        return snap.topic if snap is not None else None

    async def topic_closed(self, item: TopicClosed, to: Target) -> Rendered:
        """The outcome, and where the topic went if the close sent it up (the close tells
        that here rather than in a second message to the group)."""
        topic = await self._topic(item.topic_id)
        if topic is None:
            return None
        text = self._topics.outcome(to.locale, topic)
        matter = await self._services.escalation.matter(topic.id)
        if matter is None or not matter.hops or matter.hops[0].from_node_id != topic.node_id:
            return Text(text)
        above = await self._services.orgs.node(matter.hops[0].to_node_id)
        if above is None:
            return Text(text)
        sent_up = self._t(
            to.locale,
            "escalation.sent_up_line",
            level=self._t(to.locale, f"levels.{above.level}"),
            name=above.name,
        )
        return Text(Html(f"{text}\n{sent_up}"))

    async def topic_cancelled(self, item: TopicCancelled, to: Target) -> Rendered:
        topic = await self._topic(item.topic_id)
        return Text(self._topics.outcome(to.locale, topic)) if topic is not None else None

    async def group_nudge(self, item: GroupNudge, to: Target) -> Rendered:
        topic = await self._topic(item.topic_id)
        if topic is None:
            return None
        return Text(
            self._t(
                to.locale,
                "topics.nudge_group",
                id=topic.id,
                title=topic.title,
                deadline=self._topics.when(to.locale, topic),
                missing=item.missing,
            )
        )

    async def private_nudge(self, item: PrivateNudge, to: Target) -> Rendered:
        topic = await self._topic(item.topic_id)
        if topic is None:
            return None
        return Text(
            self._t(
                to.locale,
                "topics.nudge_private",
                id=topic.id,
                title=topic.title,
                deadline=self._topics.when(to.locale, topic),
            )
        )

    async def proposal_declined(self, item: ProposalDeclined, to: Target) -> Rendered:
        proposal = await self._services.proposals.get(item.proposal_id)
        entry = self._services.catalogue.find(proposal.reason or "") if proposal else None
        if proposal is None or entry is None:
            return None
        return Text(
            self._t(
                to.locale,
                "proposals.declined_private",
                text=proposal.text[:200],
                name=entry.name(to.locale),
                reason=entry.reason(to.locale),
            )
        )

    async def child_lost_bot(self, item: ChildLostBot, to: Target) -> Rendered:
        node = await self._services.orgs.node(item.node_id)
        if node is None:
            return None
        return Text(
            self._t(
                to.locale,
                "orgs.child_lost_bot",
                level=self._t(to.locale, f"levels.{node.level}"),
                name=node.name,
            )
        )

    # Escalation ---------------------------------------------------------------------------

    async def sent_up(self, item: SentUp, to: Target) -> Rendered:
        view = await self._services.escalation.card(item.escalation_id)
        if view is None:
            return None
        t, topic, hop = self._t, view.topic, view.hop
        text = t(
            to.locale,
            "escalation.sent_up",
            id=topic.id,
            title=topic.title,
            reason=t(to.locale, f"reasons.{hop.escalation.reason}"),
            level=t(to.locale, f"levels.{hop.to_node.level}"),
            name=hop.to_node.name,
        )
        if item.late_since is not None:  # the SLA ran out while the bot was down
            when = self._escalation.when(to.locale, item.late_since)
            text = Html(text + "\n" + t(to.locale, "escalation.sent_up_late", due=when))
        return Text(text)

    async def escalation_reminder(self, item: EscalationReminder, to: Target) -> Rendered:
        view = await self._services.escalation.card(item.escalation_id)
        if view is None:
            return None
        topic, hop = view.topic, view.hop
        due = hop.escalation.sla_due_at
        level = view.parent.level if view.parent else hop.to_node.level
        return Text(
            self._t(
                to.locale,
                "escalation.reminder",
                id=topic.id,
                title=topic.title,
                due=self._escalation.when(to.locale, due) if due else "",
                level=self._t(to.locale, f"levels.{level}"),
            )
        )

    async def decision_published(self, item: DecisionPublished, to: Target) -> Rendered:
        matter = await self._services.escalation.matter(item.topic_id)
        if matter is None:
            return None
        record = await self._services.escalation.history(matter.topic.id)
        if record.resolution is None:
            return None
        text = self._t(
            to.locale,
            "escalation.resolved",
            id=matter.topic.id,
            title=matter.topic.title,
            name=matter.holder.name,
            decision=record.resolution.decision,
        )
        if not item.rate:
            return Text(text)
        return Text(
            Html(text + "\n\n" + self._t(to.locale, "escalation.resolved_rate")),
            self._escalation.rating_buttons(to.locale, rating_actions(matter.topic.id)),
        )

    async def matter_progress(self, item: MatterProgress, to: Target) -> Rendered:
        matter = await self._services.escalation.matter(item.topic_id)
        if matter is None:
            return None
        topic = matter.topic
        return Text(
            self._t(
                to.locale, "escalation.progress", id=topic.id, title=topic.title, text=item.text
            )
        )

    async def matter_done(self, item: MatterDone, to: Target) -> Rendered:
        matter = await self._services.escalation.matter(item.topic_id)
        if matter is None:
            return None
        topic = matter.topic
        return Text(self._t(to.locale, "escalation.done", id=topic.id, title=topic.title))

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

    # Meetings (channels/telegram/meetings/announcer.py)
    # --------------------------------------------

    async def meeting_cancelled(self, item: MeetingCancelled, to: Target) -> Rendered:
        return await self._meetings.meeting_cancelled(item, to)

    async def meeting_missed(self, item: MeetingMissed, to: Target) -> Rendered:
        return await self._meetings.meeting_missed(item, to)

    async def minutes_due(self, item: MinutesDue, to: Target) -> Rendered:
        return await self._meetings.minutes_due(item, to)

    async def minutes_published(self, item: MinutesPublished, to: Target) -> Rendered:
        return await self._meetings.minutes_published(item, to)

    async def minutes_of_topic(self, item: MinutesOfTopic, to: Target) -> Rendered:
        return await self._meetings.minutes_of_topic(item, to)


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
