"""WeCom's renderers of the core's announcements (bot/services/announcements.py): one method
per type, each writing what the core says at send time (bot/services/announcement_texts.py) as
markdown in the chat's language of that moment, within WeCom's byte limits.
``WeComAnnouncements`` is assigned to ``AnnouncementRenderer`` below, so mypy fails while a type
has no renderer here. What a
method returns is the list of message bodies the announcer sends (``aibot_send_msg``), in
order: one markdown message, a digest's several, or a markdown and a card of buttons.

The living messages' views are drawn by channels/wecom/cards.py (``WeComViews``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.services import Services
from bot.services.announcement_texts import AnnouncementTexts, Told
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
from channels.common.charts import weekly_charts
from channels.common.told import Writer
from channels.wecom.cards import WeComViews
from channels.wecom.digest import WeComDigest
from channels.wecom.push import image_body
from channels.wecom.text import WeComText, escape, message


@dataclass(frozen=True, slots=True)
class Target:
    """Where an announcement goes: the chat's language now."""

    locale: str


# The bodies to send, in order; None: what it was about is gone (nothing to say).
Rendered = list[dict[str, Any]] | None


class WeComAnnouncements:
    def __init__(self, services: Services, text: WeComText, views: WeComViews) -> None:
        self._services = services
        self._t = text
        self._views = views
        self._said = AnnouncementTexts(services)
        self._writer = Writer(text, escape, text.zone)

    # Topics -------------------------------------------------------------------------------

    def _draw(self, locale: str, told: Told | None) -> Rendered:
        """The text as one markdown message, and the rating actions as a card after it (a
        file sent with it stays on Telegram)."""
        if told is None:
            return None
        bodies = [message(self._writer.text(locale, told))]
        if told.actions:
            bodies.append(self._views.rating_card(told.actions, locale))
        return bodies

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
        """The digest's sections as markdown messages of at most 4096 bytes each (the group
        webhook's limit), split between items; a weekly one's chart after them, as ``image``
        bodies, which the announcer sends by the group's push webhook. (The CSV of a digest
        past 50 items is Telegram's.)"""
        digest = await self._services.digest.compose(
            item.node_id, item.since, item.until, weekly=item.weekly, late_since=item.late_since
        )
        parts = WeComDigest(self._t, self._services.catalogue).messages(to.locale, digest)
        bodies = [message(part) for part in parts]
        if digest.weekly is not None and digest.weekly.grids:
            charts = await weekly_charts(to.locale, digest.weekly, self._t.translator)
            bodies += [image_body(chart.png) for chart in charts]
        return bodies

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
        """The minutes' text (a photo or document sent with them stays on Telegram)."""
        return self._draw(to.locale, await self._said.minutes_published(item, to.locale))

    async def minutes_of_topic(self, item: MinutesOfTopic, to: Target) -> Rendered:
        return self._draw(to.locale, await self._said.minutes_of_topic(item, to.locale))


def _complete(renderers: WeComAnnouncements) -> AnnouncementRenderer[Target, Rendered]:
    """Never called: mypy checks here that WeCom renders every announcement type."""
    return renderers
