"""WeCom's renderers of the core's announcements (bot/services/announcements.py): one method
per type, each reading what it shows at send time and writing it as markdown in the chat's
language of that moment, within WeCom's byte limits. ``WeComAnnouncements`` is assigned to
``AnnouncementRenderer`` below, so mypy fails while a type has no renderer here. What a
method returns is the list of message bodies the announcer sends (``aibot_send_msg``), in
order: one markdown message, a digest's several, or a markdown and a card of buttons.

The living messages' views are drawn by channels/wecom/cards.py (``WeComViews``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.dates import format_date

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
from bot.services.escalation.views import rating_actions
from bot.services.topics.closing import fraction_of
from bot.services.topics.views import Verdict, verdict_of
from channels.wecom.cards import WeComViews
from channels.wecom.digest import WeComDigest, percent
from channels.wecom.text import DIGEST_BYTES, Markdown, WeComText, escape, message, split
from storage.records import Topic


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

    def _one(self, content: str) -> Rendered:
        return [message(content)]

    # Topics -------------------------------------------------------------------------------

    def verdict(self, locale: str, verdict: Verdict) -> Markdown:
        t = self._t
        if verdict.key == "winner":
            return t(locale, "verdicts.winner", option=verdict.option or "")
        if verdict.key == "unresolved":
            reason = t(locale, f"verdicts.{verdict.reason or 'no_votes'}")
            return t(locale, "verdicts.unresolved", reason=reason)
        return t(locale, f"verdicts.{verdict.key}")

    def outcome(self, locale: str, topic: Topic) -> Markdown:
        """What is posted when a topic closes or is cancelled."""
        t = self._t
        if topic.status == "cancelled":
            return t(locale, "topics.cancelled_title", id=topic.id, title=topic.title)
        outcome = topic.outcome or {}
        lines: list[str] = [
            t(locale, "topics.closed_title", id=topic.id, title=topic.title),
            t(locale, "topics.result_line", verdict=self.verdict(locale, verdict_of(topic))),
        ]
        counts = tuple(int(count) for count in outcome.get("counts", ()))
        if counts and not topic.is_opinion:
            lines.append(
                " · ".join(
                    t(locale, "topics.tally_line", option=option, count=count)
                    for option, count in zip(topic.options, counts, strict=True)
                )
            )
            lines.append(
                t(
                    locale,
                    "topics.participation",
                    cast=outcome.get("cast", 0),
                    eligible=outcome.get("eligible", 0),
                    percent=percent(fraction_of(outcome.get("turnout"))),
                )
            )
        if outcome.get("area_participation"):
            lines.append(
                t(
                    locale,
                    "topics.art278",
                    area_part=percent(fraction_of(outcome.get("area_participation"))),
                    household_part=percent(fraction_of(outcome.get("household_participation"))),
                    area_agree=percent(fraction_of(outcome.get("area_agree"))),
                    household_agree=percent(fraction_of(outcome.get("household_agree"))),
                )
            )
        if outcome.get("unknown_area"):
            lines.append(t(locale, "topics.unknown_area", count=outcome["unknown_area"]))
        public, private = outcome.get("opinions", [0, 0])
        lines.append(t(locale, "topics.opinions_line", public=public, private=private))
        return Markdown("\n".join(lines))

    async def _topic(self, topic_id: int) -> Topic | None:
        snap = await self._services.topics.snapshot(topic_id)
        return snap.topic if snap is not None else None

    async def topic_closed(self, item: TopicClosed, to: Target) -> Rendered:
        topic = await self._topic(item.topic_id)
        if topic is None:
            return None
        text = self.outcome(to.locale, topic)
        matter = await self._services.escalation.matter(topic.id)
        if matter is None or not matter.hops or matter.hops[0].from_node_id != topic.node_id:
            return self._one(text)
        above = await self._services.orgs.node(matter.hops[0].to_node_id)
        if above is None:
            return self._one(text)
        level = self._t(to.locale, f"levels.{above.level}")
        sent_up = self._t(to.locale, "escalation.sent_up_line", level=level, name=above.name)
        return self._one(f"{text}\n{sent_up}")

    async def topic_cancelled(self, item: TopicCancelled, to: Target) -> Rendered:
        topic = await self._topic(item.topic_id)
        return self._one(self.outcome(to.locale, topic)) if topic is not None else None

    async def group_nudge(self, item: GroupNudge, to: Target) -> Rendered:
        topic = await self._topic(item.topic_id)
        if topic is None:
            return None
        return self._one(
            self._t(
                to.locale,
                "topics.nudge_group",
                id=topic.id,
                title=topic.title,
                deadline=self._t.when(to.locale, topic.deadline),
                missing=item.missing,
            )
        )

    async def private_nudge(self, item: PrivateNudge, to: Target) -> Rendered:
        topic = await self._topic(item.topic_id)
        if topic is None:
            return None
        return self._one(
            self._t(
                to.locale,
                "topics.nudge_private",
                id=topic.id,
                title=topic.title,
                deadline=self._t.when(to.locale, topic.deadline),
            )
        )

    async def proposal_declined(self, item: ProposalDeclined, to: Target) -> Rendered:
        proposal = await self._services.proposals.get(item.proposal_id)
        entry = self._services.catalogue.find(proposal.reason or "") if proposal else None
        if proposal is None or entry is None:
            return None
        return self._one(
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
        level = self._t(to.locale, f"levels.{node.level}")
        return self._one(self._t(to.locale, "orgs.child_lost_bot", level=level, name=node.name))

    # Escalation ---------------------------------------------------------------------------

    async def sent_up(self, item: SentUp, to: Target) -> Rendered:
        view = await self._services.escalation.card(item.escalation_id)
        if view is None:
            return None
        t, locale, topic, hop = self._t, to.locale, view.topic, view.hop
        text = t(
            locale,
            "escalation.sent_up",
            id=topic.id,
            title=topic.title,
            reason=t(locale, f"reasons.{hop.escalation.reason}"),
            level=t(locale, f"levels.{hop.to_node.level}"),
            name=hop.to_node.name,
        )
        if item.late_since is not None:  # the SLA ran out while the bot was down
            late = t(locale, "escalation.sent_up_late", due=t.when(locale, item.late_since))
            return self._one(f"{text}\n{late}")
        return self._one(text)

    async def escalation_reminder(self, item: EscalationReminder, to: Target) -> Rendered:
        view = await self._services.escalation.card(item.escalation_id)
        if view is None:
            return None
        topic, hop = view.topic, view.hop
        due = hop.escalation.sla_due_at
        level = view.parent.level if view.parent else hop.to_node.level
        return self._one(
            self._t(
                to.locale,
                "escalation.reminder",
                id=topic.id,
                title=topic.title,
                due=self._t.when(to.locale, due) if due else "",
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
            return self._one(text)
        card = self._views.rating_card(rating_actions(matter.topic.id), to.locale)
        return [message(f"{text}\n\n{self._t(to.locale, 'escalation.resolved_rate')}"), card]

    async def matter_progress(self, item: MatterProgress, to: Target) -> Rendered:
        matter = await self._services.escalation.matter(item.topic_id)
        if matter is None:
            return None
        topic = matter.topic
        return self._one(
            self._t(
                to.locale, "escalation.progress", id=topic.id, title=topic.title, text=item.text
            )
        )

    async def matter_done(self, item: MatterDone, to: Target) -> Rendered:
        matter = await self._services.escalation.matter(item.topic_id)
        if matter is None:
            return None
        topic = matter.topic
        return self._one(self._t(to.locale, "escalation.done", id=topic.id, title=topic.title))

    # Reports ------------------------------------------------------------------------------

    async def digest_due(self, item: DigestDue, to: Target) -> Rendered:
        """The digest's sections as markdown messages of at most 4096 bytes each (the group
        webhook's limit), split between items. Its CSV and chart are Telegram's for now."""
        digest = await self._services.digest.compose(
            item.node_id, item.since, item.until, weekly=item.weekly, late_since=item.late_since
        )
        blocks = WeComDigest(self._t, self._services.catalogue).blocks(to.locale, digest)
        return [message(part) for part in split(blocks, DIGEST_BYTES)]

    # Meetings -----------------------------------------------------------------------------

    def meeting_when(self, locale: str, moment: datetime) -> str:
        """``2026-12-15 19:00（周二）`` / ``2026-12-15 19:00 (Tue)``."""
        day = format_date(
            moment.astimezone(self._t.zone).date(),
            "EEE",
            locale="zh_CN" if locale == "zh_CN" else "en_GB",
        )
        return self._t.plain(locale, "meetings.when", at=self._t.when(locale, moment), day=day)

    async def _meeting(self, occurrence_id: int, locale: str, key: str) -> Rendered:
        view = await self._services.meetings.view(occurrence_id)
        if view is None:
            return None
        when = self.meeting_when(locale, view.occurrence.starts_at)
        meeting = view.meeting
        return self._one(self._t(locale, key, id=meeting.id, title=meeting.title, when=when))

    async def meeting_cancelled(self, item: MeetingCancelled, to: Target) -> Rendered:
        key = "meetings.told_series_cancelled" if item.whole else "meetings.told_cancelled"
        return await self._meeting(item.occurrence_id, to.locale, key)

    async def meeting_missed(self, item: MeetingMissed, to: Target) -> Rendered:
        return await self._meeting(item.occurrence_id, to.locale, "meetings.missed")

    async def minutes_due(self, item: MinutesDue, to: Target) -> Rendered:
        return await self._meeting(item.occurrence_id, to.locale, "meetings.minutes_due")

    async def minutes_published(self, item: MinutesPublished, to: Target) -> Rendered:
        """The minutes' text (a photo or document sent with them stays on Telegram)."""
        entry = await self._services.meetings.minutes.entry(item.minutes_id)
        if entry is None:
            return None
        head = self._t(
            to.locale,
            "meetings.minutes_title",
            id=entry.meeting.id,
            title=entry.meeting.title,
            when=self.meeting_when(to.locale, entry.occurrence.starts_at),
        )
        text = entry.minutes.text
        return self._one(f"{head}\n\n{escape(text)}" if text else head)

    async def minutes_of_topic(self, item: MinutesOfTopic, to: Target) -> Rendered:
        entry = await self._services.meetings.minutes.entry(item.minutes_id)
        if entry is None:
            return None
        text = entry.minutes.text
        excerpt = text if len(text) <= 300 else text[:300] + "…"
        return self._one(
            self._t(
                to.locale,
                "meetings.minutes_topic",
                topic=item.topic_id,
                id=entry.meeting.id,
                title=entry.meeting.title,
                when=self.meeting_when(to.locale, entry.occurrence.starts_at),
                excerpt=excerpt or self._t.plain(to.locale, "meetings.minutes_attachment"),
            )
        )


def _complete(renderers: WeComAnnouncements) -> AnnouncementRenderer[Target, Rendered]:
    """Never called: mypy checks here that WeCom renders every announcement type."""
    return renderers
