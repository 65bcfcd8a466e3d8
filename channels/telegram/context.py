"""Typed application state and the per-update context handlers receive."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.services import Services
from bot.services.actors import Actor
from bot.settings import Settings
from locales import Html, Translator

if TYPE_CHECKING:
    from bot.health import Health
    from bot.health_server import HealthServer
    from channels.telegram.runtime import Runtime


class BotData:
    """Everything application-wide, typed (instead of ``bot_data["x"]`` look-ups)."""

    def __init__(self) -> None:
        self._services: Services | None = None
        self._settings: Settings | None = None
        self._translator: Translator | None = None
        self._clock: Clock | None = None
        self._runtime: Runtime | None = None
        self.health: Health | None = None  # readiness and metrics (bot/health.py)
        self.health_server: HealthServer | None = None  # serving them, when it does

    def configure(self, settings: Settings, clock: Clock, translator: Translator) -> None:
        self._settings = settings
        self._clock = clock
        self._translator = translator

    @property
    def settings(self) -> Settings:
        assert self._settings is not None, "BotData.configure() was not called"
        return self._settings

    @property
    def clock(self) -> Clock:
        assert self._clock is not None, "BotData.configure() was not called"
        return self._clock

    @property
    def translator(self) -> Translator:
        assert self._translator is not None, "BotData.configure() was not called"
        return self._translator

    @property
    def services(self) -> Services:
        assert self._services is not None, "services open in post_init"
        return self._services

    @services.setter
    def services(self, value: Services | None) -> None:
        self._services = value

    @property
    def runtime(self) -> Runtime:
        assert self._runtime is not None, "the runtime opens in post_init"
        return self._runtime

    @runtime.setter
    def runtime(self, value: Runtime | None) -> None:
        self._runtime = value


class AppContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context of one update. ``locale`` is set once per update by the middleware."""

    __slots__ = ("_locale_task", "locale")

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.locale: str | None = None
        self._locale_task: asyncio.Future[str] | None = None

    def locale_later(self, task: asyncio.Future[str]) -> None:
        """The language will be known when ``task`` is done: see :meth:`language_known`."""
        self._locale_task = task

    async def language_known(self) -> None:
        """Wait for a language the middleware is still finding out (a vote's, meanwhile)."""
        task, self._locale_task = self._locale_task, None
        if task is not None:
            self.locale = await task

    @property
    def services(self) -> Services:
        return self.bot_data.services

    @property
    def settings(self) -> Settings:
        return self.bot_data.settings

    def t(self, key: str, **params: Any) -> Html:
        return self.bot_data.translator(self.locale, key, **params)

    def plain(self, key: str, **params: Any) -> str:
        return self.bot_data.translator.plain(self.locale, key, **params)

    @property
    def runtime(self) -> Runtime:
        return self.bot_data.runtime

    def actor(self, user_id: int) -> Actor:
        return Actor(user_id=user_id, is_superadmin=self.settings.is_superadmin(user_id))
