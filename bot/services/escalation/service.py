"""Escalation (上报): moving an unresolved matter up 楼栋 → 网格 → 社区, with an SLA.

"小事不出网格、大事不出社区": an unresolved outcome goes to the parent node automatically when
the topic closes; an officer may send any closed matter up with a reason. The receiving
node's officers accept it, open their own vote on it, resolve it, or send it further up. A
node that does not act within the SLA has the matter escalated for it (``sla_expired``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.durations import DurationError, parse_duration
from bot.services.actors import Actor, Place
from bot.services.announcements import (
    DecisionPublished,
    EscalationReminder,
    MatterDone,
    MatterProgress,
)
from bot.services.errors import Refusal
from bot.services.escalation.sending_up import REMINDER_TIMER, SLA_TIMER, SendUp, send_up
from bot.services.escalation.views import CardView, History, card_view, history
from bot.services.events import EscalationChanged, OutboxQueued
from bot.services.organisation.permissions import Rank, is_officer, rank_at
from bot.services.unit_of_work import UnitOfWork, Work
from bot.timers import late_since
from storage.records import (
    WAITING_STATES,
    DueTimer,
    Escalation,
    EscalationReason,
    EscalationState,
    Level,
    Node,
    Rating,
    Topic,
    TopicStatus,
)
from storage.repositories import Repositories

MAX_REASON = 500
MAX_DECISION = 2000
DONE_WORDS = frozenset({"办结", "已办结", "完成", "done", "finished"})


@dataclass(frozen=True, slots=True)
class Matter:
    """A topic as it travels up the tree: every hop, where it is now."""

    topic: Topic
    hops: list[Escalation]
    holder: Node

    @property
    def current(self) -> Escalation | None:
        return self.hops[-1] if self.hops else None


async def escalate(
    repos: Work,
    topic: Topic,
    *,
    reason: EscalationReason,
    note: str | None,
    by: int | None,
    now: datetime,
    sla_default: timedelta,
    late_since: datetime | None = None,
) -> bool:
    """Send the matter one level up from where it is now; False at the top of the tree."""
    matter = SendUp(topic, reason, note, by, late_since)
    return await send_up(repos, [matter], now=now, sla_default=sla_default) > 0


async def _cancel_timers(repos: Repositories, escalation_id: int, now: datetime) -> None:
    await repos.timers.cancel_many((REMINDER_TIMER, SLA_TIMER), (str(escalation_id),), now)


@dataclass(frozen=True, slots=True)
class MatterChat:
    """A chat the matter passed through: the message to reply to there, whether the topic
    came from it, and the forum topic (thread) its ballot was posted in."""

    chat_id: int
    reply_to: int | None
    origin: bool
    thread_id: int | None = None


async def chats_of_matter(repos: Repositories, topic: Topic) -> list[MatterChat]:
    """Every chat the matter passed through: its ballot's, then its cards' (in General)."""
    chats: list[MatterChat] = []
    for post in await repos.topics.posts(topic.id):
        chats.append(MatterChat(post.chat_id, post.message_id, post.voting, post.thread_id))
    seen = {chat.chat_id for chat in chats}
    for hop in await repos.escalations.of_topic(topic.id):
        if hop.card_chat_id is not None and hop.card_chat_id not in seen:
            chats.append(MatterChat(hop.card_chat_id, hop.card_message_id, False))
            seen.add(hop.card_chat_id)
    return chats


class EscalationService:
    def __init__(self, uow: UnitOfWork, clock: Clock, *, sla_default: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self.sla_default = sla_default

    async def card(self, escalation_id: int) -> CardView | None:
        async with self._uow.transaction() as repos:
            return await card_view(repos, escalation_id)

    async def history(self, topic_id: int) -> History:
        async with self._uow.transaction() as repos:
            return await history(repos, topic_id)

    async def record_card(
        self, escalation_id: int, chat_id: int, message_id: int | None, card_hash: str
    ) -> None:
        async with self._uow.transaction() as repos:
            await repos.escalations.set_card(
                escalation_id, chat_id=chat_id, message_id=message_id, card_hash=card_hash
            )

    async def cards_to_refresh(self) -> list[int]:
        async with self._uow.transaction() as repos:
            return await repos.escalations.ids_needing_cards()

    async def accept_if_open(
        self, actor: Actor, escalation_id: int, *, vote_topic_id: int | None = None
    ) -> None:
        """Opening a vote on a matter takes it on, if nobody had yet; ``vote_topic_id``, the
        vote opened, is kept with the hop (the staff board shows 网格表决中 while it is open)."""
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            await repos.escalations.transition(
                escalation_id,
                from_states=(EscalationState.OPEN,),
                to_state=EscalationState.ACCEPTED,
                accepted_by=actor.user_id,
                accepted_at=now,
            )
            if vote_topic_id is not None:
                await repos.escalations.set_vote(escalation_id, vote_topic_id)
            repos.record(EscalationChanged(escalation_id))

    async def matter(self, topic_id: int) -> Matter | None:
        async with self._uow.transaction() as repos:
            return await self._matter(repos, topic_id)

    @staticmethod
    async def _matter(repos: Repositories, topic_id: int, *, lock: bool = False) -> Matter | None:
        """``lock``: the topic's row stays locked until the transaction ends, so that officers'
        and timers' changes to one matter go one after the other (PostgreSQL; see
        TopicRepository.get_locked)."""
        topic = await (repos.topics.get_locked(topic_id) if lock else repos.topics.get(topic_id))
        if topic is None:
            return None
        hops = await repos.escalations.of_topic(topic_id)
        holder = await repos.orgs.node(hops[-1].to_node_id if hops else topic.node_id)
        assert holder is not None
        return Matter(topic=topic, hops=hops, holder=holder)

    async def _officer_matter(
        self, repos: Repositories, actor: Actor, place: Place, topic_id: int
    ) -> Matter:
        """A matter whose current holder this actor is an officer of (or above), seen here."""
        matter = await self._matter(repos, topic_id, lock=True)
        if matter is None or not await self._visible(repos, matter, place):
            raise Refusal("topics.unknown", id=topic_id)
        if not is_officer(await rank_at(repos, actor, matter.holder), matter.holder):
            raise Refusal("escalation.needs_officer", id=topic_id, level=matter.holder.level)
        return matter

    @staticmethod
    async def _visible(repos: Repositories, matter: Matter, place: Place) -> bool:
        chats = {chat.chat_id for chat in await chats_of_matter(repos, matter.topic)}
        if place.chat_id in chats:
            return True
        node = await repos.orgs.node_of_chat(place.chat_id)
        if node is None:
            return False
        chain = await repos.orgs.ancestry(matter.holder.id)
        return any(member.id == node.id for member in chain)

    # Officers' actions --------------------------------------------------------------------

    async def escalate_by_hand(
        self, actor: Actor, place: Place, topic_id: int, reason: str
    ) -> None:
        """``/escalate <id> <原因>`` (or the card's 上报 button): up one level, reason required."""
        note = reason.strip()
        if not note:
            raise Refusal("escalation.reason_required", id=topic_id)
        if len(note) > MAX_REASON:
            raise Refusal("escalation.reason_too_long", limit=MAX_REASON, length=len(note))
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            matter = await self._officer_matter(repos, actor, place, topic_id)
            self._refuse_unless_escalatable(matter)
            if not await escalate(
                repos,
                matter.topic,
                reason=EscalationReason.MANUAL,
                note=note,
                by=actor.user_id,
                now=now,
                sla_default=self.sla_default,
            ):
                raise Refusal("escalation.at_the_top", id=topic_id)

    @staticmethod
    def _refuse_unless_escalatable(matter: Matter) -> None:
        if matter.topic.status == TopicStatus.OPEN:
            raise Refusal("escalation.still_open", id=matter.topic.id)
        if matter.topic.status == TopicStatus.CANCELLED:
            raise Refusal("escalation.cancelled", id=matter.topic.id)
        current = matter.current
        if current is not None and current.state == EscalationState.RESOLVED:
            raise Refusal("escalation.already_resolved", id=matter.topic.id)

    async def accept(self, actor: Actor, place: Place, escalation_id: int) -> None:
        """受理: the receiving node takes the matter on (stops nothing; the SLA still runs)."""
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            hop = await self._card_hop(repos, actor, place, escalation_id)
            if not await repos.escalations.transition(
                hop.id,
                from_states=(EscalationState.OPEN,),
                to_state=EscalationState.ACCEPTED,
                accepted_by=actor.user_id,
                accepted_at=now,
            ):
                raise Refusal("escalation.not_open", id=hop.topic_id)
            await repos.audit.record(
                action="escalation.accepted",
                actor_id=actor.user_id,
                now=now,
                node_id=hop.to_node_id,
                topic_id=hop.topic_id,
                escalation_id=hop.id,
            )
            repos.record(EscalationChanged(hop.id))

    async def _card_hop(
        self, repos: Repositories, actor: Actor, place: Place, escalation_id: int
    ) -> Escalation:
        """The hop a card button names: it must be this chat's card, pressed by its officers."""
        hop = await repos.escalations.get(escalation_id)
        if hop is None or hop.card_chat_id != place.chat_id:
            raise Refusal("escalation.not_here")
        node = await repos.orgs.node(hop.to_node_id)
        assert node is not None
        if not is_officer(await rank_at(repos, actor, node), node):
            raise Refusal("escalation.needs_officer", id=hop.topic_id, level=node.level)
        if not hop.is_active:
            raise Refusal("escalation.not_open", id=hop.topic_id)
        return hop

    async def check_card(self, actor: Actor, place: Place, escalation_id: int) -> Escalation:
        """May this actor use this card's buttons now? (before asking for text)"""
        async with self._uow.transaction() as repos:
            return await self._card_hop(repos, actor, place, escalation_id)

    async def resolve(self, actor: Actor, place: Place, topic_id: int, decision: str) -> None:
        """``/resolve <id> <决定>``: record the decision and publish it down every chat."""
        text = decision.strip()
        if not text:
            raise Refusal("escalation.decision_required", id=topic_id)
        if len(text) > MAX_DECISION:
            raise Refusal("escalation.decision_too_long", limit=MAX_DECISION, length=len(text))
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            matter = await self._officer_matter(repos, actor, place, topic_id)
            current = matter.current
            if current is None:
                raise Refusal("escalation.not_escalated", id=topic_id)
            if not await repos.escalations.resolve(
                topic_id=topic_id,
                node_id=matter.holder.id,
                decision=text,
                resolved_by=actor.user_id,
                resolved_at=now,
            ):
                raise Refusal("escalation.already_resolved", id=topic_id)
            await repos.escalations.transition(
                current.id,
                from_states=WAITING_STATES,
                to_state=EscalationState.RESOLVED,
                closed_at=now,
            )
            await _cancel_timers(repos, current.id, now)
            await repos.audit.record(
                action="escalation.resolved",
                actor_id=actor.user_id,
                now=now,
                node_id=matter.holder.id,
                topic_id=topic_id,
                escalation_id=current.id,
            )
            for chat in await chats_of_matter(repos, matter.topic):
                await repos.outbox.add(
                    chat_id=chat.chat_id,
                    announcement=DecisionPublished(topic_id=topic_id, rate=chat.origin),
                    reply_to=chat.reply_to,
                    now=now,
                    thread_id=chat.thread_id,
                )
            repos.record(EscalationChanged(current.id))
            repos.record(OutboxQueued())

    async def progress(self, actor: Actor, place: Place, topic_id: int, text: str) -> None:
        """``/progress <id> <进展>``: news down the same chats; ``办结``/``done`` ends it."""
        body = text.strip()
        if not body:
            raise Refusal("escalation.progress_required", id=topic_id)
        if len(body) > MAX_DECISION:
            raise Refusal("escalation.decision_too_long", limit=MAX_DECISION, length=len(body))
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            matter = await self._officer_matter(repos, actor, place, topic_id)
            resolution = await repos.escalations.resolution(topic_id)
            if resolution is None:
                raise Refusal("escalation.not_resolved", id=topic_id)
            if resolution.done_at is not None:
                raise Refusal("escalation.already_done", id=topic_id)
            done = body.lower() in DONE_WORDS
            if done:
                await repos.escalations.mark_done(topic_id, now)
            else:
                await repos.escalations.add_progress(
                    topic_id=topic_id, text=body, posted_by=actor.user_id, now=now
                )
            await repos.audit.record(
                action="matter.done" if done else "matter.progress",
                actor_id=actor.user_id,
                now=now,
                node_id=matter.holder.id,
                topic_id=topic_id,
            )
            for chat in await chats_of_matter(repos, matter.topic):
                await repos.outbox.add(
                    chat_id=chat.chat_id,
                    announcement=(
                        MatterDone(topic_id=topic_id, text=body)
                        if done
                        else MatterProgress(topic_id=topic_id, text=body)
                    ),
                    reply_to=chat.reply_to,
                    now=now,
                    thread_id=chat.thread_id,
                )
            repos.record(OutboxQueued())

    async def rate(self, actor: Actor, chat_id: int, topic_id: int, rating: str) -> bool:
        """满意 / 基本满意 / 不满意 from a resident of the origin building; True if changed."""
        try:
            chosen = Rating(rating)
        except ValueError:
            raise Refusal("escalation.bad_rating") from None
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            post = await repos.topics.post_in(topic_id, chat_id)
            if post is None or not post.voting:
                raise Refusal("escalation.rate_in_origin", id=topic_id)
            if await repos.escalations.resolution(topic_id) is None:
                raise Refusal("escalation.not_resolved", id=topic_id)
            member = await repos.chats.membership(chat_id, actor.user_id)
            if member is False:
                raise Refusal("topics.not_member")
            previous = await repos.escalations.rating_of(topic_id, actor.user_id)
            await repos.escalations.rate(
                topic_id=topic_id, user_id=actor.user_id, rating=chosen, now=now
            )
        return previous != chosen

    async def set_sla(self, actor: Actor, place: Place, text: str) -> timedelta:
        """``/sla <时长>`` in the community staff group: this community's escalation SLA."""
        try:
            sla = parse_duration(text)
        except DurationError:
            raise Refusal("escalation.bad_sla", given=text[:20]) from None
        if sla < timedelta(hours=1) or sla > timedelta(days=90):
            raise Refusal("escalation.sla_out_of_range")
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            node = await repos.orgs.node_of_chat(place.chat_id) if place.is_group else None
            if node is None or node.level != Level.COMMUNITY:
                raise Refusal("escalation.sla_in_community")
            if await rank_at(repos, actor, node) < Rank.COMMUNITY_STAFF:
                raise Refusal("escalation.sla_needs_staff")
            await repos.digests.set_sla_seconds(node.id, int(sla.total_seconds()))
            await repos.audit.record(
                action="escalation.sla_set",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                seconds=int(sla.total_seconds()),
            )
        return sla

    # Timers -------------------------------------------------------------------------------

    async def on_reminder_due(self, repos: Work, timer: DueTimer, now: datetime) -> None:
        hop = await repos.escalations.get(int(timer.ref))
        if hop is None or not hop.is_active or hop.card_chat_id is None:
            return
        if hop.sla_due_at is not None and hop.sla_due_at <= now:
            return  # the bot was down past the SLA too: the send-up says it all
        await repos.outbox.add(
            chat_id=hop.card_chat_id,
            announcement=EscalationReminder(escalation_id=hop.id),
            reply_to=hop.card_message_id,
            now=now,
        )
        repos.record(OutboxQueued())

    async def on_sla_due(self, repos: Work, timer: DueTimer, now: datetime) -> None:
        hop = await repos.escalations.get(int(timer.ref))
        if hop is None:
            return
        # Lock the matter, then look again: an officer who resolved or sent it up meanwhile
        # has committed by now (PostgreSQL; SQLite runs one transaction at a time).
        topic = await repos.topics.get_locked(hop.topic_id)
        hop = await repos.escalations.get(hop.id)
        if topic is None or hop is None or not hop.is_active:
            return
        await escalate(
            repos,
            topic,
            reason=EscalationReason.SLA_EXPIRED,
            note=None,
            by=None,
            now=now,
            sla_default=self.sla_default,
            late_since=late_since(timer, now),
        )
        repos.record(EscalationChanged(hop.id))
