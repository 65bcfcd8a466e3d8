"""Read models of meetings, and who may touch a meeting from where.

A meeting belongs to its node and is handled in that node's chat by its officers (officers of
an ancestor count: a role covers the nodes below). Other chats of the same tree are told
whose meeting it is; a chat of another tree is told the number is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.meetings.plan import ANNOUNCEMENT
from bot.services.meetings.recurrence import holiday_data_covers
from bot.services.organisation.permissions import is_officer, rank_at
from storage.records import (
    WAITING_STATES,
    Answer,
    Meeting,
    MeetingOccurrence,
    MeetingPost,
    Node,
    Scope,
)
from storage.repositories import Repositories


@dataclass(frozen=True, slots=True)
class AgendaLine:
    kind: str  # "escalation" | "topic" | "item"
    topic_id: int | None
    text: str
    origin: str | None = None  # for an escalation: the node it came from


@dataclass(frozen=True, slots=True)
class OccurrenceView:
    """What a meeting's messages show for one occurrence."""

    meeting: Meeting
    occurrence: MeetingOccurrence
    node: Node
    counts: dict[str, int]
    agenda: list[AgendaLine]
    posts: list[MeetingPost]
    holiday_gap: int | None  # a year the holiday data does not cover (no shift was made)

    @property
    def attending(self) -> int:
        return self.counts.get(Answer.YES, 0)

    @property
    def absent(self) -> int:
        return self.counts.get(Answer.NO, 0)


class MeetingMove(Enum):
    ATTEND = "attend"  # 参加
    EXCUSE = "excuse"  # 请假
    WHO = "who"  # who answered what (told to an officer privately)


@dataclass(frozen=True, slots=True)
class MeetingAction:
    occurrence_id: int
    move: MeetingMove


def meeting_actions(view: OccurrenceView, *, live: bool) -> tuple[MeetingAction, ...]:
    """What people may do from a meeting message: answer, or ask who answered; only on the
    newest in a chat (``live``), and only while the occurrence is ahead."""
    if not live or view.occurrence.status in ("cancelled", "held"):
        return ()
    return tuple(MeetingAction(view.occurrence.id, move) for move in MeetingMove)


class MeetingStatus(Enum):
    AHEAD = "ahead"
    CANCELLED = "cancelled"
    SERIES_CANCELLED = "series_cancelled"
    HELD = "held"


@dataclass(frozen=True, slots=True)
class MeetingMessageView:
    """One announcement or reminder of an occurrence. Only the newest in a chat is live:
    it shows the answers so far and takes new ones; an older one stays as it was."""

    occurrence: OccurrenceView  # the facts: when, where, the agenda
    reminder: bool  # else the announcement made when it was scheduled
    late: bool  # posted once it had begun (the bot was down)
    starts_in: timedelta | None  # a reminder's lead
    status: MeetingStatus
    shows_counts: bool
    actions: tuple[MeetingAction, ...]


def meeting_message_view(
    view: OccurrenceView, post: MeetingPost, *, live: bool
) -> MeetingMessageView:
    occurrence = view.occurrence
    if occurrence.status == "cancelled":
        cancelled_series = view.meeting.status == "cancelled"
        status = MeetingStatus.SERIES_CANCELLED if cancelled_series else MeetingStatus.CANCELLED
    elif occurrence.status == "held":
        status = MeetingStatus.HELD
    else:
        status = MeetingStatus.AHEAD
    reminder = post.slot != ANNOUNCEMENT
    return MeetingMessageView(
        occurrence=view,
        reminder=reminder,
        late=post.late,
        starts_in=occurrence.starts_at - post.created_at if reminder and not post.late else None,
        status=status,
        shows_counts=live or status is not MeetingStatus.AHEAD,
        actions=meeting_actions(view, live=live),
    )


@dataclass(frozen=True, slots=True)
class Detail:
    view: OccurrenceView
    answers: list[tuple[str, str]] | None  # (name, answer), for officers in private only


