"""What each announcement says, once for every channel: the core reads what an announcement
is about through the services and returns a :class:`Told` (lines of locale keys with their
parameters, the actions offered, a file sent with it), or ``None`` when what it was about is
gone. A channel's renderer only formats that value (Telegram: HTML and inline buttons;
WeCom: markdown and cards within its byte limits).

It lives in the domain rather than in channels/ because it needs only the services and the
locale keys, never a Translator: words are chosen by key, and the values that a channel writes
its own way (a moment, a weekday, a topic's outcome record) stay typed values here. The locale
is an input only where the domain itself holds text per language (the catalogue's names).
The staff digest's outline (:func:`digest_outline`) is here too. How a channel writes a
``Told`` or a digest's blocks: channels/common/told.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from bot.services.announcements import (
    ChildLostBot,
    DecisionPublished,
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
from bot.services.escalation.views import RATINGS, RateAction, rating_actions
from bot.services.meetings.plan import ANNOUNCEMENT
from bot.services.reports.digest import Digest, DigestItem
from bot.services.topics.closing import fraction_of
from bot.services.topics.views import BallotView, Verdict, verdict_of
from storage.records import Topic

if TYPE_CHECKING:  # it reads through them
    from bot.catalogue import Catalogue
    from bot.services import Services

EXCERPT = 300  # characters of a meeting's minutes quoted under a topic
MAX_LISTED = 50  # a digest's items listed; the rest counted (and, on Telegram, attached)


def percent(value: Fraction | None) -> str:
    """``12.5%``, the same in every language; ``—`` for none."""
    return "—" if value is None else f"{float(value) * 100:.1f}%"


@dataclass(frozen=True, slots=True)
class Weekday:
    """The day of the week of ``moment``, in the channel's zone and the chat's language."""

    moment: datetime


@dataclass(frozen=True, slots=True)
class Elapsed:
    """How long something has waited, as the channel writes an age."""

    delta: timedelta


@dataclass(frozen=True, slots=True)
class Duration:
    """A length of time, as people write one (``3天`` / ``3 d``): an SLA, a deadline's move."""

    delta: timedelta


@dataclass(frozen=True, slots=True)
class Label:
    """The localised label of a thing's name (``role_names.grid_worker``: 网格员), or the
    name itself where the catalogue has none (a value a newer release wrote)."""

    section: str
    name: str


@dataclass(frozen=True, slots=True)
class Series:
    """Several values as one, joined by the text of the ``separator`` key (a count per
    level: ``2 个网格、5 个楼栋``; an audit row's details)."""

    parts: tuple[Value, ...]
    separator: str


@dataclass(frozen=True, slots=True)
class Said:
    """A locale key and its parameters. A parameter is literal text or a number (escaped by
    the channel), a moment (the channel's date and time), a :class:`Weekday`, an
    :class:`Elapsed`, another ``Said`` (translated and inserted as it is), a
    :class:`Listed` of keys, or a :class:`Joined` (keys with their values, on one line)."""

    key: str
    params: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Spans:
    """Lengths of time, as the channel writes one (``1天, 1小时``), joined by commas."""

    deltas: tuple[timedelta, ...]


@dataclass(frozen=True, slots=True)
class Plain:
    """A key whose text is plain, not markup (a command's menu description), inserted as
    text."""

    key: str


@dataclass(frozen=True, slots=True)
class Person:
    """Someone named in a message: Telegram links the name to them (a mention that works
    without a username); WeCom, which knows people by their 账号 (userid), shows the name."""

    name: str
    user_id: int

    @classmethod
    def of(cls, first_name: str, last_name: str | None, user_id: int) -> Person:
        name = " ".join(part for part in (first_name, last_name) if part) or str(user_id)
        return cls(name, user_id)


@dataclass(frozen=True, slots=True)
class Listed:
    """Several keys as one value, joined by the text of the ``separator`` key (roles:
    ``楼栋长、网格员``)."""

    items: tuple[str, ...]
    separator: str


