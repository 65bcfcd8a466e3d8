"""/subscribe, /unsubscribe, /digest, and sending a digest (also for the daily outbox)."""

from __future__ import annotations

import asyncio

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from bot.services.digest import Digest, WeeklySeries
from bot.services.digest_chart import ChartLabels, chart_pages, render_chart
from handlers.common import actor_of, answers_refusals, place_of, reply
from handlers.context import AppContext
from handlers.digest_render import DigestRenderer
from locales import Translator


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
    """Send the digest's messages (split between items), its CSV and its chart, in forum
    topic ``thread_id`` if given (``/digest`` sent in one); the first message's id."""
    rendered = renderer.render(locale, digest)
    first = 0
    for text in rendered.messages:
        sent = await bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, message_thread_id=thread_id
        )
        first = first or sent.message_id
    period = digest.until.astimezone(renderer.zone).date().isoformat()
    if rendered.csv is not None:
        name = translator.plain(locale, "digest.csv_file", period=period)
        await bot.send_document(
            chat_id, InputFile(rendered.csv, filename=name), message_thread_id=thread_id
        )
    if digest.weekly is not None and digest.weekly.grids:
        await _send_chart(bot, chat_id, thread_id, locale, digest.weekly, translator, period)
    return first


async def _send_chart(
    bot: ExtBot[None],
    chat_id: int,
    thread_id: int | None,
    locale: str,
    weekly: WeeklySeries,
    translator: Translator,
    period: str,
) -> None:
    """The weekly chart, one picture per page of grids (each page says which of how many)."""
    pages = chart_pages(weekly.grids)
    for number, grids in enumerate(pages, 1):
        suffix = (
            translator.plain(locale, "digest.chart_page", page=number, pages=len(pages))
            if len(pages) > 1
            else ""
        )
        labels = ChartLabels(
            title=translator.plain(locale, "digest.chart_title") + suffix,
            opened=translator.plain(locale, "digest.chart_opened"),
            resolved=translator.plain(locale, "digest.chart_resolved"),
            turnout=translator.plain(locale, "digest.chart_turnout"),
        )
        chart = await asyncio.to_thread(render_chart, weekly, labels, grids)
        name = f"digest-{period}-{number}.png" if len(pages) > 1 else f"digest-{period}.png"
        await bot.send_photo(
            chat_id,
            InputFile(chart.png, filename=name),
            caption=translator.plain(locale, "digest.chart_caption") + suffix,
            message_thread_id=thread_id,
        )


@answers_refusals
async def subscribe(update: Update, context: AppContext) -> None:
    added = await context.services.digest.subscribe(actor_of(update, context), place_of(update))
    at = context.settings.digest_time.strftime("%H:%M")
    key = "digest.subscribed" if added else "digest.already_subscribed"
    await reply(update, context, context.t(key, time=at))


@answers_refusals
async def unsubscribe(update: Update, context: AppContext) -> None:
    await context.services.digest.unsubscribe(actor_of(update, context), place_of(update))
    await reply(update, context, context.t("digest.unsubscribed"))


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
