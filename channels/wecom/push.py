"""A WeCom group's 消息推送 (push) webhook: how the weekly chart and an exported file reach a
group, since the AI bot's long connection takes a picture or a file only by a media_id it
cannot upload.

A picture goes as an ``image`` message (base64 and the md5 of its bytes, at most 2 MB) by
POST to the URL the group's officers gave (/pushwebhook); a file is first uploaded to the
webhook's ``upload_media`` (multipart, 5 B to 20 MB; the media_id serves that webhook for
3 days), then sent as a ``file`` message. WeCom takes 20 messages a minute per webhook (an
upload is no message): a sender waits its turn rather than be refused. The URL carries the webhook's
key, a credential: it is never logged (only :func:`~bot.services.reports.push_webhook.masked`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import logging
import time
from collections import deque
from typing import Any

import aiohttp

from bot.services.reports.push_webhook import masked

log = logging.getLogger(__name__)

PER_MINUTE = 20
MAX_IMAGE = 2 * 1024 * 1024
MIN_FILE, MAX_FILE = 5, 20 * 1024 * 1024
TIMEOUT = 10.0


def image_body(png: bytes) -> dict[str, Any]:
    """A picture as a webhook ``image`` message."""
    return {
        "msgtype": "image",
        "image": {
            "base64": base64.b64encode(png).decode("ascii"),
            "md5": hashlib.md5(png).hexdigest(),
        },
    }


def file_body(media_id: str) -> dict[str, Any]:
    """An uploaded file as a webhook ``file`` message."""
    return {"msgtype": "file", "file": {"media_id": media_id}}


def upload_url(url: str) -> str:
    """The webhook's upload address: ``…/webhook/send?key=K`` → ``…/webhook/upload_media?key=K``
    (``&type=file``)."""
    base, _, query = url.partition("?")
    return f"{base.removesuffix('/send')}/upload_media?{query}&type=file"


class PushRefused(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class PushWebhooks:
    """Posts to push webhooks, each within its 20 messages a minute."""

    def __init__(self) -> None:
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def send(self, url: str, body: dict[str, Any]) -> None:
        """Post ``body``; PushRefused with WeCom's errcode (or -1: unreachable)."""
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            await self._turn(url)
            await _post(url, url, json=body)

    async def send_file(self, url: str, filename: str, data: bytes) -> None:
        """Upload ``data`` as ``filename`` and post it as a file message; PushRefused as
        :meth:`send` (40006, as WeCom answers, for a size it does not take)."""
        if not MIN_FILE <= len(data) <= MAX_FILE:
            raise PushRefused(40006, "invalid media size")
        form = aiohttp.FormData()
        media = io.BytesIO(data)  # aiohttp takes large bytes only as a stream
        form.add_field("media", media, filename=filename, content_type="application/octet-stream")
        answer = await _post(url, upload_url(url), data=form)
        await self.send(url, file_body(str(answer.get("media_id", ""))))

    async def _turn(self, url: str) -> None:
        sent = self._sent.setdefault(url, deque())
        now = time.monotonic()
        while sent and now - sent[0] >= 60:
            sent.popleft()
        if len(sent) >= PER_MINUTE:
            await asyncio.sleep(60 - (now - sent[0]))
            sent.popleft()
        sent.append(time.monotonic())


async def _post(url: str, to: str, **payload: Any) -> dict[str, Any]:
    """POST to webhook ``url``'s address ``to``; WeCom's answer, or PushRefused. Only the
    masked URL is ever logged."""
    try:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(to, **payload) as response,
        ):
            answer = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        log.warning("push webhook %s unreachable: %s", masked(url), type(error).__name__)
        raise PushRefused(-1, type(error).__name__) from None
    errcode = int(answer.get("errcode", -1)) if isinstance(answer, dict) else -1
    if errcode != 0:
        errmsg = str(answer.get("errmsg", "")) if isinstance(answer, dict) else ""
        log.warning("push webhook %s refused: %s %s", masked(url), errcode, errmsg)
        raise PushRefused(errcode, errmsg)
    assert isinstance(answer, dict)
    return answer
