"""Reports on WeCom: ``@议事 /digest`` answered with the digest as markdown messages of at
most 4096 bytes each (split between items, as the daily one), on the command's req_id; and
``@议事 /pushwebhook``, the staff group's push webhook that the weekly chart comes by."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.errors import Refusal
from bot.services.reports.push_webhook import masked
from channels.wecom.digest import WeComDigest

if TYPE_CHECKING:
    from channels.wecom.adapter import Message, WeComAdapter


async def digest(adapter: WeComAdapter, msg: Message) -> None:
    who, services = msg.who, adapter.services
    try:
        composed = await services.digest.on_demand(who.actor, who.place)
    except Refusal as refusal:
        await adapter.answer(msg, adapter.refusal(who.locale, refusal))
        return
    for part in WeComDigest(adapter.t, services.catalogue).messages(who.locale, composed):
        await adapter.answer(msg, part)


OFF = frozenset({"off", "关闭", "取消"})


async def pushwebhook(adapter: WeComAdapter, msg: Message) -> None:
    """``/pushwebhook <url>`` or ``/pushwebhook off`` in the community staff group (its
    officers): where the weekly chart goes. The answer shows the URL with its key hidden."""
    who, services = msg.who, adapter.services
    given = msg.text.strip()
    base = services.settings.wecom_webhook_base
    answer: str
    try:
        if not given:
            answer = adapter.t(who.locale, "digest.push_webhook_usage")
        else:
            off = given.lower() in OFF
            url = await services.digest.set_push_webhook(
                who.actor, who.place, None if off else given, base=base
            )
            if url is None:
                answer = adapter.t(who.locale, "digest.push_webhook_removed")
            else:
                answer = adapter.t(who.locale, "digest.push_webhook_set", url=masked(url))
    except Refusal as refusal:
        answer = adapter.refusal(who.locale, refusal)
    await adapter.answer(msg, answer)
