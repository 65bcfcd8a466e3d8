"""The outbox's rows for WeCom chats: decoded, rendered in the chat's language of the moment
(channels/wecom/renderers.py), and sent (``aibot_send_msg`` on the long connection; in callback
mode through a recent callback's response_url, channels/wecom/passive.py; a picture, the weekly
chart, by the chat's push webhook, or else what to do to get it); WeCom's refusals told to the
outbox as retry-or-not (bot/outbox.py)."""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.outbox import DeliveryError
from bot.outbox_parts import PartsDelivery
from bot.services import Services
from bot.services.announcements import UnknownAnnouncement, decode, render
from channels.wecom.connection import ConnectionLost, WeComRefused
from channels.wecom.push import PushRefused, PushWebhooks
from channels.wecom.renderers import Target, WeComAnnouncements
from channels.wecom.replies import WeComReplies
from channels.wecom.text import WeComText
from channels.wecom.text import message as message_body
from storage.records import OutboxMessage, OutboxPart, PartKind, Platform

log = logging.getLogger(__name__)

FREQ_OUT_OF_LIMIT = 45009  # 30 a minute and 1000 an hour per conversation
NOT_SUBSCRIBED = 846609
INVALID_CHATID = 93006  # also what the emulator answers for a chat that never wrote (unverified)
RATE_RETRY = 60.0


class WeComAnnouncer:
    def __init__(
        self,
        services: Services,
        connection: WeComReplies,
        renderers: WeComAnnouncements,
        text: WeComText,
        pushes: PushWebhooks,
    ) -> None:
        self._services = services
        self._connection = connection
        self._renderers = renderers
        self._parts = PartsDelivery(services.database, services.clock, services.outbox)
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
        if not bodies:
            return 0
        chatid = address[1]
        told_why: list[bool] = []  # whether this delivery said why a picture did not come

        async def send(body: dict[str, Any]) -> None:
            if body.get("msgtype") != "image":
                await self._send(chatid, body)
            elif not await self._push(message.chat_id, body) and not told_why:
                told_why.append(True)  # the long connection takes no picture by base64
                await self._send(chatid, message_body(self._why_no_chart(locale, message.chat_id)))

        if len(bodies) == 1:
            await send(bodies[0])
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

        async def send_part(part: OutboxPart) -> int:
            await send(json.loads(part.text or "{}"))
            return 0

        return await self._parts.deliver(message, rendered, send_part)

    async def _push(self, chat_id: int, body: dict[str, Any]) -> bool:
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
