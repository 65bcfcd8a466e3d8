"""A WeCom group's 消息推送 (push) webhook URL, as /pushwebhook takes it: WeCom's own address
(``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``) or the configured base's (the
emulator's, in tests and demos), with a key and nothing else. The key is a credential: a
refusal never repeats the URL, and what is shown of it is :func:`masked`."""

from __future__ import annotations

import re

from bot.services.errors import Refusal

WEBHOOK_PATH = "/cgi-bin/webhook/send"
_KEY = re.compile(r"[0-9A-Za-z-]{8,64}")
MAX_URL = 512


def push_webhook_url(text: str, base: str) -> str:
    """The URL given, checked; a Refusal that says what a webhook URL looks like otherwise."""
    url = text.strip()
    prefix = f"{base.rstrip('/')}{WEBHOOK_PATH}?key="
    key = url[len(prefix) :] if url.startswith(prefix) else ""
    if len(url) > MAX_URL or not _KEY.fullmatch(key):
        raise Refusal("digest.bad_push_webhook")
    return url


def masked(url: str) -> str:
    """The URL with its key hidden but its last four characters."""
    head, _, key = url.partition("key=")
    return f"{head}key=…{key[-4:]}"
