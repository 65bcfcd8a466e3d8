"""The outbox's rows for WeCom chats: decoded, rendered in the chat's language of the moment
(channels/wecom/renderers.py), and sent (``aibot_send_msg`` on the long connection; in callback
mode through a recent callback's response_url, channels/wecom/passive.py); WeCom's refusals
told to the outbox as retry-or-not (bot/outbox.py)."""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.outbox import DeliveryError
from bot.outbox_parts import PartsDelivery
from bot.services import Services
from bot.services.announcements import UnknownAnnouncement, decode, render
from channels.wecom.connection import ConnectionLost, WeComRefused
from channels.wecom.renderers import Target, WeComAnnouncements
from channels.wecom.replies import WeComReplies
from storage.records import OutboxMessage, OutboxPart, PartKind, Platform

log = logging.getLogger(__name__)

FREQ_OUT_OF_LIMIT = 45009  # 30 a minute and 1000 an hour per conversation
NOT_SUBSCRIBED = 846609
INVALID_CHATID = 93006  # also what the emulator answers for a chat that never wrote (unverified)
RATE_RETRY = 60.0


class WeComAnnouncer:
    def __init__(
        self, services: Services, connection: WeComReplies, renderers: WeComAnnouncements
    ) -> None:
        self._services = services
        self._connection = connection
        self._renderers = renderers
        self._parts = PartsDelivery(services.database, services.clock, services.outbox)

    async def deliver(self, message: OutboxMessage) -> int:
        try:
            item = decode(message.kind, message.payload)
        except UnknownAnnouncement as error:  # a newer release wrote it: never deliverable
            raise DeliveryError(f"unknown announcement {error}", permanent=True) from None
        async with self._services.database.transaction() as repos:
            address = await repos.chats.address_of(message.chat_id)
        if address is None or address[0] is not Platform.WECOM:
            raise DeliveryError("not a WeCom chat", permanent=True)
        locale = await self._services.people.chat_locale(message.chat_id)
        bodies = await render(self._renderers, item, Target(locale))
        if not bodies:
            return 0
        chatid = address[1]
        if len(bodies) == 1:
            await self._send(chatid, bodies[0])
            return 0
        # Several messages (a digest, a decision and its rating card): each part is marked sent
        # once WeCom took it, so a failure part way (in callback mode: no way to write to the
        # chat until someone writes there) sends only the rest later. A part's text is the
        # body as JSON.
        parts = [
            OutboxPart(seq=seq, kind=PartKind.TEXT, text=json.dumps(body, ensure_ascii=False))
            for seq, body in enumerate(bodies)
        ]

        async def rendered() -> list[OutboxPart]:
            return parts

        return await self._parts.deliver(
            message, rendered, lambda part: self._send_part(chatid, part)
        )

    async def _send_part(self, chatid: str, part: OutboxPart) -> int:
        await self._send(chatid, json.loads(part.text or "{}"))
        return 0

    async def _send(self, chatid: str, body: dict[str, Any]) -> None:
        try:
            await self._connection.send(chatid, body)
        except WeComRefused as refused:
            raise _delivery_error(refused) from None
        except ConnectionLost as lost:
            raise DeliveryError(f"WeCom: {lost}") from None


def _delivery_error(refused: WeComRefused) -> DeliveryError:
    reason = f"WeCom refused: {refused.errcode} {refused.errmsg}"
    if refused.errcode == FREQ_OUT_OF_LIMIT:
        return DeliveryError(reason, retry_after=RATE_RETRY)
    if refused.errcode == NOT_SUBSCRIBED:
        return DeliveryError(reason)
    if refused.errcode == INVALID_CHATID:
        # The chat never wrote to the bot (WeCom sends nothing to it until it does), or it is
        # gone: nothing to retry.
        return DeliveryError(reason, permanent=True)
    return DeliveryError(reason)
