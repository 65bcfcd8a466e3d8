"""Who a browser is: one-time sign-in codes (``/web``: ten minutes, used once) and sessions.

A session belongs to a person (a ``users`` row: a Telegram or a WeCom identity, or a web-only
household resident an invitation creates). The database keeps only SHA-256 hashes of the
codes and session tokens; the channel (channels/web/) signs the token into its cookie.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services.actors import Actor, Place
from bot.services.errors import Refusal
from bot.services.organisation.people import locale_from_language_code
from bot.services.unit_of_work import UnitOfWork, Work
from storage.repositories.web_sessions import CodeState, WebSessionRepository

CODE_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(days=30)
# A household invitation's person has no chat to ask for a new link: when the session ends,
# only a new invitation from the 楼栋长 brings them back. 180 days spans a consultation year's
# half (two 协商议事日 cycles of a season each) without a trip to the officer, and it is not
# the only guard: /revoke ends it at once, and a session unused for that long is gone.
HOUSEHOLD_SESSION_TTL = timedelta(days=180)
TOUCH_EVERY = timedelta(minutes=5)  # last_seen_at written at most this often
KEY_SETTING = "web.cookie_key"
# What a signed-in request's session depends on (the session's row, its person's language):
# a session read is kept in memory until a commit writes one of these (storage/changes.py).
# Opening a session and noting its last use are not such writes.
SESSION_TABLES = ("web_sessions", "users")
CACHED_SESSIONS = 100_000  # all forgotten at once beyond it
# Letters and digits only: a link no chat's markup escapes or breaks (WeCom's markdown would
# escape "_"), ~190 bits.
CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 32


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignInCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OpenedSession:
    token: str  # the secret for the cookie; stored only as its hash
    user_id: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session's person, and the language they chose (or Telegram gave), if any."""

    user_id: int
    token_hash: str
    locale: str | None = None


class CodeRefused(Exception):
    """A sign-in code that does not sign anyone in, and why (used, expired, unknown)."""

    def __init__(self, state: CodeState) -> None:
        super().__init__(state.value)
        self.state = state


@dataclass(frozen=True, slots=True)
class _Kept:
    version: int
    signed_in: SignedIn
    last_seen_at: datetime
    expires_at: datetime


class WebSessionService:
    def __init__(self, work: UnitOfWork, clock: Clock) -> None:
        self._work = work
        self._clock = clock
        self._sessions_changed = work.database.changes.watch(*SESSION_TABLES)
        self._kept: dict[str, _Kept] = {}

    async def cookie_key(self) -> str:
        """The key cookies and CSRF tokens are signed with: made at the first start, kept."""
        async with self._work.transaction() as repos:
            return await repos.app_settings.get_or_create(
                KEY_SETTING, secrets.token_urlsafe(32), self._clock.now()
            )

    async def issue_code(self, actor: Actor, place: Place) -> SignInCode:
        """``/web`` in a private chat: a code for a one-time link; refused in a group (the
        link would sign in whoever follows it first)."""
        if place.is_group:
            raise Refusal("web.private_only")
        now = self._clock.now()
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        async with self._work.transaction() as repos:
            await repos.web_sessions.add_code(digest(code), actor.user_id, now, now + CODE_TTL)
        return SignInCode(code, now + CODE_TTL)

    async def redeem_code(self, code: str) -> OpenedSession:
        """The code used (once) for a new session of its person; CodeRefused if it is used,
        expired or unknown, and then nothing is written."""
        now = self._clock.now()
        async with self._work.transaction() as repos:
            taken = await repos.web_sessions.take_code(digest(code), now)
            if taken.state is not CodeState.TAKEN or taken.user_id is None:
                raise CodeRefused(taken.state)
            return await self._open(repos.web_sessions, taken.user_id, now)

    async def open_session(self, user_id: int, ttl: timedelta = SESSION_TTL) -> OpenedSession:
        """A new session for a person already proven (a Telegram Mini App's initData, a
        redeemed household invitation: ``HOUSEHOLD_SESSION_TTL``)."""
        now = self._clock.now()
        async with self._work.transaction() as repos:
            return await self._open(repos.web_sessions, user_id, now, ttl)

    async def telegram_person(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> int:
        """A Telegram person (from a Mini App's signed initData) recorded as seen; the Yishi
        id they act as (their own, or the one /link joined them to)."""
        async with self._work.transaction() as repos:
            await repos.users.seen(
                user_id=user_id,
                first_name=first_name or str(user_id),
                last_name=last_name,
                username=username,
                language_code=language_code,
                now=self._clock.now(),
            )
            acts_as = await repos.links.acts_as(user_id)
        return acts_as if acts_as is not None else user_id

    async def signed_in(self, token: str) -> SignedIn | None:
        """The person a session token belongs to, if the session is live: from memory while
        no session was revoked and no person's language changed since it was read (every
        request of a busy page asks this), and read again when it is due to be noted as used."""
        now = self._clock.now()
        token_hash = digest(token)
        version = self._sessions_changed.version
        kept = self._kept.get(token_hash)
        if (
            kept is not None
            and kept.version == version
            and now < kept.expires_at
            and now - kept.last_seen_at < TOUCH_EVERY
        ):
            return kept.signed_in

        # One unit of the group commit: the look-ups of many requests share a transaction
        # with each other and with the ballots.
        async def unit(repos: Work) -> _Kept | None:
            session = await repos.web_sessions.live_session(token_hash, now)
            if session is None:
                return None
            last_seen_at = session.last_seen_at
            if now - last_seen_at >= TOUCH_EVERY:
                await repos.web_sessions.touch(token_hash, now)
                last_seen_at = now
            user = await repos.users.get(session.user_id)
            locale = None
            if user is not None:
                locale = user.locale or locale_from_language_code(user.language_code)
            signed_in = SignedIn(session.user_id, token_hash, locale)
            return _Kept(version, signed_in, last_seen_at, session.expires_at)

        read = await self._work.batched(unit)
        if read is None:
            self._kept.pop(token_hash, None)
            return None
        if len(self._kept) >= CACHED_SESSIONS:
            self._kept.clear()
        self._kept[token_hash] = read
        return read.signed_in

    async def sign_out(self, token_hash: str) -> None:
        async with self._work.transaction() as repos:
            await repos.web_sessions.revoke(token_hash, self._clock.now())

    @staticmethod
    async def _open(
        sessions: WebSessionRepository,
        user_id: int,
        now: datetime,
        ttl: timedelta = SESSION_TTL,
    ) -> OpenedSession:
        token = secrets.token_urlsafe(32)
        await sessions.add_session(digest(token), user_id, now, now + ttl)
        return OpenedSession(token, user_id, now + ttl)
