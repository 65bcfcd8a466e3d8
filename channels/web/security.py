"""What keeps a browser honest: the session cookie signed, a CSRF token on every form, and
sign-in attempts counted.

The cookie carries the session's secret token and an HMAC of it under the deployment's key
(``WebSessionService.cookie_key``): a cookie not made here is refused before the database is
asked. A CSRF token is an HMAC of what the browser holds (its session token, or before sign-in
a random "pre-session" value in its own cookie), so a page of another site cannot make one.
Attempts are counted in this process's memory: a restart forgets them, and several processes
would each count their own (Yishi runs one per database).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import deque
from collections.abc import Callable
from functools import lru_cache

SEPARATOR = "."


def _mac(key: str, purpose: str, value: str) -> str:
    message = f"{purpose}:{value}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


# Every request of a signed-in browser brings the same cookie and is answered with the same
# CSRF token: both computed once (bounded; a forged cookie costs one entry, as it would cost an
# HMAC without the cache).
MEMO = 100_000


def sign(key: str, token: str) -> str:
    """The cookie's value for ``token``."""
    return f"{token}{SEPARATOR}{_mac(key, 'cookie', token)}"


@lru_cache(maxsize=MEMO)
def unsign(key: str, value: str | None) -> str | None:
    """The token a cookie carries, or None if the cookie was not signed with ``key``."""
    if not value or SEPARATOR not in value:
        return None
    token, _, mac = value.rpartition(SEPARATOR)
    if not token or not hmac.compare_digest(mac, _mac(key, "cookie", token)):
        return None
    return token


@lru_cache(maxsize=MEMO)
def csrf_token(key: str, binding: str) -> str:
    """The token every form of a page carries, bound to what this browser holds."""
    return _mac(key, "csrf", binding)


def csrf_ok(key: str, binding: str | None, token: str | None) -> bool:
    if not binding or not token:
        return False
    return hmac.compare_digest(token, csrf_token(key, binding))


class Attempts:
    """At most ``limit`` attempts per key (a client address, a code) in ``window`` seconds."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._seen: dict[str, deque[float]] = {}

    def allow(self, *keys: str) -> bool:
        """Whether one more attempt is allowed for every key; counted if it is."""
        now = self._clock()
        windows = []
        for key in keys:
            seen = self._seen.setdefault(key, deque())
            while seen and now - seen[0] > self.window:
                seen.popleft()
            windows.append(seen)
        if any(len(seen) >= self.limit for seen in windows):
            return False
        for seen in windows:
            seen.append(now)
        if len(self._seen) > 10_000:  # forget the quiet ones: memory stays bounded
            for key in [k for k, v in self._seen.items() if not v]:
                del self._seen[key]
        return True
