"""Resident proposals (/propose): officers accept them as topics or decline with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.catalogue import Catalogue, CatalogueEntry
from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.announcements import ProposalDeclined
from bot.services.errors import Refusal
from bot.services.events import OutboxQueued
from bot.services.organisation.permissions import is_officer, rank_at
from bot.services.topics.eligibility import MembershipProbe
from bot.services.topics.service import Published, TopicService
from bot.services.topics.syntax import (
    DEFAULT_OPTIONS,
    MAX_DESCRIPTION,
    MAX_TITLE,
    TopicDraft,
)
from bot.services.unit_of_work import UnitOfWork
from storage.records import Proposal, ProposalStatus, Rule, Scope

MAX_PROPOSAL = 1000
PROPOSAL_DEADLINE = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Declined:
    proposal: Proposal
    reason: CatalogueEntry


class ProposalService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, catalogue: Catalogue, topics: TopicService
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._catalogue = catalogue
        self._topics = topics

    async def propose(self, actor: Actor, place: Place, text: str) -> Proposal:
        body = text.strip()
        if not body:
            raise Refusal("proposals.empty")
        if len(body) > MAX_PROPOSAL:
            raise Refusal("proposals.too_long", limit=MAX_PROPOSAL, length=len(body))
        if not place.is_group:
            raise Refusal("proposals.needs_group")
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            node = await repos.orgs.node_of_chat(place.chat_id)
            if node is None:
                raise Refusal("orgs.chat_not_bound")
            proposal = await repos.proposals.add(
                node_id=node.id, chat_id=place.chat_id, user_id=actor.user_id, text=body, now=now
            )
            await repos.audit.record(
                action="proposal.submitted",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                proposal_id=proposal.id,
            )
        return proposal

    async def _open_proposal_for_officer(
        self, actor: Actor, chat_id: int, proposal_id: int
    ) -> Proposal:
        async with self._uow.transaction() as repos:
            proposal = await repos.proposals.get(proposal_id)
            if proposal is None or proposal.chat_id != chat_id:
                raise Refusal("proposals.not_found")
            node = await repos.orgs.node(proposal.node_id)
            assert node is not None
            if not is_officer(await rank_at(repos, actor, node), node):
                raise Refusal("proposals.needs_officer")
            if proposal.status != ProposalStatus.OPEN:
                raise Refusal("proposals.already_decided")
        return proposal

    async def check_decidable(self, actor: Actor, chat_id: int, proposal_id: int) -> Proposal:
        """An officer may decide this open proposal here (before showing the choices)."""
        return await self._open_proposal_for_officer(actor, chat_id, proposal_id)

    async def accept(
        self,
        actor: Actor,
        place: Place,
        proposal_id: int,
        category: str,
        probe: MembershipProbe,
        *,
        locale: str,
    ) -> Published:
        proposal = await self._open_proposal_for_officer(actor, place.chat_id, proposal_id)
        entry = self._catalogue.find(category)
        if entry is None or not entry.discussable:
            raise Refusal("proposals.bad_category")
        title, _, rest = proposal.text.partition("\n")
        if len(title) > MAX_TITLE:
            title, rest = title[: MAX_TITLE - 1] + "…", proposal.text
        draft = TopicDraft(
            title=title.strip() or proposal.text[:MAX_TITLE],
            description=rest.strip()[:MAX_DESCRIPTION],
            deadline=self._clock.now() + PROPOSAL_DEADLINE,
            options=DEFAULT_OPTIONS["en" if locale == "en" else "zh_CN"],
            rule=Rule.MAJORITY,
            category=entry.key,
            quorum_percent=None,
            secret=False,
            household=False,
            hide_results=False,
            scope=Scope.HERE,
        )
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            if not await repos.proposals.decide(
                proposal.id, status=ProposalStatus.ACCEPTED, decided_by=actor.user_id, now=now
            ):
                raise Refusal("proposals.already_decided")
        try:
            published = await self._topics.publish(
                actor, place, draft, probe, proposal_id=proposal.id
            )
        except Exception:
            async with self._uow.transaction() as repos:
                await repos.proposals.reopen(proposal.id)
            raise
        async with self._uow.transaction() as repos:
            await repos.proposals.link_topic(proposal.id, published.topic.id)
            await repos.audit.record(
                action="proposal.accepted",
                actor_id=actor.user_id,
                now=now,
                node_id=proposal.node_id,
                chat_id=place.chat_id,
                proposal_id=proposal.id,
                topic_id=published.topic.id,
                category=entry.key,
            )
        return published

    async def decline(self, actor: Actor, chat_id: int, proposal_id: int, reason: str) -> Declined:
        proposal = await self._open_proposal_for_officer(actor, chat_id, proposal_id)
        entry = self._catalogue.find(reason)
        if entry is None or entry.discussable:
            raise Refusal("proposals.bad_reason")
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            if not await repos.proposals.decide(
                proposal.id,
                status=ProposalStatus.DECLINED,
                decided_by=actor.user_id,
                now=now,
                reason=entry.key,
            ):
                raise Refusal("proposals.already_decided")
            await repos.audit.record(
                action="proposal.declined",
                actor_id=actor.user_id,
                now=now,
                node_id=proposal.node_id,
                chat_id=chat_id,
                proposal_id=proposal.id,
                reason=entry.key,
            )
            proposer = await repos.users.get(proposal.user_id)
            if proposer is not None and proposer.started:
                await repos.outbox.add(
                    chat_id=proposer.user_id,
                    announcement=ProposalDeclined(proposal_id=proposal.id),
                    now=now,
                )
                repos.record(OutboxQueued())
            declined = await repos.proposals.get(proposal.id)
        assert declined is not None
        return Declined(proposal=declined, reason=entry)

    async def get(self, proposal_id: int) -> Proposal | None:
        async with self._uow.transaction() as repos:
            return await repos.proposals.get(proposal_id)
