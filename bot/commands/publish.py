"""/publish on|off: the community's public record page (bot/services/web/public_record.py),
in its staff group."""

from __future__ import annotations

from bot.commands.base import Asked, Reply, UsageError, said
from bot.services.errors import Refusal


async def publish(asked: Asked) -> Reply:
    words = asked.args("publish.usage", at_least=1, at_most=1)
    word = words[0].lower()
    if word not in ("on", "off", "开", "关"):
        raise UsageError("publish.usage")
    on = word in ("on", "开")
    public_url = asked.services.settings.public_url
    if on and public_url is None:
        raise Refusal("publish.no_web")
    node, changed = await asked.services.public_records.publish(asked.actor, asked.place, on=on)
    if not on:
        return said("publish.off" if changed else "publish.already_off")
    url = f"{public_url}/p/{node}"
    return said("publish.on" if changed else "publish.already_on", url=url)


COMMANDS = {"publish": publish}
