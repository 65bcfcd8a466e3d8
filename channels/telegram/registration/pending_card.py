"""A building group's pending registrations (待审核登记) as one card, edited, not one message each.

Every ``/register`` that needs approval and every decision changes the building's card: a
title with the number pending, the first few pending households with approve/reject buttons
each (an inline keyboard stays small however many wait; the rest are counted and move up as
those are decided), and the latest decisions, which is how a resident who never started the
bot learns theirs (one who did is told privately, ``channels.telegram.registration.commands``). The
card is kept in step like ballot messages (``KeptCurrent``: a burst of requests is one edit, and
its edits give way to the group's replies and announcements); its message id and a
fingerprint of what it shows are stored (``registration_cards``), so it survives a restart and
is never edited with what it already shows. A card that shows nothing pending stays as the
record of what was decided; the next request posts a new card below. A card an admin deleted
is posted again at the next change while something is pending.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import ExtBot

from bot.services import Services
from bot.services.registration.service import PendingCard
from bot.services.registration.views import RegistrationCardView, registration_card_view
from channels.telegram.callbacks import RegistrationVerdict
from channels.telegram.delivery.kept_current import KeptCurrent, Shown
from channels.telegram.topics.render import fingerprint
from locales import Html, Translator
from storage.records import FIRST_FOREIGN_ID, RegistrationCard

log = logging.getLogger(__name__)

WITH_BUTTONS = 5  # pending households shown with their buttons; the rest are counted


def area_text(translator: Translator, locale: str, area: Decimal | None) -> str:
    """``89.5㎡``, or "面积未填" when the resident gave none."""
    if area is None:
        return translator.plain(locale, "registration.area_unknown")
    return translator.plain(locale, "registration.area", area=translator.number(locale, area))


class RegistrationCards(KeptCurrent[PendingCard]):
    what = "registration card of building"

    def __init__(
        self, bot: ExtBot[None], services: Services, translator: Translator, *, interval: float
    ) -> None:
        super().__init__(bot, services, interval=interval)
        self._t = translator

    def render(
        self, locale: str, view: RegistrationCardView
    ) -> tuple[Html, InlineKeyboardMarkup | None]:
        t = self._t
        lines = [t(locale, "registration.card_title", count=view.pending)]
        for line in view.shown:
            area = area_text(t, locale, line.area)
            # Plain names, not mentions: a card edited a dozen times should not notify anyone.
            lines.append(
                t(locale, "registration.card_line", unit=line.unit, area=area, user=line.name)
            )
        if view.more:
            lines.append(t(locale, "registration.card_more", count=view.more))
        if not view.pending:
            lines.append(t(locale, "registration.card_none"))
        if view.decided:
            lines.append(t(locale, "registration.card_decided_title"))
            for decided in view.decided:
                key = "card_approved_line" if decided.approved else "card_rejected_line"
                lines.append(t(locale, f"registration.{key}", unit=decided.unit, user=decided.name))
        rows: dict[int, list[InlineKeyboardButton]] = {}  # a unit's approve and reject
        for action in view.actions:
            key = "card_approve_button" if action.approve else "card_reject_button"
            data = RegistrationVerdict(action.registration_id, action.approve).encode()
            rows.setdefault(action.registration_id, []).append(
                InlineKeyboardButton(
                    t.plain(locale, f"registration.{key}", unit=action.unit), callback_data=data
                )
            )
        return Html("\n".join(lines)), InlineKeyboardMarkup(list(rows.values())) if rows else None

    async def _read(self, node_id: int) -> list[Shown[PendingCard]]:
        view = await self._services.registration.pending_card(node_id)
        if view is None or view.chat_id >= FIRST_FOREIGN_ID:
            return []  # no chat, or another platform's: that channel shows the card
        locale = await self._services.people.chat_locale(view.chat_id)
        text, markup = self.render(locale, registration_card_view(view, first=WITH_BUTTONS))
        card = view.card
        showing = card is not None and card.message_id is not None and card.chat_id == view.chat_id
        # A card that showed nothing pending stays as the record: the next request posts anew.
        anew = not showing or (card is not None and card.pending_shown == 0)
        if anew and not view.pending:
            return []  # nothing waits: no card to post
        return [
            Shown(
                post=view,
                chat_id=view.chat_id,
                message_id=card.message_id if card is not None and not anew else None,
                shows=card.rendered_hash if card is not None else None,
                text=text,
                markup=markup,
                fingerprint=fingerprint(text, markup),
                repost=bool(view.pending),  # a deleted card with nothing pending stays deleted
            )
        ]

    async def _record(self, node_id: int, shown: Shown[PendingCard], message_id: int) -> None:
        await self._services.registration.record_card(
            RegistrationCard(
                node_id=node_id,
                chat_id=shown.chat_id,
                message_id=message_id,
                rendered_hash=shown.fingerprint,
                pending_shown=len(shown.post.pending),
            )
        )
