"""What a signed-in person sees and does on a meeting's web page (/m/<id>).

Who may see a meeting is who sees it in a chat: a member of a chat it was announced in, an
officer of its node or above, a super-admin. A household's registered person counts as one of
its building's chat (a web-only person, made by an invitation, is in no chat: the building's
meetings are theirs all the same, as its household topics are). For anyone else the meeting
does not exist (404, whatever the id). An RSVP goes through ``MeetingService.answer``, the
service of the chat's 参加 / 请假 buttons (same rules: the last answer counts, none once it
began or was cancelled), and records ``MeetingChanged``, so every chat's meeting message
shows the new counts as after a press.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.services.actors import Actor
from bot.services.errors import Refusal
from bot.services.events import MeetingChanged
from bot.services.meetings.plan import target_chats
from bot.services.meetings.service import Answered, MeetingService
from bot.services.meetings.views import OccurrenceView, occurrence_view
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.topics.eligibility import MembershipProbe
from bot.services.unit_of_work import UnitOfWork
from bot.services.web.topic_pages import NotVisible
from storage.records import (
    Answer,
    MeetingMinutes,
    MeetingOccurrence,
    OccurrenceStatus,
    RegistrationStatus,
)
from storage.repositories import Repositories

PAST_SHOWN = 12  # the series' past occurrences the page lists, newest first


@dataclass(frozen=True, slots=True)
class PastOccurrence:
    occurrence: MeetingOccurrence
    minutes: tuple[MeetingMinutes, ...]


@dataclass(frozen=True, slots=True)
class MeetingPage:
    view: OccurrenceView  # the next occurrence, else the last one
    answering_chat: int | None  # the chat whose RSVP this person gives; None: they only read
    my_answer: Answer | None
    can_answer: bool  # ahead, not cancelled, and theirs to answer
    minutes: tuple[MeetingMinutes, ...]  # of the occurrence shown
    past: tuple[PastOccurrence, ...]  # the series' earlier occurrences (recurring meetings)


class MeetingPages:
    def __init__(
        self,
        work: UnitOfWork,
        clock: Clock,
        meetings: MeetingService,
        membership: MembershipProbe,
        zone: ZoneInfo,
    ) -> None:
        self._work, self._clock, self._meetings = work, clock, meetings
        self._membership, self._zone = membership, zone

    async def page(self, actor: Actor, meeting_id: int) -> MeetingPage:
        chat = await self._answering_chat(actor, meeting_id)  # NotVisible first
        now = self._clock.now()
        async with self._work.transaction() as repos:
            shown = await _shown_occurrence(repos, meeting_id)
            if shown is None:
                raise NotVisible
            view = await occurrence_view(repos, shown.id, self._zone)
            assert view is not None
            given = await repos.meetings.answer_of(shown.id, actor.user_id)
            minutes = tuple(await repos.meetings.minutes(shown.id))
            past = []
            earlier = [
                o
                for o in await repos.meetings.occurrences(meeting_id)
                if o.id != shown.id and o.planned_at < shown.planned_at
            ]
            for occurrence in reversed(earlier[-PAST_SHOWN:]):
                entries = tuple(await repos.meetings.minutes(occurrence.id))
                past.append(PastOccurrence(occurrence, entries))
        ahead = shown.status == OccurrenceStatus.SCHEDULED and shown.starts_at > now
        return MeetingPage(
            view=view,
            answering_chat=chat,
            my_answer=Answer(given) if given else None,
            can_answer=ahead and chat is not None,
            minutes=minutes,
            past=tuple(past),
        )

    async def answer(self, actor: Actor, meeting_id: int, answer: str) -> Answered:
        """参加 / 请假 from the page: the answer of a press in the person's chat."""
        chat = await self._answering_chat(actor, meeting_id)
        if chat is None:
            raise Refusal("web.meeting_not_yours")
        async with self._work.transaction() as repos:
            shown = await _shown_occurrence(repos, meeting_id)
        if shown is None:
            raise NotVisible
        answered = await self._meetings.answer(actor, chat, shown.id, answer)
        if not answered.same:
            # A press's adapter refreshes its own messages; the page has none, so it tells
            # every channel, as a web vote does (TopicPages.vote).
            async with self._work.transaction() as repos:
                repos.record(MeetingChanged(shown.id))
        return answered

    async def _answering_chat(self, actor: Actor, meeting_id: int) -> int | None:
        """The chat whose RSVP this person gives, or None if they only read (an officer
        above); NotVisible if they may not see the meeting at all."""
        async with self._work.transaction() as repos:
            meeting = await repos.meetings.get(meeting_id)
            if meeting is None:
                raise NotVisible
            shown = await _shown_occurrence(repos, meeting_id)
            if shown is None:
                raise NotVisible
            chats = {(post.chat_id, post.node_id) for post in await repos.meetings.posts(shown.id)}
            # and the chats its rule announces it in (a series' next occurrence is posted
            # there when its first reminder goes out)
            chats |= set(await target_chats(repos, meeting))
            registered = set()
            for _, node_id in chats:
                found = await repos.households.registration_of(actor.user_id, node_id)
                if found is not None and found.status != RegistrationStatus.REJECTED:
                    registered.add(node_id)
            node = await repos.orgs.node(meeting.node_id)
            officer = node is not None and is_officer(await rank_at(repos, actor, node), node)
        for chat_id, node_id in sorted(chats):
            if node_id in registered or await self._membership.is_member(chat_id, actor.user_id):
                return chat_id
        if officer:
            return None
        raise NotVisible


async def _shown_occurrence(repos: Repositories, meeting_id: int) -> MeetingOccurrence | None:
    """The series' next occurrence, else its last one (as /meetings detail shows it)."""
    current = await repos.meetings.scheduled(meeting_id)
    if current is not None:
        return current
    occurrences = await repos.meetings.occurrences(meeting_id)
    return occurrences[-1] if occurrences else None
