"""Granting, revoking and listing roles (楼栋长, 网格员, 社区工作人员 ...)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.organisation.permissions import GRANTABLE, Rank, rank_at
from storage.database import Database
from storage.records import Node, RoleName, User
from storage.repositories import Repositories

# What officers type for each role besides its code: the Chinese names, with the officers of
# 一长多员 (楼栋事务管理员, 卫生管理员, 治安调解员) as building officers.
ROLE_WORDS: dict[RoleName, tuple[str, ...]] = {
    RoleName.BUILDING_OFFICER: ("楼栋管理员", "楼栋事务管理员", "卫生管理员", "治安调解员"),
    RoleName.BUILDING_HEAD: ("楼栋长", "楼长"),
    RoleName.GRID_WORKER: ("网格员",),
    RoleName.GRID_HEAD: ("网格长",),
    RoleName.COMMUNITY_STAFF: ("社区工作人员", "社区工作者"),
    RoleName.COMMUNITY_ADMIN: ("社区管理员",),
}
_RESIDENT_WORDS = frozenset(("resident", "居民", "住户"))


def _folded(text: str) -> str:
    """``Building Head``, ``building-head``, ``ｂｕｉｌｄｉｎｇ_ｈｅａｄ`` -> ``building_head``."""
    words = unicodedata.normalize("NFKC", text).casefold().replace("-", " ").replace("_", " ")
    return "_".join(words.split())


_ROLE_BY_WORD = {_folded(code): code for code in GRANTABLE} | {
    _folded(word): code for code, words in ROLE_WORDS.items() for word in words
}


def role_of(text: str) -> RoleName:
    """The role code ``text`` names, by its code or its Chinese name; else a Refusal."""
    folded = _folded(text)
    if folded in _RESIDENT_WORDS:
        raise Refusal("roles.resident_is_no_role")
    try:
        return _ROLE_BY_WORD[folded]
    except KeyError:
        raise Refusal("roles.unknown_role", role=text.strip(), roles=tuple(GRANTABLE)) from None


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a chat sits in the tree (root first) and the actor's rank there."""

    node: Node | None
    path: list[Node]
    rank: Rank


@dataclass(frozen=True, slots=True)
class RoleChange:
    user: User
    node: Node
    role: str | None
    previous: str | None


@dataclass(frozen=True, slots=True)
class RoleHolder:
    user: User
    role: str


@dataclass(frozen=True, slots=True)
class NodeRoles:
    node: Node
    holders: list[RoleHolder]


class RoleService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    async def standing(self, actor: Actor, chat_id: int) -> Standing:
        """The node bound to the chat (if any), its path from the root, and the actor's rank."""
        async with self._db.transaction() as repos:
            node = await repos.orgs.node_of_chat(chat_id)
            if node is None:
                rank = Rank.SUPERADMIN if actor.is_superadmin else Rank.RESIDENT
                return Standing(node=None, path=[], rank=rank)
            chain = await repos.orgs.ancestry(node.id)
            return Standing(node=node, path=chain[::-1], rank=await rank_at(repos, actor, node))

    async def grant(self, actor: Actor, place: Place, target_id: int, text: str) -> RoleChange:
        role = role_of(text)
        now = self._clock.now()
        async with self._db.transaction() as repos:
            node = await self._bound_node(repos, place)
            if GRANTABLE[role] != node.level:
                raise Refusal("roles.wrong_level", role=role, level=node.level)
            target = await repos.users.get(target_id)
            if target is None:
                raise Refusal("roles.unknown_user", user_id=target_id)
            if target_id == actor.user_id and not actor.is_superadmin:
                raise Refusal("roles.not_self")
            rank = await rank_at(repos, actor, node)
            if rank <= Rank.of_role(role):
                raise Refusal("roles.grant_not_allowed", role=role)
            current = await repos.roles.get(target_id, node.id)
            if current is not None and Rank.of_role(current.role) >= rank:
                raise Refusal("roles.target_outranks", role=current.role)
            await repos.roles.grant(
                user_id=target_id, node_id=node.id, role=role, granted_by=actor.user_id, now=now
            )
            await repos.audit.record(
                action="role.granted",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                user_id=target_id,
                role=role,
                previous=current.role if current else None,
            )
        return RoleChange(
            user=target, node=node, role=role, previous=current.role if current else None
        )

    async def revoke(
        self, actor: Actor, place: Place, target_id: int, expected: str | None = None
    ) -> RoleChange:
        """Remove the target's role here; ``expected``, when given, must be the role held."""
        now = self._clock.now()
        async with self._db.transaction() as repos:
            node = await self._bound_node(repos, place)
            target = await repos.users.get(target_id)
            if target is None:
                raise Refusal("roles.unknown_user", user_id=target_id)
            current = await repos.roles.get(target_id, node.id)
            if current is None:
                raise Refusal("roles.no_role_here", name=target.display_name)
            if expected is not None and expected != current.role:
                raise Refusal(
                    "roles.not_that_role",
                    name=target.display_name,
                    role=current.role,
                    expected_role=expected,
                )
            rank = await rank_at(repos, actor, node)
            if rank <= Rank.of_role(current.role):
                raise Refusal("roles.revoke_not_allowed", role=current.role)
            await repos.roles.revoke(user_id=target_id, node_id=node.id)
            await repos.audit.record(
                action="role.revoked",
                actor_id=actor.user_id,
                now=now,
                node_id=node.id,
                chat_id=place.chat_id,
                user_id=target_id,
                role=current.role,
            )
        return RoleChange(user=target, node=node, role=None, previous=current.role)

    async def roles_here(self, place: Place) -> list[NodeRoles]:
        """Role holders of the chat's node and of each ancestor (whose roles cover it)."""
        async with self._db.transaction() as repos:
            node = await self._bound_node(repos, place)
            chain = await repos.orgs.ancestry(node.id)
            grants = await repos.roles.at_nodes([member.id for member in chain])
            people = await repos.users.many(sorted({grant.user_id for grant in grants}))
        listing = []
        for member in chain:
            holders = [
                RoleHolder(user=people[grant.user_id], role=grant.role)
                for grant in grants
                if grant.node_id == member.id and grant.user_id in people
            ]
            holders.sort(key=lambda holder: -Rank.of_role(holder.role))
            listing.append(NodeRoles(node=member, holders=holders))
        return listing

    @staticmethod
    async def _bound_node(repos: Repositories, place: Place) -> Node:
        if not place.is_group:
            raise Refusal("roles.needs_group")
        node = await repos.orgs.node_of_chat(place.chat_id)
        if node is None:
            raise Refusal("orgs.chat_not_bound")
        return node
