"""/escalate, /resolve, /progress, /sla: an officer's moves on an escalated matter by its
topic's number, and the community's SLA."""

from __future__ import annotations

from datetime import timedelta

from bot.commands.base import Asked, Reply, UsageError, level_said, said
from bot.services import Services
from bot.services.actors import Actor, Place
from bot.services.announcement_texts import Duration
from bot.services.errors import Refusal
from bot.services.escalation.service import DONE_WORDS
from bot.services.topics.eligibility import MembershipProbe, parse_topic_id
from bot.services.topics.service import Published
from bot.services.topics.syntax import DEFAULT_OPTIONS, TopicDraft
from storage.records import Rule, Scope

VOTE_DEADLINE = timedelta(days=3)


def _id_and_text(asked: Asked, usage: str) -> tuple[int, str]:
    """The topic's number and the words after it (may be empty: the service says why)."""
    parts = asked.text.split(maxsplit=1)
    if not parts:
        raise UsageError(usage)
    return parse_topic_id(parts[0]), parts[1] if len(parts) > 1 else ""


async def escalated_reply(services: Services, topic_id: int) -> Reply:
    """Where the matter went: said after /escalate and after the card's 上报 reason."""
    matter = await services.escalation.matter(topic_id)
    level = matter.holder.level if matter else "grid"
    return said("escalation.escalated_done", id=topic_id, level=level_said(level))


async def escalate(asked: Asked) -> Reply:
    topic_id, reason = _id_and_text(asked, "escalation.usage_escalate")
    await asked.services.escalation.escalate_by_hand(asked.actor, asked.place, topic_id, reason)
    return await escalated_reply(asked.services, topic_id)


async def resolve(asked: Asked) -> Reply:
    topic_id, decision = _id_and_text(asked, "escalation.usage_resolve")
    await asked.services.escalation.resolve(asked.actor, asked.place, topic_id, decision)
    return said("escalation.resolved_reply", id=topic_id)


async def progress(asked: Asked) -> Reply:
    topic_id, text = _id_and_text(asked, "escalation.usage_progress")
    await asked.services.escalation.progress(asked.actor, asked.place, topic_id, text)
    done = text.strip().lower() in DONE_WORDS
    return said("escalation.done_reply" if done else "escalation.progress_reply", id=topic_id)


async def sla(asked: Asked) -> Reply:
    if not asked.text:
        raise Refusal("escalation.usage_sla")
    chosen = await asked.services.escalation.set_sla(asked.actor, asked.place, asked.text)
    return said("escalation.sla_set", sla=Duration(chosen))


async def open_vote(
    services: Services,
    actor: Actor,
    place: Place,
    escalation_id: int,
    scope: Scope,
    *,
    locale: str,
    membership: MembershipProbe,
    update_id: int | None = None,
) -> tuple[int, Published]:
    """发起网格表决 from an escalation card: a topic at the receiving node, pre-filled from
    the escalated one (three days, 同意/反对/弃权, a majority), which takes the matter on if
    nobody had yet. The escalated topic's number and what was published."""
    hop = await services.escalation.check_card(actor, place, escalation_id)
    matter = await services.escalation.matter(hop.topic_id)
    assert matter is not None
    original = matter.topic
    draft = TopicDraft(
        title=original.title,
        description=original.description,
        deadline=services.clock.now() + VOTE_DEADLINE,
        options=DEFAULT_OPTIONS["en" if locale == "en" else "zh_CN"],
        rule=Rule.MAJORITY,
        category=original.category,
        quorum_percent=None,
        secret=original.secret,
        household=original.household,
        hide_results=False,
        scope=scope,
    )
    published = await services.topics.publish(actor, place, draft, membership, update_id=update_id)
    await services.escalation.accept_if_open(actor, escalation_id, vote_topic_id=published.topic.id)
    return original.id, published


COMMANDS = {
    "escalate": escalate,
    "resolve": resolve,
    "progress": progress,
    "sla": sla,
}
