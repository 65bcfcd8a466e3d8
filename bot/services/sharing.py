"""/share: a topic's or a meeting's page link for an officer to paste where no bot is (a
personal-WeChat group), with the QR code of it drawn by the command (bot/commands/sharing.py).

Only officers of the item's node or above may share it: a link is an invitation to take part,
given by those who run the consultation. Where, as ``/export``: in a group that sees the item
(a topic posted there or below it, a meeting of its node, below, or above for everyone), or
in a private chat. The page itself still checks who opens it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.meetings.views import visible_here
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.topics.service import TopicService
from bot.services.unit_of_work import UnitOfWork
from bot.services.web_links import Page, WebLinks
from storage.records import MeetingStatus, TopicStatus


@dataclass(frozen=True, slots=True)
class SharedPage:
    page: Page
    item: int
    title: str
    node_name: str
    link: str


class SharingService:
    def __init__(self, work: UnitOfWork, clock: Clock, links: WebLinks) -> None:
        self._uow = work
        self._clock = clock
        self._links = links

    def _link(self, page: Page, item: int) -> str:
        link = self._links.page(page, item)
        if link is None:
            raise Refusal("share.web_off")
        return link

    async def topic(self, actor: Actor, place: Place, topic_id: int) -> SharedPage:
        link = self._link(Page.TOPIC, topic_id)
        async with self._uow.transaction() as repos:
            topic = await repos.topics.get(topic_id)
            if topic is None or (
                place.is_group and not await TopicService._posted_here(repos, topic, place)
            ):
                raise Refusal("share.unknown_topic", id=topic_id)
            node = await repos.orgs.node(topic.node_id)
            assert node is not None
            if not is_officer(await rank_at(repos, actor, node), node):
                raise Refusal("share.topic_needs_officer", id=topic_id, level=node.level.value)
            if topic.status is TopicStatus.CANCELLED:
                raise Refusal("share.topic_cancelled", id=topic_id)
            return SharedPage(Page.TOPIC, topic_id, topic.title, node.name, link)

    async def meeting(self, actor: Actor, place: Place, meeting_id: int) -> SharedPage:
        link = self._link(Page.MEETING, meeting_id)
        async with self._uow.transaction() as repos:
            meeting = await repos.meetings.get(meeting_id)
            in_group = meeting is not None and place.is_group
            if meeting is None or (in_group and not await visible_here(repos, place, meeting)):
                raise Refusal("share.unknown_meeting", id=meeting_id)
            node = await repos.orgs.node(meeting.node_id)
            assert node is not None
            if not is_officer(await rank_at(repos, actor, node), node):
                raise Refusal("share.meeting_needs_officer", id=meeting_id, level=node.level.value)
            if meeting.status is MeetingStatus.CANCELLED:
                raise Refusal("share.meeting_cancelled", id=meeting_id)
            return SharedPage(Page.MEETING, meeting_id, meeting.title, node.name, link)
