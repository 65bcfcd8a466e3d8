"""/link: a person joins their Telegram and WeCom identities. ``/link`` in a private chat on
one platform gives a one-time code (ten minutes, single use); ``/link <code>`` in a private
chat on the other joins them: the WeCom identity acts as the Telegram one from then on, and
its roles, household registrations and ballots on open topics become the person's (where the
person already has one, theirs stands: one ballot per person, one per household)."""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.events import TopicChanged
from bot.services.topics.eligibility import plain_person_key, secret_key
from bot.services.unit_of_work import UnitOfWork, Work
from storage.records import Platform, on_telegram

CODE_TTL = timedelta(minutes=10)
MAX_FAILURES = 5  # wrong codes per identity within FAILURE_WINDOW
FAILURE_WINDOW = timedelta(minutes=10)
_ALPHABET = "23456789"
_LENGTH = 8


@dataclass(frozen=True, slots=True)
class LinkCode:
    code: str
    expires_at: datetime
    other: Platform  # where to say it


@dataclass(frozen=True, slots=True)
class Linked:
    person: int  # the Telegram identity, who both are now
    other: int  # the WeCom identity, acting as the person
    ballots_moved: int  # open topics whose ballot became the person's


class LinkService:
    def __init__(self, work: UnitOfWork, clock: Clock) -> None:
        self._work = work
        self._clock = clock
        self._failures: dict[int, deque[datetime]] = {}

    async def code(self, actor: Actor, place: Place) -> LinkCode:
        if place.is_group:
            raise Refusal("links.private_only")
        now = self._clock.now()
        async with self._work.transaction() as repos:
            identity = await self._identity(repos, place)
            if not on_telegram(identity) and await repos.links.acts_as(identity) is not None:
                raise Refusal("links.already")
            code = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
            await repos.links.add_code(code, identity, now, now + CODE_TTL)
        other = Platform.WECOM if on_telegram(identity) else Platform.TELEGRAM
        return LinkCode(code, now + CODE_TTL, other)

    async def link(self, actor: Actor, place: Place, code: str) -> Linked:
        if place.is_group:
            raise Refusal("links.private_only")
        now = self._clock.now()
        async with self._work.transaction() as repos:
            identity = await self._identity(repos, place)
            self._check_attempts(identity, now)
            issuer = await repos.links.take_code(code.strip(), now)
            if issuer is None:
                self._failed(identity, now)
                raise Refusal("links.bad_code")
            if on_telegram(issuer) == on_telegram(identity):
                raise Refusal("links.same_platform")
            person, other = (issuer, identity) if on_telegram(issuer) else (identity, issuer)
            if await repos.links.acts_as(other) is not None:
                raise Refusal("links.already")
            await repos.links.join(other, person)
            changed = await self._move_ballots(repos, other, person)
            await repos.audit.record(
                action="person.linked",
                actor_id=person,
                now=now,
                chat_id=place.chat_id,
                other=other,
            )
            repos.record_all(TopicChanged(topic_id) for topic_id in changed)
        self._failures.pop(identity, None)
        return Linked(person, other, len(changed))

    async def _identity(self, repos: Work, place: Place) -> int:
        """The identity writing in this private chat (not the person it may act as): on
        Telegram the chat's id; elsewhere the person with the chat's address."""
        if on_telegram(place.chat_id):
            return place.chat_id
        address = await repos.chats.address_of(place.chat_id)
        identity = await repos.users.identity(*address) if address else None
        if identity is None:
            raise Refusal("general.try_again")
        return identity

    async def _move_ballots(self, repos: Work, other: int, person: int) -> list[int]:
        moves: list[tuple[int, str, str]] = []
        for topic_id, secret, salt in await repos.links.open_topics():
            old, new = plain_person_key(other), plain_person_key(person)
            if secret:
                if salt is None:
                    continue
                old, new = secret_key(salt, old), secret_key(salt, new)
            moves.append((topic_id, old, new))
        return await repos.links.rekey_ballots(moves, person)

    def _check_attempts(self, identity: int, now: datetime) -> None:
        failures = self._failures.get(identity)
        while failures and now - failures[0] > FAILURE_WINDOW:
            failures.popleft()
        if failures is not None and len(failures) >= MAX_FAILURES:
            raise Refusal("links.too_many_attempts")

    def _failed(self, identity: int, now: datetime) -> None:
        self._failures.setdefault(identity, deque()).append(now)