@dataclass(frozen=True, slots=True)
class Joined:
    """Several keys on one line (a tally: ``同意：3 · 反对：1``)."""

    parts: tuple[Said, ...]
    separator: str = " · "


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the channel already has (a photo or document sent with minutes)."""

    kind: str  # photo | document
    file_id: str


# A line: a locale key, keys on one line, or text people wrote (escaped; "" a blank line).
Line = Said | Joined | str
Value = (
    str
    | int
    | Decimal
    | datetime
    | Weekday
    | Elapsed
    | Spans
    | Duration
    | Label
    | Series
    | Said
    | Listed
    | Joined
    | Person
    | Plain
)


@dataclass(frozen=True, slots=True)
class Told:
    """One announcement's message: its lines joined by newlines, the rating actions offered
    under it, and the file sent with it (channels that cannot send it leave it out)."""

    lines: tuple[Line, ...]
    actions: tuple[RateAction, ...] = ()
    attachment: Attachment | None = None


def _one(key: str, **params: Value) -> Told:
    return Told((Said(key, params),))


def _level(level: str) -> Said:
    return Said(f"levels.{level}")


def meeting_when(moment: datetime) -> Said:
    """``2026-12-15 19:00（周二）``: when a meeting is."""
    return Said("meetings.when", {"at": moment, "day": Weekday(moment)})


def verdict_said(verdict: Verdict) -> Said:
    """``通过（同意 3 票）`` and the like: a verdict and, unresolved, why."""
    if verdict.key == "winner":
        return Said("verdicts.winner", {"option": verdict.option or ""})
    if verdict.key == "unresolved":
        reason = Said(f"verdicts.{verdict.reason or 'no_votes'}")
        return Said("verdicts.unresolved", {"reason": reason})
    return Said(f"verdicts.{verdict.key}")


def tally(topic: Topic, counts: tuple[int, ...]) -> Joined:
    """Each option and its votes, on one line."""
    return Joined(
        tuple(
            Said("topics.tally_line", {"option": option, "count": count})
            for option, count in zip(topic.options, counts, strict=True)
        )
    )


def ballot_facts(view: BallotView, catalogue: Catalogue, locale: str) -> tuple[Line, ...]:
    """What a ballot says of how the topic is decided, one fact a line: its category, rule,
    quorum, household vote, secrecy, hidden tally, the chats voting together, the deadline."""
    lines: list[Line] = []
    entry = catalogue.find(view.category) if view.category else None
    if entry is not None:
        lines.append(Said("topics.category", {"category": entry.name(locale)}))
    lines.append(Said("topics.rule", {"rule": Said(f"rules.{view.rule}")}))
    if view.quorum_percent:
        lines.append(Said("topics.quorum", {"percent": view.quorum_percent}))
    if view.household:
        lines.append(Said("topics.household"))
    if view.secret:
        lines.append(Said("topics.secret"))
    if view.hides_results:
        lines.append(Said("topics.hidden"))
    if view.scope_level is not None:
        lines.append(Said("topics.scope_all", {"level": _level(view.scope_level)}))
    lines.append(Said("topics.deadline", {"deadline": view.deadline}))
    return tuple(lines)


def topic_record(topic: Topic) -> tuple[Line, ...]:
    """A closed topic's record: the verdict, the tally and turnout (a vote), the Art. 278
    shares, ballots of unknown area, the opinions."""
    outcome = topic.outcome or {}
    lines: list[Line] = [Said("topics.result_line", {"verdict": verdict_said(verdict_of(topic))})]
    counts = tuple(int(count) for count in outcome.get("counts", ()))
    if counts and not topic.is_opinion:
        lines.append(tally(topic, counts))
        if "eligible" in outcome and outcome["eligible"] is None:  # the roll was not known
            lines.append(Said("topics.participation_unknown", {"cast": outcome.get("cast", 0)}))
        else:
            turnout = percent(fraction_of(outcome.get("turnout")))
            participation: dict[str, Value] = {
                "cast": outcome.get("cast", 0),
                "eligible": outcome.get("eligible", 0),
                "percent": turnout,
            }
            lines.append(Said("topics.participation", participation))
    if outcome.get("area_participation"):
        shares: dict[str, Value] = {
            "area_part": percent(fraction_of(outcome.get("area_participation"))),
            "household_part": percent(fraction_of(outcome.get("household_participation"))),
            "area_agree": percent(fraction_of(outcome.get("area_agree"))),
            "household_agree": percent(fraction_of(outcome.get("household_agree"))),
        }
        lines.append(Said("topics.art278", shares))
    if outcome.get("unknown_area"):
        lines.append(Said("topics.unknown_area", {"count": outcome["unknown_area"]}))
    public, private = outcome.get("opinions", [0, 0])
    lines.append(Said("topics.opinions_line", {"public": public, "private": private}))
    return tuple(lines)


def topic_outcome(topic: Topic) -> tuple[Line, ...]:
    """What is posted when a topic closes (its title and record) or is cancelled."""
    if topic.status == "cancelled":
        return (Said("topics.cancelled_title", {"id": topic.id, "title": topic.title}),)
    return (
        Said("topics.closed_title", {"id": topic.id, "title": topic.title}),
        *topic_record(topic),
    )


class AnnouncementTexts:
    """One method per announcement type but the digest (composed by the digest service when
    sent, its outline :func:`digest_outline`), each reading what it says at send time."""

    def __init__(self, services: Services) -> None:
        self._services = services

    # Topics -------------------------------------------------------------------------------

    async def _topic(self, topic_id: int) -> Topic | None:
        snap = await self._services.topics.snapshot(topic_id)
        return snap.topic if snap is not None else None

    async def topic_closed(self, item: TopicClosed, locale: str) -> Told | None:
        """The outcome, and where the topic went if the close sent it up (the close tells
        that here rather than in a second message to the group)."""
        topic = await self._topic(item.topic_id)
        if topic is None:
            return None
        matter = await self._services.escalation.matter(topic.id)
        if matter is None or not matter.hops or matter.hops[0].from_node_id != topic.node_id:
            return Told(topic_outcome(topic))
        above = await self._services.orgs.node(matter.hops[0].to_node_id)
        if above is None:
            return Told(topic_outcome(topic))
        sent_up = Said(
            "escalation.sent_up_line", {"level": _level(above.level), "name": above.name}
        )
        return Told((*topic_outcome(topic), sent_up))

    async def topic_cancelled(self, item: TopicCancelled, locale: str) -> Told | None:
        topic = await self._topic(item.topic_id)
        return Told(topic_outcome(topic)) if topic is not None else None

    async def group_nudge(self, item: GroupNudge, locale: str) -> Told | None:
        topic = await self._topic(item.topic_id)
        if topic is None:
            return None
        if item.missing is None:  # the chat's size is not known (WeCom)
            return _one(
                "topics.nudge_group_unknown",
                id=topic.id,
                title=topic.title,
                deadline=topic.deadline,
            )
        return _one(
            "topics.nudge_group",
            id=topic.id,
            title=topic.title,
            deadline=topic.deadline,
            missing=item.missing,
        )

    async def private_nudge(self, item: PrivateNudge, locale: str) -> Told | None:
        topic = await self._topic(item.topic_id)
        if topic is None:
            return None
        return _one("topics.nudge_private", id=topic.id, title=topic.title, deadline=topic.deadline)

    async def proposal_declined(self, item: ProposalDeclined, locale: str) -> Told | None:
        proposal = await self._services.proposals.get(item.proposal_id)
        entry = self._services.catalogue.find(proposal.reason or "") if proposal else None
        if proposal is None or entry is None:
            return None
        return _one(
            "proposals.declined_private",
            text=proposal.text[:200],
            name=entry.name(locale),
            reason=entry.reason(locale),
        )

    async def child_lost_bot(self, item: ChildLostBot, locale: str) -> Told | None:
        node = await self._services.orgs.node(item.node_id)
        if node is None:
            return None
        return _one("orgs.child_lost_bot", level=_level(node.level), name=node.name)

    # Escalation ---------------------------------------------------------------------------

    async def sent_up(self, item: SentUp, locale: str) -> Told | None:
        view = await self._services.escalation.card(item.escalation_id)
        if view is None:
            return None
        topic, hop = view.topic, view.hop
        said = Said(
            "escalation.sent_up",
            {
                "id": topic.id,
                "title": topic.title,
                "reason": Said(f"reasons.{hop.escalation.reason}"),
                "level": _level(hop.to_node.level),
                "name": hop.to_node.name,
            },
        )
        if item.late_since is None:
            return Told((said,))
        # the SLA ran out while the bot was down
        return Told((said, Said("escalation.sent_up_late", {"due": item.late_since})))

    async def escalation_reminder(self, item: EscalationReminder, locale: str) -> Told | None:
        view = await self._services.escalation.card(item.escalation_id)
        if view is None:
            return None
        topic, hop = view.topic, view.hop
        due = hop.escalation.sla_due_at
        level = view.parent.level if view.parent else hop.to_node.level
        return _one(
            "escalation.reminder",
            id=topic.id,
            title=topic.title,
            due=due if due else "",
            level=_level(level),
        )

    async def decision_published(self, item: DecisionPublished, locale: str) -> Told | None:
        matter = await self._services.escalation.matter(item.topic_id)
        if matter is None:
            return None
        record = await self._services.escalation.history(matter.topic.id)
        if record.resolution is None:
            return None
        said = Said(
            "escalation.resolved",
            {
                "id": matter.topic.id,
                "title": matter.topic.title,
                "name": matter.holder.name,
                "decision": record.resolution.decision,
            },
        )
        if not item.rate:
            return Told((said,))
        return Told(
            (said, "", Said("escalation.resolved_rate")), actions=rating_actions(matter.topic.id)
        )

    async def matter_progress(self, item: MatterProgress, locale: str) -> Told | None:
        matter = await self._services.escalation.matter(item.topic_id)
        if matter is None:
            return None
        topic = matter.topic
        return _one("escalation.progress", id=topic.id, title=topic.title, text=item.text)

    async def matter_done(self, item: MatterDone, locale: str) -> Told | None:
        matter = await self._services.escalation.matter(item.topic_id)
        if matter is None:
            return None
        return _one("escalation.done", id=matter.topic.id, title=matter.topic.title)

    # Meetings -----------------------------------------------------------------------------

    async def _meeting(self, occurrence_id: int, key: str) -> Told | None:
        view = await self._services.meetings.view(occurrence_id)
        if view is None:
            return None
        meeting = view.meeting
        when = meeting_when(view.occurrence.starts_at)
        return _one(key, id=meeting.id, title=meeting.title, when=when)

    async def meeting_cancelled(self, item: MeetingCancelled, locale: str) -> Told | None:
        key = "meetings.told_series_cancelled" if item.whole else "meetings.told_cancelled"
        return await self._meeting(item.occurrence_id, key)

    async def meeting_missed(self, item: MeetingMissed, locale: str) -> Told | None:
        return await self._meeting(item.occurrence_id, "meetings.missed")

    async def meeting_unreached(self, item: MeetingUnreached, locale: str) -> Told | None:
        """Which chats did not get the announcement or a reminder, and what to do."""
        found = await self._services.meetings.unreached(item.occurrence_id, item.slot)
        if found is None:
            return None
        meeting, occurrence, names = found
        what = "announcement" if item.slot == ANNOUNCEMENT else "reminder"
        return _one(
            f"meetings.unreached_{what}",
            id=meeting.id,
            title=meeting.title,
            when=meeting_when(occurrence.starts_at),
            chats=("、" if locale == "zh_CN" else ", ").join(names),
        )

    async def minutes_due(self, item: MinutesDue, locale: str) -> Told | None:
        return await self._meeting(item.occurrence_id, "meetings.minutes_due")

    async def minutes_published(self, item: MinutesPublished, locale: str) -> Told | None:
        """The head, then the minutes' text if any; the photo or document sent with them."""
        entry = await self._services.meetings.minutes.entry(item.minutes_id)
        if entry is None:
            return None
        head = Said(
            "meetings.minutes_title",
            {
                "id": entry.meeting.id,
                "title": entry.meeting.title,
                "when": meeting_when(entry.occurrence.starts_at),
            },
        )
        minutes = entry.minutes
        attachment = (
            Attachment(minutes.file_kind, minutes.file_id)
            if minutes.file_kind is not None and minutes.file_id is not None
            else None
        )
        lines: tuple[Line, ...] = (head, "", minutes.text) if minutes.text else (head,)
        return Told(lines, attachment=attachment)

    async def minutes_of_topic(self, item: MinutesOfTopic, locale: str) -> Told | None:
        entry = await self._services.meetings.minutes.entry(item.minutes_id)
        if entry is None:
            return None
        text = entry.minutes.text
        excerpt = text if len(text) <= EXCERPT else text[:EXCERPT] + "…"
        return _one(
            "meetings.minutes_topic",
            topic=item.topic_id,
            id=entry.meeting.id,
            title=entry.meeting.title,
            when=meeting_when(entry.occurrence.starts_at),
            excerpt=excerpt or Said("meetings.minutes_attachment"),
        )


