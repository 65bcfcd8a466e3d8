"""The outbox's rows for WeCom chats: decoded, rendered in the chat's language of the moment
(channels/wecom/renderers.py), and sent (``aibot_send_msg`` on the long connection; in callback
mode through a recent callback's response_url, channels/wecom/passive.py); WeCom's refusals
told to the outbox as retry-or-not (bot/outbox.py)."""

from __future__ import annotations

import logging

from bot.outbox import DeliveryError
from bot.services import Services
from bot.services.announcements import UnknownAnnouncement, decode, render
from channels.wecom.connection import ConnectionLost, WeComRefused
from channels.wecom.renderers import Target, WeComAnnouncements
from channels.wecom.replies import WeComReplies
from storage.records import OutboxMessage, Platform

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
        for body in bodies or []:
            try:
                await self._connection.send(address[1], body)
            except WeComRefused as refused:
                raise _delivery_error(refused) from None
            except ConnectionLost as lost:
                raise DeliveryError(f"WeCom: {lost}") from None
        return 0


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
