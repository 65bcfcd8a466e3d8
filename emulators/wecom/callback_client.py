"""WeCom in callback mode: POSTs encrypted, signed callbacks to a bot's URL, reads its replies.

As WeCom does: URL verification is a GET with ``msg_signature``, ``timestamp``, ``nonce`` and
``echostr`` that must be answered with the plaintext within 1 s; a callback is a POST of
``{"encrypt": ...}`` with the same query; the answer is empty or a passive reply
``{"encrypt", "msgsignature", "timestamp", "nonce"}`` with the callback's nonce.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from channels.wecom.crypto import WeComCrypto, WeComCryptoError, signature

VERIFY_TIMEOUT = 1.0  # "需要在1秒内响应"
POST_TIMEOUT = 5.0  # the general callback rule; not restated for AI bots (unverified)


class CallbackRefused(Exception):
    """The bot's URL did not answer as WeCom requires (status, time, or a bad reply)."""


class CallbackClient:
    """Plays WeCom against one bot's callback URL, with its token and EncodingAESKey."""

    def __init__(
        self,
        url: str,
        crypto: WeComCrypto,
        *,
        clock: Callable[[], float] = time.time,
        post_timeout: float = POST_TIMEOUT,
    ) -> None:
        self.url = url
        self.crypto = crypto
        self.clock = clock
        self.post_timeout = post_timeout
        self.replies: list[dict[str, Any]] = []  # every decrypted passive reply, in order

    def _signed_query(self, encrypt: str) -> tuple[dict[str, str], str]:
        timestamp = str(int(self.clock()))
        nonce = str(secrets.randbelow(10**10))
        query = {
            "msg_signature": signature(self.crypto.token, timestamp, nonce, encrypt),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        return query, nonce

    async def verify_url(self, plaintext: str | None = None) -> str:
        """The URL check WeCom makes when the URL is saved; returns the plaintext echoed.

        Raises CallbackRefused unless the answer is exactly the plaintext, within 1 s.
        """
        expected = plaintext if plaintext is not None else str(secrets.randbelow(10**19))
        echostr = self.crypto.encrypt(expected)
        query, _ = self._signed_query(echostr)
        query["echostr"] = echostr
        timeout = aiohttp.ClientTimeout(total=VERIFY_TIMEOUT)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(self.url, params=query) as response,
            ):
                text = await response.text()
                status = response.status
        except TimeoutError as error:
            raise CallbackRefused("no answer to the URL verification within 1 s") from error
        if status != 200 or text != expected:
            raise CallbackRefused(f"URL verification answered {status} {text[:80]!r}")
        return text

    async def post(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """POSTs ``message`` encrypted; returns the decrypted passive reply (None if empty)."""
        sealed = self.crypto.seal(
            json.dumps(message, ensure_ascii=False, separators=(",", ":")),
            str(int(self.clock())),
            str(secrets.randbelow(10**10)),
        )
        timeout = aiohttp.ClientTimeout(total=self.post_timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(
                    self.url, params=sealed.query(), json={"encrypt": sealed.encrypt}
                ) as response,
            ):
                text = await response.text()
                status = response.status
        except TimeoutError as error:
            raise CallbackRefused(f"no answer within {self.post_timeout} s") from error
        if status != 200:
            raise CallbackRefused(f"the callback was answered {status}")
        if not text.strip():
            return None  # "回复空包"
        try:
            reply = json.loads(text)
            if not isinstance(reply, dict):
                raise ValueError("not an object")
            if str(reply.get("nonce")) != sealed.nonce:
                raise CallbackRefused("the passive reply does not carry the callback's nonce")
            decrypted = json.loads(self.crypto.open_reply(reply))
        except (ValueError, WeComCryptoError) as error:
            raise CallbackRefused(f"unreadable passive reply: {error}") from error
        if not isinstance(decrypted, dict):
            raise CallbackRefused("the passive reply is not a JSON object")
        self.replies.append(decrypted)
        return decrypted or None  # an encrypted {} says nothing
