"""Sending matters one level up the tree (上报): one hop each, many matters at once.

The deadline sweep escalates every tie it closes — thousands in a busy community — so a hop
is made for a whole batch with a handful of set-based statements (the current hops, the
nodes up to the community, the SLAs, the bindings; the new hops, their SLA timers, the audit
rows and the notices each in one statement) rather than a dozen round trips per matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.services.announcements import SentUp
from bot.services.events import EscalationChanged, OutboxQueued
from bot.services.unit_of_work import Work
from storage.records import (
    WAITING_STATES,
    Binding,
    Escalation,
    EscalationReason,
    EscalationState,
    Node,
    Topic,
)
from storage.repositories.audit import AuditRow
from storage.repositories.outbox import Queued

SLA_TIMER = "escalation.sla"
REMINDER_TIMER = "escalation.reminder"


@dataclass(frozen=True, slots=True)
class SendUp:
    """One matter to send up: why, with what note, by whom (None: the system)."""

    topic: Topic
    reason: EscalationReason
    note: str | None = None
    by: int | None = None
    late_since: datetime | None = None  # an SLA that ran out while the bot was down


def community_in(nodes: dict[int, Node], node_id: int) -> Node:
    """The top of ``node_id``'s chain, from nodes already read (``nodes_with_ancestors``)."""
    node = nodes[node_id]
    while node.parent_id is not None and node.parent_id in nodes:
        node = nodes[node.parent_id]
    return node


async def send_up(
    repos: Work,
    matters: Sequence[SendUp],
    *,
    now: datetime,
    sla_default: timedelta,
    tell_origin: bool = True,
) -> int:
    """Send each matter one level up from where it is now (not those at the top); returns
    how many moved.

    ``tell_origin``: post a "sent up" notice in the chat it leaves; a close that sends its
    unresolved topics up says so in the outcome instead (one group message, not two)."""
    if not matters:
        return 0
    currents = await repos.escalations.current_of([matter.topic.id for matter in matters])
    from_ids = {
        matter.topic.id: (
            currents[matter.topic.id].to_node_id
            if matter.topic.id in currents
            else matter.topic.node_id
        )
        for matter in matters
    }
    nodes = await repos.orgs.nodes_with_ancestors(set(from_ids.values()))
    moving = [
        matter
        for matter in matters
        if from_ids[matter.topic.id] in nodes
        and nodes[from_ids[matter.topic.id]].parent_id is not None
    ]
    if not moving:
        return 0
    await _leave_current_hops(repos, moving, currents, now)
    targets = {matter.topic.id: _parent(nodes, from_ids, matter) for matter in moving}
    slas: dict[int, timedelta] = {}
    for community in {community_in(nodes, node_id).id for node_id in targets.values()}:
        seconds = await repos.digests.sla_seconds(community)
        slas[community] = timedelta(seconds=seconds) if seconds else sla_default
    bindings = await repos.orgs.bindings_of_nodes(
        {from_ids[m.topic.id] for m in moving} | set(targets.values())
    )
    rows: list[dict[str, Any]] = []
    for matter in moving:
        to_node = targets[matter.topic.id]
        binding = bindings.get(to_node)
        rows.append(
            {
                "topic_id": matter.topic.id,
                "from_node_id": from_ids[matter.topic.id],
                "to_node_id": to_node,
                "reason": matter.reason,
                "note": matter.note,
                "escalated_by": matter.by,
                "created_at": now,
                "sla_due_at": now + slas[community_in(nodes, to_node).id],
                "card_chat_id": binding.chat_id if binding and binding.active else None,
            }
        )
    hops = await repos.escalations.add_many(rows)
    await _time_and_audit(repos, hops, [row["sla_due_at"] for row in rows], nodes, now)
    if tell_origin:
        late = {matter.topic.id: matter.late_since for matter in matters if matter.late_since}
        await _tell_origins(repos, hops, bindings, late, now)
    repos.record_all(EscalationChanged(hop.id) for hop in hops)
    repos.record(OutboxQueued())
    return len(hops)


async def _leave_current_hops(
    repos: Work, moving: Sequence[SendUp], currents: dict[int, Escalation], now: datetime
) -> None:
    """The hop each matter leaves is over (a matter already held above): its timers go."""
    for matter in moving:
        current = currents.get(matter.topic.id)
        if current is not None and current.is_active:
            await repos.escalations.transition(
                current.id,
                from_states=WAITING_STATES,
                to_state=EscalationState.ESCALATED,
                closed_at=now,
            )
            await repos.timers.cancel_many((REMINDER_TIMER, SLA_TIMER), (str(current.id),), now)


async def _time_and_audit(
    repos: Work,
    hops: Sequence[Escalation],
    due: Sequence[datetime],
    nodes: dict[int, Node],
    now: datetime,
) -> None:
    """A node with someone above it must act in time: reminded at half the SLA, sent up at
    it (``due``, each hop's). Every hop is audited."""
    timed = [
        (hop, at - now)
        for hop, at in zip(hops, due, strict=True)
        if nodes[hop.to_node_id].parent_id is not None
    ]
    await repos.timers.schedule_many(
        [(REMINDER_TIMER, str(hop.id), now + sla / 2) for hop, sla in timed]
        + [(SLA_TIMER, str(hop.id), now + sla) for hop, sla in timed]
    )
    await repos.audit.record_many(
        [
            AuditRow(
                action="escalation.opened",
                actor_id=hop.escalated_by,
                node_id=hop.to_node_id,
                topic_id=hop.topic_id,
                escalation_id=hop.id,
                reason=hop.reason,
                from_node=hop.from_node_id,
            )
            for hop in hops
        ],
        now=now,
    )


async def _tell_origins(
    repos: Work,
    hops: Sequence[Escalation],
    bindings: dict[int, Binding],
    late: dict[int, datetime],
    now: datetime,
) -> None:
    """A "sent up" notice in each chat a matter leaves, in the forum topic (if any) where
    its ballot is."""
    posts = await repos.topics.posts_of(hop.topic_id for hop in hops)
    notices: list[Queued] = []
    for hop in hops:
        origin = bindings.get(hop.from_node_id)
        if origin is None or not origin.active:
            continue
        thread = next(
            (
                post.thread_id
                for post in posts.get(hop.topic_id, [])
                if post.chat_id == origin.chat_id
            ),
            None,
        )
        notices.append(
            Queued(
                chat_id=origin.chat_id,
                announcement=SentUp(escalation_id=hop.id, late_since=late.get(hop.topic_id)),
                thread_id=thread,
            )
        )
    await repos.outbox.add_many(notices, now=now)


def _parent(nodes: dict[int, Node], from_ids: dict[int, int], matter: SendUp) -> int:
    parent = nodes[from_ids[matter.topic.id]].parent_id
    assert parent is not None  # only matters below the top move
    return parent
