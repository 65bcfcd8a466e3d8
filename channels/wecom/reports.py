"""Reports on WeCom: ``@议事 /digest`` answered with the digest as markdown messages of at
most 4096 bytes each (split between items, as the daily one), on the command's req_id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.errors import Refusal
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
