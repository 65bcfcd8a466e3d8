"""Deployment-wide values the bot generates once and keeps (e.g. the webhook secret)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import app_settings
from storage.upsert import insert_ignore


class AppSettingsRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def get(self, key: str) -> str | None:
        result = await self._db.execute(
            select(app_settings.c.value).where(app_settings.c.key == key)
        )
        value = result.scalar_one_or_none()
        return None if value is None else str(value)

    async def get_or_create(self, key: str, candidate: str, now: datetime) -> str:
        """The stored value, or ``candidate`` stored now if there was none. Two processes
        starting at once store one value and both read it back."""
        await insert_ignore(
            self._db,
            app_settings,
            {"key": key, "value": candidate, "created_at": now},
            conflict=["key"],
        )
        stored = await self.get(key)
        assert stored is not None  # inserted, or there before
        return stored
