"""Button presses becoming ballots: the checks, the voter's key, the upsert.

The vote is the most pressed path (a building's residents at once), tuned against the bare
PTB bot by ``benchmarks/ingest_http.py`` (docs/PERFORMANCE.md). What makes it fast, all of it
here or named here:

- The presses made meanwhile are counted together (``TopicService.vote`` submits each press to
  a ``BatchedWrite``, storage/batched_write.py): :func:`cast_ballots` reads every press of the
  batch in four statements (``read_presses``: the batch's topics ``FOR SHARE``, then their
  posts, memberships and ballots, each an ``IN`` list built and compiled once) and writes the
  ballots and the memberships Telegram told in one executemany each; each press still gets
  its own answer or refusal.
- That batch is one unit of a group-committed transaction (storage/group_commit.py), shared
  with the other short writes of the moment (the inbox's rows, who was seen); each caller is
  answered once it committed. A presser the platform names whom this process has not
  recorded lately (a :class:`Newcomer`, WeCom's first press of a resident) is recorded by the
  batch itself, first: their press waits for one commit, not one for them and one for it.
- Telegram is never asked inside the transaction: a press whose voter's membership is not on
  record stops before anything is written (:class:`AskFirst`, a ``WroteNothing``, so it does
  not wait for the commit either); the membership is asked and the press submitted again.
- The statements are built once (storage/upsert.py) and SQLite runs them in the event loop's
  thread (storage/database.py); the press records no events (its ballot message is touched
  directly, coalesced, channels/telegram/delivery/coalesce.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.services.actors import Actor
from bot.services.errors import Refusal
from bot.services.topics.eligibility import (
    Voter,
    ballot_key,
    household_voter,
    plain_person_key,
)
from storage.group_commit import WroteNothing
from storage.records import BallotChannel, Platform, Topic, on_telegram
from storage.repositories import Repositories
from storage.repositories.presses import PressesRead, PressFacts, read_presses

if TYPE_CHECKING:
    from bot.services.topics.service import Tally


@dataclass(frozen=True, slots=True)
class VoteReceipt:
    topic: Topic
    option: str
    changed: bool
    unchanged: bool
    user_id: int  # the voter's id (a Newcomer's, as recording them gave it)
    tally: Tally | None = None  # read after the ballot, in its transaction, if asked for


@dataclass(frozen=True, slots=True)
class Newcomer:
    """A presser as their platform names them (a WeCom userid) whom this process has not
    recorded lately: the batch records them (``UserRepository.seen_on_many``) before their
    ballot, in its transaction. Recording them again is harmless (an upsert), so whoever
    submits one need not know whether the store holds them already."""

    platform: Platform
    address: str
    name: str


class AskFirst(Exception, WroteNothing):
    """A vote needs Telegram's word on a membership first (asked outside the transaction).

    Raised before anything is written, and returned by the unit: its caller goes on at once,
    not after the commit of the transaction it ran in."""

    def __init__(self, chat_id: int, user_id: int) -> None:
        super().__init__(chat_id, user_id)
        self.chat_id, self.user_id = chat_id, user_id


class KnownAnswers:
    """A MembershipProbe that knows only what Telegram already said during this vote."""

    def __init__(self) -> None:
        self.known: dict[tuple[int, int], bool] = {}

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        answer = self.known.get((chat_id, user_id))
        if answer is None:
            raise AskFirst(chat_id, user_id)
        return answer

    async def member_count(self, chat_id: int) -> int | None:
        raise NotImplementedError("votes never count members")


@dataclass(frozen=True, slots=True)
class Press:
    """A button press to count: who pressed which option of which topic, in which chat."""

    actor: Actor | Newcomer
    chat_id: int
    topic_id: int
    option: int
    answers: KnownAnswers  # what Telegram said about memberships during this vote
    now: datetime
    tally: bool = False  # the receipt carries the topic's tally (TopicService.vote)
    # The platform delivers a press only from a member of the chat who sees the card (WeCom):
    # nobody is asked, and the membership is recorded with the ballot.
    presser_is_member: bool = False


Cast = VoteReceipt | AskFirst | Refusal


@dataclass(frozen=True, slots=True)
class CastBatch:
    """Each press's receipt, or why it stopped, in order; and what the batch read (its topics,
    locked until it commits, and their posts), which a tally read after it need not read again."""

    outcomes: list[Cast]
    read: PressesRead


async def cast_ballots(repos: Repositories, presses: Sequence[Press]) -> CastBatch:
    """Check each press and upsert its voter's ballot, keyed by (topic, voter); each press's
    receipt, or why it stopped, in order.

    Four statements read every press's topic (locked, shared, until the ballots commit: a
    close counts them or they find the topic closed), its post in the chat, the presser's
    cached membership and their per-person ballot; one writes the memberships Telegram told,
    one the ballots. Secret and household topics key the ballot otherwise and read it alone.
    """
    voters = await _voters(repos, presses)
    keys = [plain_person_key(user_id) for user_id in voters]
    read = await read_presses(
        repos.connection,
        [
            (press.topic_id, press.chat_id, user_id, key)
            for press, user_id, key in zip(presses, voters, keys, strict=True)
        ],
        all_posts=any(press.tally for press in presses),  # the tally read after it needs them
    )
    batch = _Batch()
    outcomes: list[Cast] = []
    for press, user_id, key, fact in zip(presses, voters, keys, read.facts, strict=True):
        try:
            outcomes.append(await _cast(repos, press, user_id, key, fact, batch))
        except (Refusal, AskFirst) as stop:
            outcomes.append(stop)
    if batch.memberships:
        await repos.chats.set_memberships(batch.memberships, presses[0].now)
    await repos.topics.put_ballots(batch.ballots)
    return CastBatch(outcomes, read)


async def _voters(repos: Repositories, presses: Sequence[Press]) -> list[int]:
    """Each press's voter id: an actor's own; a Newcomer's as recording them (all of the
    batch's, one statement per platform, as seen at the batch's latest moment) gives it."""
    newcomers: dict[Platform, dict[str, str]] = {}
    for press in presses:
        if isinstance(press.actor, Newcomer):
            newcomers.setdefault(press.actor.platform, {})[press.actor.address] = press.actor.name
    recorded: dict[tuple[Platform, str], int] = {}
    if newcomers:
        now = max(press.now for press in presses)
        for platform, named in newcomers.items():
            seen = await repos.users.seen_on_many(platform, list(named.items()), now)
            recorded.update(
                {(platform, address): user_id for address, (user_id, _) in seen.items()}
            )
    return [
        recorded[(press.actor.platform, press.actor.address)]
        if isinstance(press.actor, Newcomer)
        else press.actor.user_id
        for press in presses
    ]


class _Batch:
    """What a batch of presses writes, and the ballots it put so far by (topic, key)."""

    def __init__(self) -> None:
        self.memberships: list[tuple[int, int, bool]] = []
        self.ballots: list[dict[str, object]] = []
        self.put: dict[tuple[int, str], tuple[int, str]] = {}


async def _cast(
    repos: Repositories,
    press: Press,
    user_id: int,
    plain: str,
    facts: PressFacts | None,
    batch: _Batch,
) -> VoteReceipt:
    if facts is None or not facts.post.voting:
        raise Refusal("topics.not_here")
    topic, post, option = facts.topic, facts.post, press.option
    if not topic.is_open or topic.deadline <= press.now:
        raise Refusal("topics.closed", id=topic.id)
    if topic.is_opinion or not 0 <= option < len(topic.options):
        raise Refusal("topics.bad_option")
    if topic.household:
        voter = await household_voter(repos, topic, post, user_id)
    else:
        member = facts.member
        if member is None:  # asked once, then cached
            # What the platform said (WeCom delivers a press only from a member) or Telegram
            # told during this vote: then they are in the chat, so not web-only, and nothing
            # is read to tell.
            known = press.answers.known.get((post.chat_id, user_id))
            member = True if press.presser_is_member else known
            if member is None and not on_telegram(user_id) and await _on_web(repos, user_id):
                # A web-only person (a household invitation) is in no chat: the per-person
                # roll is the bound chat's members, so they take part in household topics only.
                raise Refusal("topics.web_household_only")
            if member is None:
                member = await press.answers.is_member(post.chat_id, user_id)
            batch.memberships.append((post.chat_id, user_id, member))
        if not member:
            raise Refusal("topics.not_member")
        voter = Voter(key=ballot_key(topic, plain), user_id=user_id, household_id=None)
    previous = batch.put.get((topic.id, voter.key))
    if previous is None and voter.key == plain:
        previous = facts.previous
    elif previous is None:
        found = await repos.topics.ballot(topic.id, voter.key)
        previous = (found.option, found.channel) if found is not None else None
    if previous == (option, BallotChannel.BUTTON):
        return VoteReceipt(
            topic, topic.options[option], changed=False, unchanged=True, user_id=user_id
        )
    area = None
    if voter.household_id is not None:
        household = await repos.households.household_by_id(voter.household_id)
        area = household.area if household else None
    batch.ballots.append(
        {
            "topic_id": topic.id,
            "voter_key": voter.key,
            "option": option,
            "user_id": None if topic.secret else user_id,
            "household_id": None if topic.secret else voter.household_id,
            "area": area,
            "node_id": post.node_id,
            "channel": BallotChannel.BUTTON,
            "recorded_by": None,
            "updated_at": press.now,
        }
    )
    batch.put[(topic.id, voter.key)] = (option, BallotChannel.BUTTON)
    changed = previous is not None
    return VoteReceipt(
        topic, topic.options[option], changed=changed, unchanged=False, user_id=user_id
    )


async def _on_web(repos: Repositories, user_id: int) -> bool:
    return await repos.invitations.platform_of(user_id) is Platform.WEB
