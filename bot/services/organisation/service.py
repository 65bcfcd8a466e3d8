"""The organisation tree: set-up, bind codes, binding chats to nodes, and chat life events."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.announcements import ChildLostBot
from bot.services.errors import Refusal
from bot.services.events import (
    EscalationChanged,
    MeetingChanged,
    OutboxQueued,
    RegistrationCardChanged,
    TopicChanged,
)
from bot.services.organisation.node_names import clean_name
from bot.services.organisation.permissions import OFFICER_RANK, PARENT_OFFICER_RANK, rank_at
from bot.services.unit_of_work import UnitOfWork
from storage.records import BotStatus, Level, Node
from storage.repositories import Repositories

BIND_CODE_TTL = timedelta(hours=24)
# 32 symbols without look-alikes (0/o, 1/l/i): 10 of them carry 50 bits.
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE_LENGTH = 10
CHILD_LEVEL = {Level.COMMUNITY: Level.GRID, Level.GRID: Level.BUILDING}
_PRESENT = (BotStatus.MEMBER, BotStatus.ADMINISTRATOR, BotStatus.CREATOR, BotStatus.RESTRICTED)


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    level: Level
    name: str
    parent: Node
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class BoundNode:
    node: Node
    parent: Node | None


@dataclass(frozen=True, slots=True)
class ChatMigration:
    """A group's move to its supergroup id: ``node`` is the node now bound to the new id, if
    any (the messages to post again in the new chat and the mail to deliver are events)."""

    node: Node | None


@dataclass(frozen=True, slots=True)
class BotMembership:
    """What changed when the bot was added to or removed from a chat."""

    node: Node | None
    active: bool
    changed: bool
    parent_chat_id: int | None


def new_bind_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))


class OrgService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def node_of_chat(self, chat_id: int) -> Node | None:
        async with self._uow.transaction() as repos:
            return await repos.orgs.node_of_chat(chat_id)

    async def setup(self, actor: Actor, place: Place, name: str) -> Node:
        """``/setup <社区名>``: the staff group becomes a community node."""
        if not place.is_group:
            raise Refusal("orgs.setup_needs_group")
        if not actor.is_superadmin:
            raise Refusal("orgs.setup_needs_superadmin")
        community_name = clean_name(name)
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            await self._refuse_if_bound(repos, place.chat_id)
            node = await repos.orgs.create_node(
                level=Level.COMMUNITY,
                name=community_name,
                parent_id=None,
                created_by=actor.user_id,
                now=now,
            )
            await repos.orgs.bind(
                node_id=node.id, chat_id=place.chat_id, bound_by=actor.user_id, now=now
            )
            await repos.audit.record(
                action="community.setup",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                name=community_name,
            )
        return node

    async def issue_code(self, actor: Actor, place: Place, name: str, level: Level) -> IssuedCode:
        """``/newgrid`` or ``/newbuilding``: a single-use code that binds a child node's chat."""
        if not place.is_group:
            raise Refusal("orgs.new_child_needs_group", level=level)
        child_name = clean_name(name)
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            parent = await repos.orgs.node_of_chat(place.chat_id)
            if parent is None or CHILD_LEVEL.get(parent.level) != level:
                raise Refusal(
                    "orgs.new_child_wrong_chat",
                    level=level,
                    here=parent.level if parent else "unbound",
                )
            rank = await rank_at(repos, actor, parent)
            needed = OFFICER_RANK[parent.level]
            if rank < needed:
                raise Refusal("orgs.new_child_needs_role", role=needed.role_name, level=level)
            existing = await repos.orgs.child_named(parent.id, level, child_name)
            if existing is not None and await repos.orgs.binding_of_node(existing.id):
                raise Refusal("orgs.name_taken", name=child_name, level=level)
            code = new_bind_code()
            expires_at = now + BIND_CODE_TTL
            await repos.orgs.add_code(
                code=code,
                parent_id=parent.id,
                level=level,
                name=child_name,
                node_id=existing.id if existing else None,
                created_by=actor.user_id,
                now=now,
                expires_at=expires_at,
            )
            await repos.audit.record(
                action="bind_code.issued",
                actor_id=actor.user_id,
                now=now,
                node_id=parent.id,
                chat_id=place.chat_id,
                level=level,
                name=child_name,
            )
        return IssuedCode(
            code=code,
            level=level,
            name=child_name,
            parent=parent,
            expires_at=expires_at,
        )

    async def bind(
        self, actor: Actor, place: Place, code_text: str, *, is_chat_admin: bool
    ) -> BoundNode:
        """``/bind <code>`` by an administrator of the group: the group becomes the node's chat."""
        if not place.is_group:
            raise Refusal("orgs.bind_needs_group")
        code_value = code_text.strip().lower()
        if not code_value:
            raise Refusal("orgs.bind_needs_code")
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            await self._refuse_if_bound(repos, place.chat_id)
            code = await repos.orgs.code(code_value)
            if code is None:
                raise Refusal("orgs.code_unknown")
            if code.used_at is not None:
                raise Refusal("orgs.code_used")
            if code.expires_at <= now:
                raise Refusal("orgs.code_expired")
            if not is_chat_admin and not actor.is_superadmin:
                raise Refusal("orgs.bind_needs_chat_admin")
            parent = await repos.orgs.node(code.parent_id)
            if code.node_id is not None:
                node = await repos.orgs.node(code.node_id)
                if node is None or await repos.orgs.binding_of_node(node.id):
                    raise Refusal("orgs.code_used")
            else:
                if await repos.orgs.child_named(code.parent_id, code.level, code.name):
                    raise Refusal("orgs.name_taken", name=code.name, level=code.level)
                node = None
            if not await repos.orgs.use_code(
                code.code, user_id=actor.user_id, chat_id=place.chat_id, now=now
            ):
                raise Refusal("orgs.code_used")
            if node is None:
                node = await repos.orgs.create_node(
                    level=code.level,
                    name=code.name,
                    parent_id=code.parent_id,
                    created_by=code.created_by,
                    now=now,
                )
            await repos.orgs.bind(
                node_id=node.id, chat_id=place.chat_id, bound_by=actor.user_id, now=now
            )
            await repos.audit.record(
                action="chat.bound",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                level=node.level,
                name=node.name,
            )
        return BoundNode(node=node, parent=parent)

    async def unbind(self, actor: Actor, place: Place) -> Node:
        """``/unbind``: the chat stops serving its node; the node and its records stay."""
        if not place.is_group:
            raise Refusal("orgs.unbind_needs_group")
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            node = await repos.orgs.node_of_chat(place.chat_id)
            if node is None:
                raise Refusal("orgs.chat_not_bound")
            needed = PARENT_OFFICER_RANK[node.level]
            if await rank_at(repos, actor, node) < needed:
                raise Refusal("orgs.unbind_needs_role", role=needed.role_name)
            await repos.orgs.unbind(node.id)
            await repos.audit.record(
                action="chat.unbound",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
            )
        return node

    async def node(self, node_id: int) -> Node | None:
        async with self._uow.transaction() as repos:
            return await repos.orgs.node(node_id)

    async def bot_membership_changed(
        self, chat_id: int, status: str, *, by_user_id: int | None
    ) -> BotMembership:
        """The bot was added to, promoted in, or removed from a chat.

        Removed from a bound group: the binding is paused (audited) and, in the same
        transaction, the parent node's chat is told through the outbox, once however many
        times the removal is noticed (``my_chat_member``, a refused send or edit).
        """
        now = self._clock.now()
        bot_status = BotStatus(status)
        active = bot_status in _PRESENT
        async with self._uow.transaction() as repos:
            await repos.chats.set_bot_status(chat_id, bot_status, now)
            node = await repos.orgs.node_of_chat(chat_id)
            if node is None:
                return BotMembership(node=None, active=active, changed=False, parent_chat_id=None)
            changed = await repos.orgs.set_binding_active(chat_id, active)
            parent_chat_id = None
            if node.parent_id is not None:
                parent_binding = await repos.orgs.binding_of_node(node.parent_id)
                if parent_binding is not None and parent_binding.active:
                    parent_chat_id = parent_binding.chat_id
            if changed:
                await repos.audit.record(
                    action="chat.bot_active" if active else "chat.bot_removed",
                    actor_id=by_user_id,
                    now=now,
                    node_id=node.id,
                    chat_id=chat_id,
                    status=status,
                )
                if not active and parent_chat_id is not None:
                    await repos.outbox.add(
                        chat_id=parent_chat_id,
                        announcement=ChildLostBot(node_id=node.id),
                        now=now,
                    )
                    repos.record(OutboxQueued())
        return BotMembership(
            node=node,
            active=active,
            changed=changed,
            parent_chat_id=parent_chat_id,
        )

    async def chat_gone(self, chat_id: int, status: str) -> BotMembership | None:
        """Telegram refused a message to the chat for good (the bot was removed from the
        group, or the user blocked it), whether or not ``my_chat_member`` said so: as
        :meth:`bot_membership_changed`. Private chats have no binding: nothing to do."""
        if chat_id > 0:
            return None
        return await self.bot_membership_changed(chat_id, status, by_user_id=None)

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> ChatMigration:
        """A group became a supergroup: its id changed, and everything that addresses the
        chat follows it (the binding, queued mail, living messages: ``ChatMoveRepository``).
        Told twice (the service message and a send refused with the new id), once done."""
        now = self._clock.now()
        async with self._uow.transaction() as repos:
            await repos.chats.move(old_chat_id, new_chat_id, now)
            bound_already = await repos.orgs.binding_of_chat(new_chat_id) is not None
            moved = not bound_already and await repos.orgs.move_binding(old_chat_id, new_chat_id)
            rows = await repos.chat_moves.move(old_chat_id, new_chat_id)
            node = await repos.orgs.node_of_chat(new_chat_id)
            if moved and node is not None:
                await repos.audit.record(
                    action="chat.migrated",
                    actor_id=None,
                    now=now,
                    node_id=node.id,
                    chat_id=new_chat_id,
                    old_chat_id=old_chat_id,
                )
            # Its living messages, posted again there; its mail, delivered there.
            repos.record_all(TopicChanged(topic_id) for topic_id in rows.topic_ids)
            repos.record_all(EscalationChanged(hop_id) for hop_id in rows.escalation_ids)
            repos.record_all(MeetingChanged(occurrence) for occurrence in rows.occurrence_ids)
            repos.record_all(
                RegistrationCardChanged(node_id) for node_id in rows.registration_nodes
            )
            if rows.queued:
                repos.record(OutboxQueued())
        return ChatMigration(node=node)

    @staticmethod
    async def _refuse_if_bound(repos: Repositories, chat_id: int) -> None:
        node = await repos.orgs.node_of_chat(chat_id)
        if node is not None:
            raise Refusal("orgs.chat_already_bound", name=node.name, level=node.level)
