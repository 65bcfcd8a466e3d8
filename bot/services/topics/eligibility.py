"""Who may vote on a topic, and the key that makes their ballot one per voter.

Per-person topics: members of a chat the topic was posted in for voting (verified with the
transport on first vote, then cached). Household topics: registered households of the node
(approved where the node requires approval); any registered member may cast or change the
household's single ballot.

Secret ballots key the voter by HMAC(topic salt, voter); the salt is erased when the topic
closes, so afterwards the stored keys link to nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from bot.services.errors import Refusal
from storage.records import RegistrationStatus, Topic, TopicPost
from storage.repositories import Repositories


class MembershipProbe(Protocol):
    """Asks the chat platform about membership (Telegram: getChatMember / getChatMemberCount)."""

    async def is_member(self, chat_id: int, user_id: int) -> bool: ...

    async def member_count(self, chat_id: int) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Voter:
    key: str
    user_id: int
    household_id: int | None


@dataclass(frozen=True, slots=True)
class HouseholdRoll:
    """The eligible households of a household topic, with their registered areas."""

    areas: dict[int, Decimal | None]

    @property
    def total_area(self) -> Decimal:
        return sum((area for area in self.areas.values() if area is not None), Decimal(0))


def parse_topic_id(text: str) -> int:
    """``12`` or ``#12`` (also fullwidth ``＃12``) -> 12."""
    match = re.fullmatch(r"[#＃]?(\d{1,9})", text.strip())
    if not match:
        raise Refusal("topics.bad_id", given=text[:20])
    return int(match.group(1))


def secret_key(salt: str, plain_key: str) -> str:
    return "s:" + hmac.new(salt.encode(), plain_key.encode(), hashlib.sha256).hexdigest()[:40]


def ballot_key(topic: Topic, plain_key: str) -> str:
    if topic.secret:
        if topic.ballot_salt is None:
            raise Refusal("topics.closed", id=topic.id)
        return secret_key(topic.ballot_salt, plain_key)
    return plain_key


async def household_voter(
    repos: Repositories, topic: Topic, post: TopicPost, user_id: int
) -> Voter:
    """The household a user votes for on a household topic, from their registration."""
    registration = await repos.households.registration_of(user_id, post.node_id)
    node = await repos.orgs.node(post.node_id)
    if registration is None or registration.status == RegistrationStatus.REJECTED:
        raise Refusal("topics.not_registered")
    if registration.status != RegistrationStatus.APPROVED and (
        node is None or node.requires_approval
    ):
        raise Refusal("topics.registration_pending")
    plain = f"h:{registration.household_id}"
    return Voter(
        key=ballot_key(topic, plain), user_id=user_id, household_id=registration.household_id
    )


def plain_person_key(user_id: int) -> str:
    return f"u:{user_id}"


async def household_roll(repos: Repositories, node_ids: list[int]) -> HouseholdRoll:
    """Households with at least one counted registration in these buildings."""
    areas: dict[int, Decimal | None] = {}
    for node_id in node_ids:
        node = await repos.orgs.node(node_id)
        requires_approval = node.requires_approval if node else True
        for registration in await repos.households.registrations_of(node_id):
            counted = registration.status == RegistrationStatus.APPROVED or (
                registration.status == RegistrationStatus.PENDING and not requires_approval
            )
            if counted:
                areas[registration.household_id] = None
        for household in await repos.households.households_of(node_id):
            if household.id in areas:
                areas[household.id] = household.area
    return HouseholdRoll(areas=areas)
