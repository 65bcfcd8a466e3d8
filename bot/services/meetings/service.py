"""Meetings (议事会): scheduling, RSVP, agenda, cancelling and reading them.

``/meeting`` stores the meeting, plans its first occurrence with its reminder timers, and
posts the announcement (a living message with 参加 / 请假 buttons) in every chat it is for,
all in one transaction: a refused meeting leaves nothing behind. That transaction also marks
the request handled (the inbox, ``channels/telegram/inbox.py``): the announcements take one send per
chat after the commit, and a crash among them must not replay ``/meeting`` and schedule it twice;
the restarted bot posts only the chats without a message. Reminders, the start and the
minutes reminder are timers (``meetings.timers``); minutes are in ``meetings.minutes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.announcements import MeetingCancelled, MeetingUnreached
from bot.services.errors import Refusal
from bot.services.events import MeetingChanged, OutboxQueued
from bot.services.meetings.minutes import MinutesService
from bot.services.meetings.plan import (
    ANNOUNCEMENT,
    NO_MESSAGE,
    SENT,
    UNREACHABLE,
    cancel_timers,
    meeting_thread,
    plan_next,
    target_chats,
    tell_chats,
)
from bot.services.meetings.syntax import MeetingDraft
from bot.services.meetings.timers import MeetingTimers
from bot.services.meetings.views import (
    Detail,
    OccurrenceView,
    group_node,
    meeting_here,
    named_answers,
    occurrence_view,
    visible_here,
)
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.unit_of_work import UnitOfWork
from bot.timers import TimerEngine
from storage.records import (
    Answer,
    Level,
    Meeting,
    MeetingOccurrence,
    MeetingStatus,
    Node,
    OccurrenceStatus,
    Scope,
)
from storage.repositories import Repositories

MAX_AGENDA_ITEM, MAX_AGENDA_ITEMS = 200, 20


@dataclass(frozen=True, slots=True)
class Scheduled:
    meeting: Meeting
    occurrence: MeetingOccurrence
    skipped: tuple[int, ...]  # reminder offsets (seconds) too long for the time left
    chats: int
    holiday_unknown: bool


@dataclass(frozen=True, slots=True)
class Answered:
    meeting: Meeting
    answer: Answer
    changed: bool
    same: bool


@dataclass(frozen=True, slots=True)
class Cancelled:
    meeting: Meeting
    occurrence: MeetingOccurrence
    whole: bool
    next: MeetingOccurrence | None
    told: int


class MeetingService:
    def __init__(self, uow: UnitOfWork, clock: Clock, *, zone: ZoneInfo) -> None:
        self._uow = uow
        self._clock = clock
        self._zone = zone
        self.timers = MeetingTimers(zone)
        self.minutes = MinutesService(uow, clock)

    def register_timers(self, engine: TimerEngine) -> None:
        self.timers.register(engine)

    # Scheduling ---------------------------------------------------------------------------

    async def schedule(
        self, actor: Actor, place: Place, draft: MeetingDraft, *, update_id: int | None = None
    ) -> Scheduled:
        """``update_id``: the inbox's id of the request, marked handled with the meeting."""
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            node = await group_node(repos, place)
            if not is_officer(await rank_at(repos, actor, node), node):
                raise Refusal("meetings.schedule_needs_officer", level=node.level)
            if draft.scope is Scope.ALL and node.level == Level.BUILDING:
                raise Refusal("meetings.scope_all_building")
            await self._check_topics(repos, node, draft.topic_ids)
            recurrence = draft.recurrence
            meeting = await repos.meetings.create(
                node_id=node.id,
                chat_id=place.chat_id,
                title=draft.title,
                note=draft.note,
                place=draft.place,
                link=draft.link,
                repeat=recurrence.repeat.value,
                repeat_day=recurrence.day,
                repeat_nth=recurrence.nth,
                local_time=f"{recurrence.at:%H:%M}",
                once_on=recurrence.once.isoformat() if recurrence.once else None,
                reminders=[int(offset.total_seconds()) for offset in draft.reminders],
                topic_ids=list(draft.topic_ids),
                scope=draft.scope.value,
                holiday_shift=draft.holiday_shift,
                created_by=actor.user_id,
                created_at=now,
                message_thread_id=place.thread_id,
            )
            planned = await plan_next(repos, meeting, after=now, now=now, zone=self._zone)
            if planned is None:  # a one-off whose time passed while it was being typed
                raise Refusal("meeting_syntax.in_the_past", given=f"{recurrence.at:%H:%M}")
            targets = await target_chats(repos, meeting)
            for chat_id, node_id in targets:
                await repos.meetings.add_post(
                    occurrence_id=planned.occurrence.id,
                    slot=ANNOUNCEMENT,
                    chat_id=chat_id,
                    node_id=node_id,
                    created_at=now,
                    late=False,
                    message_thread_id=meeting_thread(meeting, chat_id),
                )
            await repos.audit.record(
                action="meeting.scheduled",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                meeting_id=meeting.id,
                title=meeting.title,
                repeat=meeting.repeat,
                starts_at=planned.occurrence.starts_at.isoformat(),
            )
            if update_id is not None:
                await repos.inbox.handled(update_id, now)
            repos.record(MeetingChanged(planned.occurrence.id))
        return Scheduled(
            meeting, planned.occurrence, planned.skipped, len(targets), planned.holiday_unknown
        )

    @staticmethod
    async def _check_topics(repos: Repositories, node: Node, topic_ids: Sequence[int]) -> None:
        """Linked topics must be this node's, a node's below it, or escalated to it."""
        below = {node.id} | {n.id for n in await repos.orgs.descendants(node.id)}
        for topic_id in topic_ids:
            topic = await repos.topics.get(topic_id)
            if topic is None:
                raise Refusal("meetings.topic_unknown", id=topic_id)
            hops = await repos.escalations.of_topic(topic_id)
            if topic.node_id not in below and all(hop.to_node_id != node.id for hop in hops):
                raise Refusal("meetings.topic_elsewhere", id=topic_id)

    # Answers ------------------------------------------------------------------------------

    async def answer(self, actor: Actor, chat_id: int, occurrence_id: int, answer: str) -> Answered:
        """参加 / 请假 on a meeting message; the last answer counts."""
        try:
            chosen = Answer(answer)
        except ValueError:
            raise Refusal("general.stale_button") from None
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            occurrence = await repos.meetings.occurrence(occurrence_id)
            posts = await repos.meetings.posts(occurrence_id) if occurrence else []
            if occurrence is None or all(post.chat_id != chat_id for post in posts):
                raise Refusal("meetings.not_here")
            meeting = await repos.meetings.get(occurrence.meeting_id)
            assert meeting is not None
            if occurrence.status == OccurrenceStatus.CANCELLED:
                raise Refusal("meetings.answer_cancelled", id=meeting.id)
            if occurrence.status != OccurrenceStatus.SCHEDULED or occurrence.starts_at <= now:
                raise Refusal("meetings.answer_closed", id=meeting.id)
            previous = await repos.meetings.answer_of(occurrence.id, actor.user_id)
            if previous == chosen:
                return Answered(meeting, chosen, changed=False, same=True)
            await repos.meetings.answer(
                occurrence_id=occurrence.id,
                user_id=actor.user_id,
                answer=chosen,
                chat_id=chat_id,
                now=now,
            )
        return Answered(meeting, chosen, changed=previous is not None, same=False)

    # Cancelling ---------------------------------------------------------------------------

    async def cancellable(
        self, actor: Actor, place: Place, meeting_id: int
    ) -> tuple[Meeting, MeetingOccurrence]:
        """The meeting and its next occurrence, which an officer here may cancel."""
        async with self._uow.transaction() as repos:
            meeting, _ = await meeting_here(repos, actor, place, meeting_id)
            occurrence = await repos.meetings.scheduled(meeting.id)
            if not meeting.is_active or occurrence is None:
                raise Refusal("meetings.not_active", id=meeting.id, status=meeting.status)
        return meeting, occurrence

    async def cancel(
        self, actor: Actor, place: Place, meeting_id: int, occurrence_id: int, *, whole: bool
    ) -> Cancelled:
        """Cancel this occurrence (a series goes on with its next one) or the whole series,
        and tell every chat that had a message about the occurrence."""
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            meeting, _ = await meeting_here(repos, actor, place, meeting_id)
            occurrence = await repos.meetings.occurrence(occurrence_id)
            if occurrence is None or occurrence.meeting_id != meeting.id:
                raise Refusal("general.stale_button")
            whole = whole or not meeting.recurring
            if not await repos.meetings.transition(
                occurrence.id,
                from_status=OccurrenceStatus.SCHEDULED,
                to_status=OccurrenceStatus.CANCELLED,
                cancelled_at=now,
            ):
                raise Refusal("meetings.not_active", id=meeting.id, status=occurrence.status)
            await cancel_timers(repos, meeting, occurrence.id, now)
            cancelled = MeetingCancelled(occurrence_id=occurrence.id, whole=whole)
            told = await tell_chats(repos, occurrence.id, cancelled, now)
            following = None
            if whole:
                await repos.meetings.set_status(
                    meeting.id, MeetingStatus.CANCELLED, cancelled_at=now
                )
            else:
                planned = await plan_next(
                    repos, meeting, after=occurrence.planned_at, now=now, zone=self._zone
                )
                following = planned.occurrence if planned else None
            await repos.audit.record(
                action="meeting.cancelled",
                actor_id=actor.user_id,
                now=now,
                node_id=meeting.node_id,
                chat_id=place.chat_id,
                meeting_id=meeting.id,
                occurrence=occurrence.starts_at.isoformat(),
                whole=whole,
            )
            repos.record(MeetingChanged(occurrence.id))
            repos.record(OutboxQueued())
        return Cancelled(meeting, occurrence, whole, following, told)

    # Agenda -------------------------------------------------------------------------------

    async def add_agenda_item(
        self, actor: Actor, place: Place, meeting_id: int, text: str
    ) -> MeetingOccurrence:
        item = " ".join(text.split())
        if not item:
            raise Refusal("meetings.usage_agenda")
        if len(item) > MAX_AGENDA_ITEM:
            raise Refusal("meetings.agenda_too_long", length=len(item), limit=MAX_AGENDA_ITEM)
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            meeting, node = await meeting_here(repos, actor, place, meeting_id)
            occurrence = await repos.meetings.scheduled(meeting.id)
            if not meeting.is_active or occurrence is None:
                raise Refusal("meetings.not_active", id=meeting.id, status=meeting.status)
            if len(await repos.meetings.agenda(occurrence.id)) >= MAX_AGENDA_ITEMS:
                raise Refusal("meetings.agenda_full", id=meeting.id, limit=MAX_AGENDA_ITEMS)
            await repos.meetings.add_agenda_item(
                occurrence_id=occurrence.id, text=item, added_by=actor.user_id, now=now
            )
            await repos.audit.record(
                action="meeting.agenda_item",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                meeting_id=meeting.id,
            )
            repos.record(MeetingChanged(occurrence.id))
        return occurrence

    # Reading ------------------------------------------------------------------------------

    async def listing(self, place: Place) -> list[OccurrenceView]:
        """Upcoming occurrences of this chat's node's meetings, and of those above it that
        are announced everywhere (``scope=all``), soonest first."""
        async with self._uow.transaction() as repos:
            node = await group_node(repos, place)
            above = [n.id for n in (await repos.orgs.ancestry(node.id))[1:]]
            found = await repos.meetings.at_nodes([node.id], statuses=(MeetingStatus.ACTIVE,))
            found += [
                meeting
                for meeting in await repos.meetings.at_nodes(
                    above, statuses=(MeetingStatus.ACTIVE,)
                )
                if meeting.scope == Scope.ALL
            ]
            views: list[OccurrenceView] = []
            for meeting in found:
                occurrence = await repos.meetings.scheduled(meeting.id)
                view = (
                    await occurrence_view(repos, occurrence.id, self._zone) if occurrence else None
                )
                if view is not None:
                    views.append(view)
        return sorted(views, key=lambda view: view.occurrence.starts_at)

    async def detail(self, actor: Actor, place: Place, meeting_id: int) -> Detail:
        """One meeting; officers of its node asking in private also see who answered what."""
        async with self._uow.transaction() as repos:
            meeting = await repos.meetings.get(meeting_id)
            if meeting is None:
                raise Refusal("meetings.unknown", id=meeting_id)
            node = await repos.orgs.node(meeting.node_id)
            assert node is not None
            officer = is_officer(await rank_at(repos, actor, node), node)
            if place.is_group and not await visible_here(repos, place, meeting):
                raise Refusal("meetings.unknown", id=meeting_id)
            if not place.is_group and not officer:
                raise Refusal("meetings.needs_officer", id=meeting_id, level=node.level)
            return await self._detail(repos, meeting, officer and not place.is_group)

    async def who_answered(self, actor: Actor, occurrence_id: int) -> Detail:
        """The 👥 button: an officer of the meeting's node gets the names, privately."""
        async with self._uow.transaction() as repos:
            occurrence = await repos.meetings.occurrence(occurrence_id)
            meeting = await repos.meetings.get(occurrence.meeting_id) if occurrence else None
            if meeting is None:
                raise Refusal("general.stale_button")
            node = await repos.orgs.node(meeting.node_id)
            assert node is not None
            if not is_officer(await rank_at(repos, actor, node), node):
                raise Refusal("meetings.who_needs_officer", level=node.level)
            return await self._detail(repos, meeting, True, occurrence_id)

    async def _detail(
        self, repos: Repositories, meeting: Meeting, names: bool, occurrence_id: int | None = None
    ) -> Detail:
        if occurrence_id is None:
            current = await repos.meetings.scheduled(meeting.id)
            occurrences = await repos.meetings.occurrences(meeting.id)
            chosen = current or occurrences[-1]
            occurrence_id = chosen.id
        view = await occurrence_view(repos, occurrence_id, self._zone)
        assert view is not None
        answers = await named_answers(repos, occurrence_id) if names else None
        return Detail(view=view, answers=answers)

    # The living messages -------------------------------------------------------------------

    async def view(self, occurrence_id: int) -> OccurrenceView | None:
        async with self._uow.transaction() as repos:
            return await occurrence_view(repos, occurrence_id, self._zone)

    async def record_message(
        self, occurrence_id: int, slot: int, chat_id: int, message_id: int
    ) -> None:
        async with self._uow.transaction() as repos:
            await repos.meetings.set_post_message(occurrence_id, slot, chat_id, message_id)

    async def record_rendered(
        self, occurrence_id: int, slot: int, chat_id: int, rendered_hash: str
    ) -> None:
        async with self._uow.transaction() as repos:
            await repos.meetings.set_post_rendered(occurrence_id, slot, chat_id, rendered_hash)

    async def record_sent(
        self, occurrence_id: int, slot: int, chat_id: int, *, reached: bool
    ) -> None:
        """A post tried on a platform with no message to edit later: sent, or refused."""
        async with self._uow.transaction() as repos:
            await repos.meetings.set_post_message(occurrence_id, slot, chat_id, NO_MESSAGE)
            await repos.meetings.set_post_rendered(
                occurrence_id, slot, chat_id, SENT if reached else UNREACHABLE
            )

    async def tell_unreached(self, occurrence_id: int, slot: int) -> None:
        """Tell the chat the meeting was scheduled in which chats its message of ``slot``
        did not reach (read when the announcement is sent)."""
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            occurrence = await repos.meetings.occurrence(occurrence_id)
            meeting = await repos.meetings.get(occurrence.meeting_id) if occurrence else None
            if meeting is None:
                return
            await repos.outbox.add(
                chat_id=meeting.chat_id,
                announcement=MeetingUnreached(occurrence_id=occurrence_id, slot=slot),
                now=now,
                reply_to=None,
                thread_id=meeting.thread_id,
            )
            repos.record(OutboxQueued())

    async def unreached(
        self, occurrence_id: int, slot: int
    ) -> tuple[Meeting, MeetingOccurrence, list[str]] | None:
        """The meeting, the occurrence and the names of the places whose chat its message of
        ``slot`` did not reach; None when it reached them all."""
        async with self._uow.transaction() as repos:
            occurrence = await repos.meetings.occurrence(occurrence_id)
            meeting = await repos.meetings.get(occurrence.meeting_id) if occurrence else None
            if occurrence is None or meeting is None:
                return None
            names: list[str] = []
            for post in await repos.meetings.posts(occurrence_id):
                if post.slot == slot and post.rendered_hash == UNREACHABLE:
                    node = await repos.orgs.node(post.node_id)
                    names.append(node.name if node else str(post.chat_id))
        return (meeting, occurrence, names) if names else None

    async def occurrences_to_refresh(self) -> list[int]:
        async with self._uow.transaction() as repos:
            return await repos.meetings.ids_needing_refresh()