# The digest ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestOutline:
    """What a digest says, as blocks (a block's lines joined by newlines) that a channel packs
    into messages within its limit, never splitting a block. ``more``: the count of all its
    items when more than MAX_LISTED were there to list (each channel says where the rest are).
    """

    blocks: tuple[tuple[Line, ...], ...]
    more: int | None = None


def digest_outline(digest: Digest, catalogue: Catalogue, locale: str) -> DigestOutline:
    """The title (a late note after an outage: the digest covers everything since the previous
    one, however many mornings were missed), the new, open and resolved matters (at most
    MAX_LISTED in all), the participation per grid, the categories."""
    span: dict[str, Value] = {
        "name": digest.community.name,
        "since": digest.since,
        "until": digest.until,
    }
    late: tuple[Line, ...] = ()
    if digest.late_since is not None:
        late = (Said("digest.late", {"due": digest.late_since}),)
    if digest.empty:
        return DigestOutline(((Said("digest.empty", span), *late),))
    blocks: list[tuple[Line, ...]] = [(Said("digest.title", span),), *((line,) for line in late)]
    listed = 0
    for key, items in (("new", digest.new), ("open", digest.open), ("resolved", digest.resolved)):
        if not items:
            continue
        blocks.append(("", Said(f"digest.{key}_title", {"count": len(items)})))
        for item in items[: max(MAX_LISTED - listed, 0)]:
            blocks.append((_digest_item(key, item, digest),))
            listed += 1
    if digest.participation:
        blocks.append(("", Said("digest.participation_title")))
        for grid in digest.participation:
            if grid.turnout is None and grid.unknown:
                unknown: dict[str, Value] = {"name": grid.name, "topics": grid.unknown}
                blocks.append((Said("digest.participation_unknown", unknown),))
            elif grid.turnout is None:
                blocks.append((Said("digest.participation_none", {"name": grid.name}),))
            else:
                turnout: dict[str, Value] = {
                    "name": grid.name,
                    "turnout": percent(grid.turnout),
                    "topics": grid.topics,
                }
                blocks.append((Said("digest.participation_item", turnout),))
    if digest.categories:
        blocks.append(("", Said("digest.categories_title")))
        for key, count in digest.categories:
            entry = catalogue.find(key)
            name = entry.name(locale) if entry else key
            blocks.append((Said("digest.category_item", {"name": name, "count": count}),))
    more = digest.item_count if digest.item_count > MAX_LISTED else None
    return DigestOutline(tuple(blocks), more)


def _digest_item(section: str, item: DigestItem, digest: Digest) -> Said:
    if section == "new":
        return Said(
            "digest.new_item",
            {
                "id": item.topic_id,
                "title": item.title,
                "from_name": item.from_name,
                "to_name": item.to_name,
                "reason": Said(f"reasons.{item.reason}"),
            },
        )
    if section == "resolved":
        resolved: dict[str, Value] = {
            "id": item.topic_id,
            "title": item.title,
            "decision": (item.decision or "")[:300].rstrip("。."),
        }
        resolved.update({key: item.ratings.get(key, 0) for key in RATINGS})
        return Said("digest.resolved_item", resolved)
    return Said(
        "digest.overdue_item" if item.overdue else "digest.open_item",
        {
            "id": item.topic_id,
            "title": item.title,
            "to_name": item.to_name,
            "age": Elapsed(digest.until - item.created_at),
            "due": item.sla_due_at if item.sla_due_at else "—",
            "state": Said(f"states.{item.state}"),
        },
    )
