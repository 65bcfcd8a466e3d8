"""The role ladder and what each rung may do.

A role held at a node covers that node and all its descendants. Super-admins (from
``YISHI_ADMIN_IDS``) outrank every role. Nobody grants a role at or above their own.
"""

from __future__ import annotations

from enum import IntEnum

from bot.services.actors import Actor
from storage.records import Level, Node, RoleName
from storage.repositories import Repositories


class Rank(IntEnum):
    RESIDENT = 0
    BUILDING_OFFICER = 1
    BUILDING_HEAD = 2
    GRID_WORKER = 3
    GRID_HEAD = 4
    COMMUNITY_STAFF = 5
    COMMUNITY_ADMIN = 6
    SUPERADMIN = 7

    @property
    def role_name(self) -> str:
        return self.name.lower()

    @classmethod
    def of_role(cls, role: str) -> Rank:
        return cls[role.upper()]


# Roles that can be granted, and the level of node each one belongs to.
GRANTABLE: dict[RoleName, Level] = {
    RoleName.BUILDING_OFFICER: Level.BUILDING,
    RoleName.BUILDING_HEAD: Level.BUILDING,
    RoleName.GRID_WORKER: Level.GRID,
    RoleName.GRID_HEAD: Level.GRID,
    RoleName.COMMUNITY_STAFF: Level.COMMUNITY,
    RoleName.COMMUNITY_ADMIN: Level.COMMUNITY,
}

# The lowest rank that counts as an officer of a node at each level.
OFFICER_RANK: dict[Level, Rank] = {
    Level.BUILDING: Rank.BUILDING_OFFICER,
    Level.GRID: Rank.GRID_WORKER,
    Level.COMMUNITY: Rank.COMMUNITY_STAFF,
}

# The rank needed to manage a node's binding: an officer of its parent's level.
PARENT_OFFICER_RANK: dict[Level, Rank] = {
    Level.BUILDING: Rank.GRID_WORKER,
    Level.GRID: Rank.COMMUNITY_STAFF,
    Level.COMMUNITY: Rank.SUPERADMIN,
}


async def rank_at(repos: Repositories, actor: Actor, node: Node) -> Rank:
    """The highest rank the actor holds at ``node`` or any of its ancestors."""
    if actor.is_superadmin:
        return Rank.SUPERADMIN
    chain = await repos.orgs.ancestry(node.id)
    grants = await repos.roles.of_user(actor.user_id, [ancestor.id for ancestor in chain])
    return max((Rank.of_role(grant.role) for grant in grants), default=Rank.RESIDENT)


def is_officer(rank: Rank, node: Node) -> bool:
    return rank >= OFFICER_RANK.get(node.level, Rank.COMMUNITY_STAFF)
