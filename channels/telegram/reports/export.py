"""/export <id>: the topic's full record as two documents, a CSV table and the vote record.

The vote record (表决记录) is written in light Markdown, which reads as plain text, and sent as
a ``.txt`` with a byte-order mark: staff open it on a phone or in Notepad (older Chinese Windows
reads UTF-8 without the mark as GBK), whereas a ``.md`` file has no program to open it there.
"""

from __future__ import annotations

import functools
from typing import Any

from telegram import ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, filters

from bot.services.errors import Refusal
from bot.services.reports.export import BOM, ExportLabels, render_csv, render_markdown
from bot.services.topics.eligibility import parse_topic_id
from channels.telegram.common import actor_of, answers_refusals, command_text, place_of, thread_of
from channels.telegram.context import AppContext


@answers_refusals
async def export(update: Update, context: AppContext) -> None:
    args = command_text(update).split()
    if len(args) != 1:
        raise Refusal("export.usage")
    services = context.services
    record = await services.export.record(
        actor_of(update, context), place_of(update), parse_topic_id(args[0])
    )
    locale = context.bot_data.translator.resolve(context.locale or context.settings.locale)
    labels = ExportLabels(
        t=functools.partial(context.bot_data.translator.plain, locale),
        zone=context.settings.zone,
        locale=locale,
    )
    chat, message = update.effective_chat, update.effective_message
    assert chat is not None
    reply_to = (
        ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True)
        if message is not None
        else None
    )
    topic = record.topic
    caption = context.t(
        "export.caption_interim" if record.interim else "export.caption",
        id=topic.id,
        title=topic.title[:200],
    )
    files = (
        (f"topic-{topic.id}.csv", render_csv(record, labels), caption),
        (f"topic-{topic.id}.txt", (BOM + render_markdown(record, labels)).encode("utf-8"), None),
    )
    for filename, data, text in files:
        await context.bot.send_document(
            chat_id=chat.id,
            document=data,
            filename=filename,
            caption=text,
            parse_mode=ParseMode.HTML if text else None,
            reply_parameters=reply_to,
            message_thread_id=thread_of(message),
        )


def register(application: Application[Any, AppContext, Any, Any, Any, Any]) -> None:
    application.add_handler(CommandHandler("export", export, filters.UpdateType.MESSAGE))
