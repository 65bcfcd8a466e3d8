"""The meeting aggregate: series, occurrences, their messages, RSVPs, agenda and minutes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import (
    AgendaItem,
    Answer,
    FileKind,
    Meeting,
    MeetingMinutes,
    MeetingOccurrence,
    MeetingPost,
    MeetingStatus,
    OccurrenceStatus,
    Repeat,
    Scope,
)
from storage.tables import (
    meeting_agenda,
    meeting_minutes,
    meeting_occurrences,
    meeting_posts,
    meeting_rsvps,
    meetings,
)
from storage.upsert import insert_ignore, upsert


def _meeting(row: Any) -> Meeting:
    return Meeting(
        id=row.id,
        node_id=row.node_id,
        chat_id=row.chat_id,
        title=row.title,
        note=row.note,
        place=row.place,
        link=row.link,
        repeat=Repeat(row.repeat),
        repeat_day=row.repeat_day,
        repeat_nth=row.repeat_nth,
        local_time=row.local_time,
        once_on=row.once_on,
        reminders=tuple(int(seconds) for seconds in row.reminders),
        topic_ids=tuple(int(topic) for topic in row.topic_ids),
        scope=Scope(row.scope),
        holiday_shift=row.holiday_shift,
        status=MeetingStatus(row.status),
        created_by=row.created_by,
        created_at=row.created_at,
        thread_id=row.message_thread_id,
    )


def _occurrence(row: Any) -> MeetingOccurrence:
    return MeetingOccurrence(
        id=row.id,
        meeting_id=row.meeting_id,
        planned_at=row.planned_at,
        starts_at=row.starts_at,
        reminders_after=row.reminders_after,
        status=OccurrenceStatus(row.status),
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
    )


def _post(row: Any) -> MeetingPost:
    return MeetingPost(
        occurrence_id=row.occurrence_id,
        slot=row.slot,
        chat_id=row.chat_id,
        node_id=row.node_id,
        created_at=row.created_at,
        late=row.late,
        message_id=row.message_id,
        rendered_hash=row.rendered_hash,
        thread_id=row.message_thread_id,
    )


class MeetingRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    # Series ------------------------------------------------------------------------------

    async def create(self, **values: Any) -> Meeting:
        result = await self._db.execute(
            meetings.insert().values(status=MeetingStatus.ACTIVE, **values).returning(*meetings.c)
        )
        return _meeting(result.one())

    async def get(self, meeting_id: int) -> Meeting | None:
        row = (await self._db.execute(select(meetings).where(meetings.c.id == meeting_id))).first()
        return _meeting(row) if row else None

    async def set_status(
        self, meeting_id: int, status: MeetingStatus, *, cancelled_at: datetime | None = None
    ) -> bool:
        """Move an active meeting to ``status``; False if it was not active any more."""
        result = await self._db.execute(
            update(meetings)
            .where(meetings.c.id == meeting_id, meetings.c.status == MeetingStatus.ACTIVE)
            .values(status=status, cancelled_at=cancelled_at)
        )
        return bool(result.rowcount)

    async def at_nodes(
        self, node_ids: list[int], *, statuses: tuple[MeetingStatus, ...]
    ) -> list[Meeting]:
        rows = await self._db.execute(
            select(meetings)
            .where(meetings.c.node_id.in_(node_ids), meetings.c.status.in_(statuses))
            .order_by(meetings.c.id)
        )
        return [_meeting(row) for row in rows]

    # Occurrences -------------------------------------------------------------------------

    async def add_occurrence(
        self,
        *,
        meeting_id: int,
        planned_at: datetime,
        starts_at: datetime,
        reminders_after: datetime,
        now: datetime,
    ) -> MeetingOccurrence | None:
        """A new scheduled occurrence; None if this planned date exists already."""
        added = await insert_ignore(
            self._db,
            meeting_occurrences,
            {
                "meeting_id": meeting_id,
                "planned_at": planned_at,
                "starts_at": starts_at,
                "reminders_after": reminders_after,
                "status": OccurrenceStatus.SCHEDULED,
                "created_at": now,
            },
            conflict=["meeting_id", "planned_at"],
        )
        if not added:
            return None
        row = (
            await self._db.execute(
                select(meeting_occurrences).where(
                    meeting_occurrences.c.meeting_id == meeting_id,
                    meeting_occurrences.c.planned_at == planned_at,
                )
            )
        ).one()
        return _occurrence(row)

    async def occurrence(self, occurrence_id: int) -> MeetingOccurrence | None:
        row = (
            await self._db.execute(
                select(meeting_occurrences).where(meeting_occurrences.c.id == occurrence_id)
            )
        ).first()
        return _occurrence(row) if row else None

    async def occurrences(self, meeting_id: int) -> list[MeetingOccurrence]:
        rows = await self._db.execute(
            select(meeting_occurrences)
            .where(meeting_occurrences.c.meeting_id == meeting_id)
            .order_by(meeting_occurrences.c.planned_at)
        )
        return [_occurrence(row) for row in rows]

    async def scheduled(self, meeting_id: int) -> MeetingOccurrence | None:
        """The series' next occurrence (at most one is scheduled at a time)."""
        found = [
            o for o in await self.occurrences(meeting_id) if o.status == OccurrenceStatus.SCHEDULED
        ]
        return found[0] if found else None

    async def last_held(self, meeting_id: int) -> MeetingOccurrence | None:
        held = [o for o in await self.occurrences(meeting_id) if o.status == OccurrenceStatus.HELD]
        return held[-1] if held else None

    async def transition(
        self,
        occurrence_id: int,
        *,
        from_status: OccurrenceStatus,
        to_status: OccurrenceStatus,
        **values: Any,
    ) -> bool:
        result = await self._db.execute(
            update(meeting_occurrences)
            .where(
                meeting_occurrences.c.id == occurrence_id,
                meeting_occurrences.c.status == from_status,
            )
            .values(status=to_status, **values)
        )
        return bool(result.rowcount)

    # Messages ----------------------------------------------------------------------------

    async def add_post(self, **values: Any) -> bool:
        return await insert_ignore(
            self._db, meeting_posts, values, conflict=["occurrence_id", "slot", "chat_id"]
        )

    async def posts(self, occurrence_id: int) -> list[MeetingPost]:
        rows = await self._db.execute(
            select(meeting_posts)
            .where(meeting_posts.c.occurrence_id == occurrence_id)
            .order_by(meeting_posts.c.created_at, meeting_posts.c.slot, meeting_posts.c.chat_id)
        )
        return [_post(row) for row in rows]

    async def post_at_message(self, chat_id: int, message_id: int) -> MeetingPost | None:
        row = (
            await self._db.execute(
                select(meeting_posts).where(
                    meeting_posts.c.chat_id == chat_id, meeting_posts.c.message_id == message_id
                )
            )
        ).first()
        return _post(row) if row else None

    def _at(self, occurrence_id: int, slot: int, chat_id: int) -> Any:
        return update(meeting_posts).where(
            meeting_posts.c.occurrence_id == occurrence_id,
            meeting_posts.c.slot == slot,
            meeting_posts.c.chat_id == chat_id,
        )

    async def set_post_message(
        self, occurrence_id: int, slot: int, chat_id: int, message_id: int
    ) -> None:
        await self._db.execute(self._at(occurrence_id, slot, chat_id).values(message_id=message_id))

    async def set_post_rendered(
        self, occurrence_id: int, slot: int, chat_id: int, rendered_hash: str
    ) -> None:
        await self._db.execute(
            self._at(occurrence_id, slot, chat_id).values(rendered_hash=rendered_hash)
        )

    async def ids_needing_refresh(self) -> list[int]:
        """Occurrences with a message not yet posted, or still taking answers."""
        rows = await self._db.execute(
            select(meeting_posts.c.occurrence_id)
            .join(meeting_occurrences, meeting_occurrences.c.id == meeting_posts.c.occurrence_id)
            .where(
                meeting_posts.c.message_id.is_(None)
                | (meeting_occurrences.c.status == OccurrenceStatus.SCHEDULED)
            )
            .distinct()
        )
        return sorted(int(row[0]) for row in rows)

    # Answers -----------------------------------------------------------------------------

    async def answer(
        self, *, occurrence_id: int, user_id: int, answer: Answer, chat_id: int, now: datetime
    ) -> None:
        await upsert(
            self._db,
            meeting_rsvps,
            {
                "occurrence_id": occurrence_id,
                "user_id": user_id,
                "answer": answer,
                "chat_id": chat_id,
                "updated_at": now,
            },
            conflict=["occurrence_id", "user_id"],
            update=["answer", "chat_id", "updated_at"],
        )

    async def answer_of(self, occurrence_id: int, user_id: int) -> str | None:
        result = await self._db.execute(
            select(meeting_rsvps.c.answer).where(
                meeting_rsvps.c.occurrence_id == occurrence_id,
                meeting_rsvps.c.user_id == user_id,
            )
        )
        value: str | None = result.scalar_one_or_none()
        return value

    async def answer_counts(self, occurrence_id: int) -> dict[str, int]:
        rows = await self._db.execute(
            select(meeting_rsvps.c.answer, func.count())
            .where(meeting_rsvps.c.occurrence_id == occurrence_id)
            .group_by(meeting_rsvps.c.answer)
        )
        return {answer: int(count) for answer, count in rows}

    async def answers(self, occurrence_id: int) -> list[tuple[int, str]]:
        """(user, answer) in the order they last answered."""
        rows = await self._db.execute(
            select(meeting_rsvps.c.user_id, meeting_rsvps.c.answer)
            .where(meeting_rsvps.c.occurrence_id == occurrence_id)
            .order_by(meeting_rsvps.c.updated_at, meeting_rsvps.c.user_id)
        )
        return [(int(user), str(answer)) for user, answer in rows]

    # Agenda and minutes ------------------------------------------------------------------

    async def add_agenda_item(
        self, *, occurrence_id: int, text: str, added_by: int, now: datetime
    ) -> None:
        await self._db.execute(
            meeting_agenda.insert().values(
                occurrence_id=occurrence_id, text=text, added_by=added_by, added_at=now
            )
        )

    async def agenda(self, occurrence_id: int) -> list[AgendaItem]:
        rows = await self._db.execute(
            select(meeting_agenda)
            .where(meeting_agenda.c.occurrence_id == occurrence_id)
            .order_by(meeting_agenda.c.id)
        )
        return [
            AgendaItem(
                id=row.id,
                occurrence_id=row.occurrence_id,
                text=row.text,
                added_by=row.added_by,
                added_at=row.added_at,
            )
            for row in rows
        ]

    async def add_minutes(self, **values: Any) -> MeetingMinutes:
        result = await self._db.execute(
            meeting_minutes.insert().values(**values).returning(*meeting_minutes.c)
        )
        return self._minutes(result.one())

    async def minutes_entry(self, minutes_id: int) -> MeetingMinutes | None:
        row = (
            await self._db.execute(
                select(meeting_minutes).where(meeting_minutes.c.id == minutes_id)
            )
        ).first()
        return self._minutes(row) if row else None

    async def minutes(self, occurrence_id: int) -> list[MeetingMinutes]:
        rows = await self._db.execute(
            select(meeting_minutes)
            .where(meeting_minutes.c.occurrence_id == occurrence_id)
            .order_by(meeting_minutes.c.id)
        )
        return [self._minutes(row) for row in rows]

    @staticmethod
    def _minutes(row: Any) -> MeetingMinutes:
        return MeetingMinutes(
            id=row.id,
            occurrence_id=row.occurrence_id,
            text=row.text,
            file_kind=None if row.file_kind is None else FileKind(row.file_kind),
            file_id=row.file_id,
            file_name=row.file_name,
            recorded_by=row.recorded_by,
            recorded_at=row.recorded_at,
        )