async def occurrence_view(
    repos: Repositories, occurrence_id: int, zone: ZoneInfo
) -> OccurrenceView | None:
    occurrence = await repos.meetings.occurrence(occurrence_id)
    if occurrence is None:
        return None
    meeting = await repos.meetings.get(occurrence.meeting_id)
    assert meeting is not None
    node = await repos.orgs.node(meeting.node_id)
    assert node is not None
    year = occurrence.planned_at.astimezone(zone).year
    return OccurrenceView(
        meeting=meeting,
        occurrence=occurrence,
        node=node,
        counts=await repos.meetings.answer_counts(occurrence.id),
        agenda=await agenda_lines(repos, meeting, occurrence),
        posts=await repos.meetings.posts(occurrence.id),
        holiday_gap=year if meeting.holiday_shift and not holiday_data_covers(year) else None,
    )


async def agenda_lines(
    repos: Repositories, meeting: Meeting, occurrence: MeetingOccurrence
) -> list[AgendaLine]:
    """The node's open escalations, the linked topics, then the items officers added."""
    lines: list[AgendaLine] = []
    seen: set[int] = set()
    for hop in await repos.escalations.at_nodes([meeting.node_id], states=WAITING_STATES):
        topic = await repos.topics.get(hop.topic_id)
        origin = await repos.orgs.node(hop.from_node_id)
        if topic is not None and topic.id not in seen:
            seen.add(topic.id)
            name = origin.name if origin else None
            lines.append(AgendaLine("escalation", topic.id, topic.title, name))
    for topic_id in meeting.topic_ids:
        topic = await repos.topics.get(topic_id)
        if topic is not None and topic.id not in seen:
            seen.add(topic.id)
            lines.append(AgendaLine("topic", topic.id, topic.title))
    for item in await repos.meetings.agenda(occurrence.id):
        lines.append(AgendaLine("item", None, item.text))
    return lines


async def named_answers(repos: Repositories, occurrence_id: int) -> list[tuple[str, str]]:
    answers = await repos.meetings.answers(occurrence_id)
    people = await repos.users.many([user for user, _ in answers])
    return [
        (people[user].display_name if user in people else str(user), answer)
        for user, answer in answers
    ]


# ---- where and by whom -------------------------------------------------------------------


async def group_node(repos: Repositories, place: Place) -> Node:
    if not place.is_group:
        raise Refusal("meetings.needs_group")
    node = await repos.orgs.node_of_chat(place.chat_id)
    if node is None:
        raise Refusal("orgs.chat_not_bound")
    return node


async def related(repos: Repositories, one: int, other: int) -> bool:
    """Whether one node is the other, or an ancestor or descendant of it."""
    if any(node.id == other for node in await repos.orgs.ancestry(one)):
        return True
    return any(node.id == one for node in await repos.orgs.ancestry(other))


async def meeting_here(
    repos: Repositories, actor: Actor, place: Place, meeting_id: int
) -> tuple[Meeting, Node]:
    """A meeting of this chat's node, for one of its officers."""
    node = await group_node(repos, place)
    meeting = await repos.meetings.get(meeting_id)
    if meeting is None:
        raise Refusal("meetings.unknown", id=meeting_id)
    if meeting.node_id != node.id:
        owner = await repos.orgs.node(meeting.node_id)
        assert owner is not None
        if not await related(repos, node.id, owner.id):
            raise Refusal("meetings.unknown", id=meeting_id)
        raise Refusal("meetings.other_node", id=meeting_id, level=owner.level, name=owner.name)
    if not is_officer(await rank_at(repos, actor, node), node):
        raise Refusal("meetings.needs_officer", id=meeting_id, level=node.level)
    return meeting, node


async def visible_here(repos: Repositories, place: Place, meeting: Meeting) -> bool:
    """A chat sees its node's meetings, those below it, and those above it for everyone."""
    chat_node = await repos.orgs.node_of_chat(place.chat_id)
    if chat_node is None:
        return False
    if any(node.id == chat_node.id for node in await repos.orgs.ancestry(meeting.node_id)):
        return True
    above = [node.id for node in await repos.orgs.ancestry(chat_node.id)]
    return meeting.scope == Scope.ALL and meeting.node_id in above
