"""The baseline: a stock python-telegram-bot bot that only answers every press.

No database, no logic, PTB's defaults throughout (httpx transport, updates one at a time).
``/topic <title>`` posts a message with the same three buttons Yishi's ballot has, so the
load drivers can press by button text in both bots alike.

    python -m benchmarks.bare_bot --base-url http://127.0.0.1:8081/bot --token 123456:TEST-TOKEN
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

OPTIONS = ("同意", "反对", "弃权")


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("已记录")


async def post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    title = " ".join(context.args or []) or "议题"
    buttons = [
        InlineKeyboardButton(option, callback_data=f"v:{message.chat_id}:{index}")
        for index, option in enumerate(OPTIONS)
    ]
    await message.reply_text(f"📋 {title}", reply_markup=InlineKeyboardMarkup([buttons]))


def build_bare_bot(
    token: str, base_url: str | None = None, **builder_options: Any
) -> Application[Any, Any, Any, Any, Any, Any]:
    builder = Application.builder().token(token)
    if base_url:
        builder = builder.base_url(base_url).base_file_url(base_url[: -len("bot")] + "file/bot")
    for name, value in builder_options.items():
        builder = getattr(builder, name)(value)
    application = builder.build()
    application.add_handler(CommandHandler("topic", post))
    application.add_handler(CallbackQueryHandler(answer))
    return application


def main() -> None:
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--base-url", required=True)
    arguments.add_argument("--token", required=True)
    args = arguments.parse_args()
    build_bare_bot(args.token, args.base_url).run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
