"""/digest, and sending a digest (also for the daily outbox)."""

from __future__ import annotations

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from bot.services.reports.digest import Digest, WeeklySeries
from channels.common.charts import weekly_charts
from channels.telegram.common import actor_of, answers_refusals, place_of
from channels.telegram.context import AppContext
from channels.telegram.reports.digest_render import DigestRenderer
from locales import Translator
from storage.records import OutboxPart, PartKind


async def digest_parts(
    locale: str, digest: Digest, renderer: DigestRenderer, translator: Translator
) -> list[OutboxPart]:
    """The digest's messages (split between items), its CSV and its chart (one picture per
    page of grids, each saying which of how many), in order."""
    rendered = renderer.render(locale, digest)
    parts = [
        OutboxPart(seq=seq, kind=PartKind.TEXT, text=text)
        for seq, text in enumerate(rendered.messages)
    ]
    period = digest.until.astimezone(renderer.zone).date().isoformat()
    if rendered.csv is not None:
        name = translator.plain(locale, "digest.csv_file", period=period)
        parts.append(
            OutboxPart(seq=len(parts), kind=PartKind.DOCUMENT, filename=name, data=rendered.csv)
        )
    if digest.weekly is not None and digest.weekly.grids:
        parts += await _chart_parts(locale, digest.weekly, translator, period, first=len(parts))
    return parts


async def _chart_parts(
    locale: str, weekly: WeeklySeries, translator: Translator, period: str, *, first: int
) -> list[OutboxPart]:
    parts = []
    for page in await weekly_charts(locale, weekly, translator):
        name = f"digest-{period}-{page.number}.png" if page.pages > 1 else f"digest-{period}.png"
        parts.append(
            OutboxPart(
                seq=first + page.number - 1,
                kind=PartKind.PHOTO,
                filename=name,
                data=page.png,
                text=translator.plain(locale, "digest.chart_caption") + page.suffix,
            )
        )
    return parts


async def send_part(
    bot: ExtBot[None], chat_id: int, part: OutboxPart, thread_id: int | None = None
) -> int:
    """Send one part of a digest (in forum topic ``thread_id`` if given); its Telegram id."""
    if part.kind == PartKind.TEXT:
        sent = await bot.send_message(
            chat_id, part.text or "", parse_mode=ParseMode.HTML, message_thread_id=thread_id
        )
    elif part.kind == PartKind.DOCUMENT:
        sent = await bot.send_document(
            chat_id,
            InputFile(part.data or b"", filename=part.filename),
            message_thread_id=thread_id,
        )
    else:
        sent = await bot.send_photo(
            chat_id,
            InputFile(part.data or b"", filename=part.filename),
            caption=part.text,
            message_thread_id=thread_id,
        )
    return sent.message_id


async def send_digest(
    bot: ExtBot[None],
    chat_id: int,
    locale: str,
    digest: Digest,
    renderer: DigestRenderer,
    translator: Translator,
    *,
    thread_id: int | None = None,
) -> int:
    """Send the whole digest at once (``/digest``: a reply, in the forum topic ``thread_id``
    it was asked from, if any); returns the first message's id."""
    first = 0
    for part in await digest_parts(locale, digest, renderer, translator):
        sent = await send_part(bot, chat_id, part, thread_id)
        first = first or sent
    return first


@answers_refusals
async def digest_now(update: Update, context: AppContext) -> None:
    place = place_of(update)
    digest = await context.services.digest.on_demand(actor_of(update, context), place)
    await send_digest(
        context.bot,
        place.chat_id,
        context.locale or context.settings.locale,
        digest,
        context.runtime.digest_renderer,
        context.bot_data.translator,
        thread_id=place.thread_id,
    )
