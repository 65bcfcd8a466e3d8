"""/invite <单元-房号> (a one-time link and its QR code), /invite all or units and ranges (a
sheet of QR codes to print), /revoke <单元-房号>: household invitations for residents with no
bot (bot/services/invitations/)."""

from __future__ import annotations

import asyncio
from functools import cache

from bot.commands.base import Asked, Reply, ReplyFile, UsageError, said
from bot.services.announcement_texts import Said, Told
from bot.services.errors import Refusal
from bot.services.invitations.printing import (
    SheetEntry,
    SheetWords,
    qr_png,
    sheet_pdf,
    sheet_pngs,
)
from bot.services.invitations.service import INVITATION_TTL, join_link
from bot.services.invitations.units import ALL_WORDS, choose_units
from locales import Translator


@cache
def _translator() -> Translator:
    return Translator()


def _public_url(asked: Asked) -> str:
    public = asked.services.settings.public_url
    if public is None:
        raise Refusal("invitations.web_off")
    return public


def _one_unit(words: list[str]) -> bool:
    return (
        len(words) == 1
        and words[0].casefold() not in ALL_WORDS
        and (len(choose_units(words[0]).units) == 1)
    )


async def invite(asked: Asked) -> Reply:
    public = _public_url(asked)
    words = asked.text.split()
    if not words:
        raise UsageError("invitations.usage")
    services = asked.services
    days = INVITATION_TTL.days
    if _one_unit(words):
        node, issued = await services.invitations.issue(asked.actor, asked.place, words[0])
        link = join_link(public, issued.code)
        told = Told(
            (
                Said(
                    "invitations.issued",
                    {"unit": issued.unit, "building": node.name, "link": link, "days": days},
                ),
            )
        )
        picture = ReplyFile(f"invite-{issued.unit}.png", qr_png(link), picture=True)
        return Reply(told, files=(picture,))
    sheet = await services.invitations.issue_sheet(asked.actor, asked.place, asked.text)
    entries = [SheetEntry(one.unit, join_link(public, one.code)) for one in sheet.invitations]
    instruction = _translator().plain(asked.locale, "invitations.sheet_instruction")
    sheet_words = SheetWords(building=sheet.node.name, instruction=instruction)
    pdf = await asyncio.to_thread(sheet_pdf, entries, sheet_words)  # off the event loop

    async def pictures() -> list[bytes]:
        return await asyncio.to_thread(sheet_pngs, entries, sheet_words)

    document = ReplyFile(f"invitations-{sheet.node.id}.pdf", pdf, picture=False, pictures=pictures)
    told = Told(
        (
            Said(
                "invitations.sheet",
                {
                    "count": len(entries),
                    "building": sheet.node.name,
                    "units": ", ".join(entry.unit for entry in entries[:12])
                    + (" …" if len(entries) > 12 else ""),
                    "days": days,
                },
            ),
        )
    )
    return Reply(told, files=(document,))


async def revoke(asked: Asked) -> Reply:
    words = asked.args("invitations.revoke_usage", at_least=1, at_most=1)
    revoked = await asked.services.invitations.revoke(asked.actor, asked.place, words[0])
    return said(
        "invitations.revoked",
        unit=revoked.unit,
        invitations=revoked.invitations,
        people=revoked.people,
    )


COMMANDS = {"invite": invite, "revoke": revoke}
