"""Escalation cards kept in step with the database (``KeptCurrent``).

A card is posted in the receiving node's chat when a matter arrives, and edited when its
state changes (taken on, resolved, sent further up), at once (no interval: a card changes a
few times in its life) and as an announcement, not a refresh. Its buttons live only while the
hop is active. After a restart every active card is synced once, so a card whose posting was
interrupted is posted then.

A card an admin deleted is posted again at the next change while its matter is still the
node's to act on (its buttons are how officers take it on), and stays deleted once the hop is
over.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup
from telegram.ext import ExtBot

from bot.services import Services
from bot.services.escalation.views import CardView, escalation_card_view
from channels.telegram.delivery.kept_current import KeptCurrent, Shown
from channels.telegram.escalation.render import EscalationRenderer
from channels.telegram.ratelimit import Priority
from channels.telegram.topics.render import fingerprint


class EscalationCards(KeptCurrent[CardView]):
    what = "escalation card"

    def __init__(self, bot: ExtBot[None], services: Services, renderer: EscalationRenderer) -> None:
        # A card is an announcement: it waits behind the replies people are waiting for.
        super().__init__(bot, services, interval=0.0, priority=Priority.ANNOUNCEMENT)
        self._renderer = renderer

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

    async def _read(self, escalation_id: int) -> list[Shown[CardView]]:
        view = await self._services.escalation.card(escalation_id)
        if view is None or view.hop.escalation.card_chat_id is None:
            return []
        escalation = view.hop.escalation
        chat_id = escalation.card_chat_id
        assert chat_id is not None
        locale = await self._services.people.chat_locale(chat_id)
        text, markup = await self.render(view, locale)
        return [
            Shown(
                post=view,
                chat_id=chat_id,
                message_id=escalation.card_message_id,
                shows=escalation.card_hash,
                text=text,
                markup=markup,
                fingerprint=fingerprint(text, markup),
                repost=escalation.is_active,
            )
        ]

    async def _record(self, escalation_id: int, shown: Shown[CardView], message_id: int) -> None:
        await self._services.escalation.record_card(
            escalation_id, shown.chat_id, message_id, shown.fingerprint
        )
