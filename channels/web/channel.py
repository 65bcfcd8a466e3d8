"""The web pages in a chat channel's process (``yishi run`` when YISHI_PUBLIC_URL is set):
started on the same services once they are up (channels.telegram.app's Companion), stopped
with them. The chat channel keeps the time and sends the mail; a web vote's events reach it
through the bus like a press's."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.services import Services
from bot.services.topics.eligibility import MembershipProbe
from bot.services.web.topic_pages import StoredMembership, TopicPages
from bot.settings import Settings
from channels.web.server import Web, WebServer
from locales import Translator

log = logging.getLogger(__name__)


class WebBeside:
    """``membership``: who asks the chat platform whether someone is in a group the web has
    not seen them in (Telegram's getChatMember, once the Telegram runtime is up); without it,
    what the chats recorded is all the web knows."""

    def __init__(
        self,
        settings: Settings,
        translator: Translator,
        *,
        membership: Callable[[], MembershipProbe | None] = lambda: None,
        port: int | None = None,
    ) -> None:
        if settings.public_url is None:
            raise ValueError("YISHI_PUBLIC_URL is required for the web pages")
        self._settings = settings
        self._translator = translator
        self._membership = membership
        self._port = port  # tests: 0 for any free port
        self.server: WebServer | None = None

    async def start(self, services: Services) -> None:
        settings = self._settings
        assert settings.public_url is not None
        probe = StoredMembership(services.work, services.clock, self._membership())
        pages = TopicPages(services.work, services.clock, services.topics, services.opinions, probe)
        token = settings.telegram_bot_token
        site = Web(
            services,
            self._translator,
            pages,
            public_url=settings.public_url,
            bot_token=token.get_secret_value() if token is not None else None,
        )
        host, port = settings.web_address
        server = WebServer(site, host, port if self._port is None else self._port)
        await server.start()
        self.server = server
        log.info("web pages on %s:%s for %s", host, server.port, settings.public_url)

    async def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            await server.stop()
