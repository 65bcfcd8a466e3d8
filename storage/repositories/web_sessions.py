"""The web pages' sign-in: sessions and one-time sign-in codes, stored by the hash of their
secret only (bot/services/web/sessions.py makes and checks the secrets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.changes import UNTRACKED
from storage.tables import web_sessions, web_signin_codes

_UNTRACKED = {UNTRACKED: True}


class CodeState(Enum):
    """What became of a sign-in code someone brings back."""

    TAKEN = "taken"  # good: used now, by this call
    USED = "used"  # used before
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TakenCode:
    state: CodeState
    user_id: int | None = None  # whose code it is (TAKEN only)


@dataclass(frozen=True, slots=True)
class WebSession:
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


class WebSessionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def add_code(
        self, code_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        await self._db.execute(
            insert(web_signin_codes).values(
                code_hash=code_hash, user_id=user_id, created_at=now, expires_at=expires_at
            )
        )

    async def take_code(self, code_hash: str, now: datetime) -> TakenCode:
        """The code used once: a conditional UPDATE, so two people bringing it at once do not
        both get in; afterwards it says why it no longer works."""
        code = web_signin_codes.c
        taken = (
            await self._db.execute(
                update(web_signin_codes)
                .where(code.code_hash == code_hash, code.used_at.is_(None), code.expires_at > now)
                .values(used_at=now)
                .returning(code.user_id)
            )
        ).first()
        if taken is not None:
            return TakenCode(CodeState.TAKEN, int(taken.user_id))
        row = (
            await self._db.execute(
                select(code.used_at, code.expires_at).where(code.code_hash == code_hash)
            )
        ).first()
        if row is None:
            return TakenCode(CodeState.UNKNOWN)
        return TakenCode(CodeState.USED if row.used_at is not None else CodeState.EXPIRED)

    async def add_session(
        self, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        await self._db.execute(
            insert(web_sessions).values(
                token_hash=token_hash,
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
            ),
            execution_options=_UNTRACKED,  # a new session changes no cached one
        )

    async def live_session(self, token_hash: str, now: datetime) -> WebSession | None:
        """The session, if it is neither expired nor revoked."""
        session = web_sessions.c
        row = (
            await self._db.execute(
                select(
                    session.user_id, session.created_at, session.last_seen_at, session.expires_at
                ).where(
                    session.token_hash == token_hash,
                    session.revoked_at.is_(None),
                    session.expires_at > now,
                )
            )
        ).first()
        if row is None:
            return None
        return WebSession(int(row.user_id), row.created_at, row.last_seen_at, row.expires_at)

    async def touch(self, token_hash: str, now: datetime) -> None:
        await self._db.execute(
            update(web_sessions)
            .where(web_sessions.c.token_hash == token_hash)
            .values(last_seen_at=now),
            execution_options=_UNTRACKED,  # when it was last used: no cache depends on it
        )

    async def revoke(self, token_hash: str, now: datetime) -> bool:
        result = await self._db.execute(
            update(web_sessions)
            .where(
                and_(web_sessions.c.token_hash == token_hash, web_sessions.c.revoked_at.is_(None))
            )
            .values(revoked_at=now)
        )
        return bool(result.rowcount)

    async def revoke_user(self, user_id: int, now: datetime) -> int:
        """Every live session of ``user_id`` revoked (a household's /revoke builds on it)."""
        result = await self._db.execute(
            update(web_sessions)
            .where(web_sessions.c.user_id == user_id, web_sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)
