"""The outbox's rows for WeCom chats: decoded, rendered in the chat's language of the moment
(channels/wecom/renderers.py), and sent with ``aibot_send_msg`` (a picture, the weekly chart,
by the chat's push webhook, or else what to do to get it); WeCom's refusals told to the
outbox as retry-or-not (bot/outbox.py)."""

from __future__ import annotations

import logging
from typing import Any

from bot.outbox import DeliveryError
from bot.services import Services
from bot.services.announcements import UnknownAnnouncement, decode, render
from channels.wecom.connection import ConnectionLost, LongConnection, WeComRefused
from channels.wecom.push import PushRefused, PushWebhooks
from channels.wecom.renderers import Target, WeComAnnouncements
from channels.wecom.text import WeComText
from channels.wecom.text import message as message_body
from storage.records import OutboxMessage, Platform

log = logging.getLogger(__name__)

FREQ_OUT_OF_LIMIT = 45009  # 30 a minute and 1000 an hour per conversation
NOT_SUBSCRIBED = 846609
INVALID_CHATID = 93006  # also what the emulator answers for a chat that never wrote (unverified)
RATE_RETRY = 60.0


class WeComAnnouncer:
    def __init__(
        self,
        services: Services,
        connection: LongConnection,
        renderers: WeComAnnouncements,
        text: WeComText,
        pushes: PushWebhooks,
    ) -> None:
        self._services = services
        self._connection = connection
        self._renderers = renderers
        self._text = text
        self._pushes = pushes
        self._refused: dict[int, PushRefused] = {}

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
        # A row of several messages (a digest) is sent whole again after a failure part way.
        told_why = False
        for body in bodies or []:
            if body.get("msgtype") == "image":  # the long connection takes none by base64
                if not await self._push(message.chat_id, body, locale) and not told_why:
                    told_why = True
                    body = message_body(self._why_no_chart(locale, message.chat_id))
                else:
                    continue
            try:
                await self._connection.send(address[1], body)
            except WeComRefused as refused:
                raise _delivery_error(refused) from None
            except ConnectionLost as lost:
                raise DeliveryError(f"WeCom: {lost}") from None
        return 0

    async def _push(self, chat_id: int, body: dict[str, Any], locale: str) -> bool:
        """A picture by the chat's push webhook; False if it has none or it refused."""
        url = await self._services.digest.push_webhook(chat_id)
        self._refused.pop(chat_id, None)
        if url is None:
            return False
        try:
            await self._pushes.send(url, body)
        except PushRefused as refused:
            self._refused[chat_id] = refused
            return False
        return True

    def _why_no_chart(self, locale: str, chat_id: int) -> str:
        refused = self._refused.pop(chat_id, None)
        if refused is None:
            return self._text(locale, "wecom.chart_needs_webhook")
        return self._text(locale, "wecom.chart_refused", errcode=refused.errcode)


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
