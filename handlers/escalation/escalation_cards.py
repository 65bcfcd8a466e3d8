"""Escalation cards kept in step with the database, like ballot messages.

A card is posted in the receiving node's chat when a matter arrives, and edited when its
state changes (taken on, resolved, sent further up). Its buttons live only while the hop is
active. After a restart every active card is synced once, so a card whose posting was
interrupted is posted then.

A card an admin deleted is posted again at the next change while its matter is still the
node's to act on (its buttons are how officers take it on), and stays deleted once the hop is
over. Failures Telegram may get over are retried later, a chat that removed the bot is noted
(``handlers.delivery.refused``).
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot.ratelimit import Priority, sending_as
from bot.services import Services
from bot.services.escalation.views import CardView, escalation_card_view
from handlers.delivery.refused import RefusedShows
from handlers.escalation.render import EscalationRenderer
from handlers.topics.render import fingerprint

log = logging.getLogger(__name__)


class EscalationCards:
    def __init__(self, bot: ExtBot[None], services: Services, renderer: EscalationRenderer) -> None:
        self._bot = bot
        self._services = services
        self._renderer = renderer
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._refusals = RefusedShows(services, "escalation card", self.touch)

    def touch(self, escalation_id: int) -> None:
        task = asyncio.create_task(self._sync_logged(escalation_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, grace: float = 0.0) -> None:
        """Let the syncs in flight finish for up to ``grace`` seconds (a card posted and not
        recorded would be posted again after a restart), then stop."""
        self._refusals.close()
        if self._tasks and grace > 0:
            await asyncio.wait(list(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _sync_logged(self, escalation_id: int) -> None:
        # A card is an announcement: it waits behind the replies people are waiting for.
        with sending_as(Priority.ANNOUNCEMENT):
            try:
                await self.sync(escalation_id)
            except Exception:
                log.exception("refreshing the card of escalation %s failed", escalation_id)

    async def render(
        self, view: CardView, locale: str, *, choosing_scope: bool = False
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        snap = await self._services.topics.snapshot(view.topic.id)
        officer = None
        if view.hop.escalation.accepted_by is not None:
            user = await self._services.people.user(view.hop.escalation.accepted_by)
            officer = user.display_name if user else str(view.hop.escalation.accepted_by)
        card = escalation_card_view(
            view,
            snap,
            officer=officer,
            now=self._services.clock.now(),
            choosing_scope=choosing_scope,
        )
        return self._renderer.card(locale, card)

    async def sync(self, escalation_id: int) -> None:
        async with self._locks.setdefault(escalation_id, asyncio.Lock()):
            view = await self._services.escalation.card(escalation_id)
            if view is None or view.hop.escalation.card_chat_id is None:
                return
            escalation = view.hop.escalation
            chat_id = escalation.card_chat_id
            assert chat_id is not None
            locale = await self._services.people.chat_locale(chat_id)
            text, markup = await self.render(view, locale)
            digest = fingerprint(text, markup)
            if escalation.card_message_id is not None and digest == escalation.card_hash:
                return
            try:
                message_id = await self._show(
                    chat_id, escalation.card_message_id, text, markup, escalation.is_active
                )
            except TelegramError as error:
                if not await self._refusals.absorb(escalation_id, chat_id, error):
                    raise
                return
            self._refusals.succeeded(escalation_id)
            await self._services.escalation.record_card(escalation_id, chat_id, message_id, digest)

    async def _show(
        self,
        chat_id: int,
        message_id: int | None,
        text: str,
        markup: InlineKeyboardMarkup | None,
        active: bool,
    ) -> int:
        """Edit the card, or post it (again, if it was deleted while active); its id."""
        if message_id is not None:
            try:
                await self._bot.edit_message_text(
                    text,
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
                return message_id
            except BadRequest as error:
                description = str(error).lower()
                if "not modified" in description:
                    return message_id
                if "message to edit not found" not in description:
                    raise
                if not active:
                    return message_id  # a finished card that was deleted stays deleted
        sent = await self._bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
        )
        return sent.message_id
