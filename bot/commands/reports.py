"""/subscribe, /unsubscribe: a staff chat's daily digest. (/digest itself sends messages and
files of its own on each channel.)"""

from __future__ import annotations

from bot.commands.base import Asked, Reply, said


async def subscribe(asked: Asked) -> Reply:
    added = await asked.services.digest.subscribe(asked.actor, asked.place)
    at = asked.services.settings.digest_time.strftime("%H:%M")
    return said("digest.subscribed" if added else "digest.already_subscribed", time=at)


async def unsubscribe(asked: Asked) -> Reply:
    await asked.services.digest.unsubscribe(asked.actor, asked.place)
    return said("digest.unsubscribed")


COMMANDS = {
    "subscribe": subscribe,
    "unsubscribe": unsubscribe,
}
