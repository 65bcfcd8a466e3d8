"""会议纪要: an officer records a meeting's minutes (text, a photo or a document) once it has
taken place; they are published in every chat the meeting was announced in, and the first
minutes of an occurrence are linked from the topics it discussed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.announcements import MinutesOfTopic, MinutesPublished
from bot.services.errors import Refusal
from bot.services.events import OutboxQueued
from bot.services.meetings.plan import tell_chats
from bot.services.meetings.views import group_node, meeting_here
from bot.services.unit_of_work import UnitOfWork
from storage.records import FileKind, Meeting, MeetingMinutes, MeetingOccurrence, OccurrenceStatus
from storage.repositories import Repositories

MAX_MINUTES = 3000


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: FileKind
    file_id: str
    file_name: str | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    meeting: Meeting
    occurrence: MeetingOccurrence
    minutes: MeetingMinutes
    chats: int


@dataclass(frozen=True, slots=True)
class MinutesView:
    meeting: Meeting
    occurrence: MeetingOccurrence
    minutes: MeetingMinutes


class MinutesService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def record(
        self,
        actor: Actor,
        place: Place,
        *,
        meeting_id: int | None,
        replied_to: int | None,
        text: str,
        attachment: Attachment | None = None,
    ) -> Recorded:
        """``/minutes <id> <内容>``, or ``/minutes <内容>`` replying to a meeting's message."""
        body = text.strip()
        if not body and attachment is None:
            raise Refusal("meetings.usage_minutes")
        if len(body) > MAX_MINUTES:
            raise Refusal("meetings.minutes_too_long", length=len(body), limit=MAX_MINUTES)
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            occurrence = await self._replied_occurrence(repos, place, replied_to)
            if meeting_id is None and occurrence is None:
                raise Refusal("meetings.usage_minutes")
            if occurrence is not None:
                meeting_id = occurrence.meeting_id
            assert meeting_id is not None
            meeting, node = await meeting_here(repos, actor, place, meeting_id)
            occurrence = occurrence or await repos.meetings.last_held(meeting.id)
            await self._refuse_unless_held(repos, meeting, occurrence)
            assert occurrence is not None
            first = not await repos.meetings.minutes(occurrence.id)
            entry = await repos.meetings.add_minutes(
                occurrence_id=occurrence.id,
                text=body,
                file_kind=attachment.kind if attachment else None,
                file_id=attachment.file_id if attachment else None,
                file_name=attachment.file_name if attachment else None,
                recorded_by=actor.user_id,
                recorded_at=now,
            )
            chats = await tell_chats(
                repos,
                occurrence.id,
                MinutesPublished(minutes_id=entry.id),
                now,
                also=[place.chat_id],
            )
            if first:
                await self._link_topics(repos, meeting, entry, now)
            await repos.audit.record(
                action="meeting.minutes",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                meeting_id=meeting.id,
                minutes_id=entry.id,
            )
            repos.record(OutboxQueued())
        return Recorded(meeting, occurrence, entry, chats)

    @staticmethod
    async def _replied_occurrence(
        repos: Repositories, place: Place, replied_to: int | None
    ) -> MeetingOccurrence | None:
        if replied_to is None:
            return None
        await group_node(repos, place)
        post = await repos.meetings.post_at_message(place.chat_id, replied_to)
        return await repos.meetings.occurrence(post.occurrence_id) if post else None

    @staticmethod
    async def _refuse_unless_held(
        repos: Repositories, meeting: Meeting, occurrence: MeetingOccurrence | None
    ) -> None:
        if occurrence is not None and occurrence.status == OccurrenceStatus.HELD:
            return
        if occurrence is not None and occurrence.status == OccurrenceStatus.CANCELLED:
            raise Refusal("meetings.minutes_cancelled", id=meeting.id)
        upcoming = occurrence or await repos.meetings.scheduled(meeting.id)
        if upcoming is None:
            raise Refusal("meetings.not_active", id=meeting.id, status=meeting.status)
        raise Refusal("meetings.minutes_too_early", id=meeting.id)

    @staticmethod
    async def _link_topics(
        repos: Repositories, meeting: Meeting, entry: MeetingMinutes, now: datetime
    ) -> None:
        """Under each linked topic's ballot message: it was discussed, here are the minutes."""
        for topic_id in meeting.topic_ids:
            for post in await repos.topics.posts(topic_id):
                await repos.outbox.add(
                    chat_id=post.chat_id,
                    announcement=MinutesOfTopic(minutes_id=entry.id, topic_id=topic_id),
                    now=now,
                    reply_to=post.message_id,
                    thread_id=post.thread_id,
                )

    async def entry(self, minutes_id: int) -> MinutesView | None:
        async with self._uow.transaction() as repos:
            minutes = await repos.meetings.minutes_entry(minutes_id)
            if minutes is None:
                return None
            occurrence = await repos.meetings.occurrence(minutes.occurrence_id)
            assert occurrence is not None
            meeting = await repos.meetings.get(occurrence.meeting_id)
            assert meeting is not None
        return MinutesView(meeting, occurrence, minutes)
