"""Telegram's flood limits, applied to what they limit: sending into chats.

python-telegram-bot's ``AIORateLimiter`` throttles every request that names a chat, reads
included: 30 a second in all and 20 a minute per group. A bot that asks ``getChatMember``
on a voter's first press could then verify only 20 voters a minute per building chat, however
few messages it sends. Reads and answers to button presses are not messages: they go through
unthrottled (still retried after a 429 like the rest).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

UNTHROTTLED = frozenset(
    {
        "answerCallbackQuery",
        "getChat",
        "getChatAdministrators",
        "getChatMember",
        "getChatMemberCount",
        "getFile",
        "getMe",
    }
)


class SendRateLimiter(AIORateLimiter):
    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if endpoint in UNTHROTTLED:
            data = {}  # no chat: neither the overall nor the group limit applies
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
