"""Answering WeCom in callback mode: the passive reply, and the callbacks' ``response_url``.

In callback mode WeCom POSTs each callback and takes the bot's first answer as the HTTP
response (the passive reply: a stream or a card for a message, ``update_template_card`` for a
press, which only this answer can carry, within 5 s). Each message and press callback also
brings a ``response_url``: one further markdown or card in that chat, within an hour
(docs: D-101138). So:

- ``respond`` / ``update_card`` on a callback still being answered become its passive reply
  (a markdown answer as a finished stream: WeCom's passive reply to a message is a stream or
  a card);
- a second or late answer to a message goes through that callback's own ``response_url``;
  a late card update cannot be made at all (WeCom allows none after the press's answer);
- ``send`` (what the long connection does with ``aibot_send_msg``) has no equivalent: WeCom
  documents no way for a callback-mode AI bot to write first. It uses an unused
  ``response_url`` of the chat's callbacks of the last hour (the one expiring first), and
  otherwise raises :class:`NoProactiveSend`, which the outbox retries: a WeCom chat in
  callback mode hears an announcement after someone there next writes to the bot.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from channels.wecom.connection import ConnectionLost, WeComRefused
from channels.wecom.replies import EncodedCard

log = logging.getLogger(__name__)

RESPONSE_URL_TTL = 3600.0  # "有效期为1小时"
RESPONSE_URL_MARGIN = 60.0  # not used in its last minute: the clocks may differ
POST_TIMEOUT = 10.0
REMEMBERED_CHATS = 4096
ROUTES_PER_CHAT = 30  # WeCom's 30 messages a minute per conversation: more could not be used

Clock = Callable[[], float]


class NoProactiveSend(ConnectionLost):
    """Callback mode cannot write to this chat now: no unused response_url of the last hour."""


class LateCardUpdate(ConnectionLost):
    """A press's card update came after its passive reply was given: WeCom takes no other."""


@dataclass
class _Route:
    """A callback's response_url: one message into its chat, until it expires."""

    url: str
    at: float
    used: bool = False


@dataclass
class _Answering:
    """A callback being answered: its passive reply, once given, and its route."""

    address: str
    route: _Route | None
    reply: asyncio.Future[dict[str, Any] | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def address_of(body: dict[str, Any]) -> str:
    """The chat a callback came from, as ``send`` names it: the chatid, or the userid in a
    single chat."""
    if body.get("chattype") == "group":
        return str(body.get("chatid", ""))
    sender = body.get("from")
    return str(sender.get("userid", "")) if isinstance(sender, dict) else ""


def _passive(body: dict[str, Any]) -> dict[str, Any]:
    """A message's passive reply: WeCom takes a stream or a card there, not markdown
    (D-101031), so markdown goes as a stream finished at once (its content is markdown too)."""
    if body.get("msgtype") != "markdown":
        return body
    markdown = body.get("markdown")
    content = markdown.get("content", "") if isinstance(markdown, dict) else ""
    stream = {"id": f"answer_{secrets.token_hex(8)}", "finish": True, "content": content}
    return {"msgtype": "stream", "stream": stream}


class PassiveReplies:
    """:class:`~channels.wecom.replies.WeComReplies` for callback mode."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._answering: dict[str, _Answering] = {}
        # address -> the response_urls of its callbacks, oldest first
        self._routes: OrderedDict[str, deque[_Route]] = OrderedDict()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- the callback server's side ----------------------------------------------------------
    def expect(self, req_id: str, body: dict[str, Any]) -> asyncio.Future[dict[str, Any] | None]:
        """A callback is being answered under ``req_id``: its passive reply will be this."""
        address = address_of(body)
        url = body.get("response_url")
        route = _Route(url, self._clock()) if isinstance(url, str) and url else None
        if route is not None and address:
            self._routes.setdefault(address, deque(maxlen=ROUTES_PER_CHAT)).append(route)
            self._routes.move_to_end(address)
            while len(self._routes) > REMEMBERED_CHATS:
                self._routes.popitem(last=False)
        answering = _Answering(address, route)
        self._answering[req_id] = answering
        return answering.reply

    def close_reply(self, req_id: str) -> None:
        """The passive reply went (or its time passed): later answers take the route."""
        answering = self._answering.get(req_id)
        if answering is not None and not answering.reply.done():
            answering.reply.set_result(None)

    def forget(self, req_id: str) -> None:
        """The callback's handling ended."""
        self.close_reply(req_id)
        self._answering.pop(req_id, None)

    # -- WeComReplies ------------------------------------------------------------------------
    async def respond(self, req_id: str, body: dict[str, Any]) -> None:
        answering = self._answering.get(req_id)
        if answering is None:
            raise ConnectionLost(f"no callback {req_id} is being answered")
        if not answering.reply.done():
            answering.reply.set_result(_passive(body))
            return
        await self._post(answering.route, body, f"a further answer to {req_id}")

    async def update_card(
        self, req_id: str, card: dict[str, Any] | EncodedCard, userids: list[str] | None = None
    ) -> None:
        if isinstance(card, EncodedCard):  # the reply is encrypted whole: the dict is wanted
            card = card.card
        body: dict[str, Any] = {"response_type": "update_template_card", "template_card": card}
        if userids:
            body["userids"] = userids
        answering = self._answering.get(req_id)
        if answering is None or answering.reply.done():
            raise LateCardUpdate(f"the card update for {req_id} came after its answer was given")
        answering.reply.set_result(body)

    async def send(self, chatid: str, body: dict[str, Any]) -> None:
        route = self._usable_route(chatid)
        if route is None:
            log.warning(
                "WeCom callback mode cannot send to chat %s now: WeCom lets a callback-mode bot "
                "write only in answer to a callback (aibot_send_msg is the long connection's); "
                "it goes out with the response_url of the next message someone there writes to "
                "the bot (the outbox tries again), or run on the long connection",
                chatid,
            )
            raise NoProactiveSend(f"no way to write to WeCom chat {chatid} in callback mode now")
        await self._post(route, body, f"a message to chat {chatid}")

    # -- response_url ------------------------------------------------------------------------
    def _usable_route(self, chatid: str) -> _Route | None:
        """The chat's unused response_url that expires first (each message to the bot lets
        one message out)."""
        routes = self._routes.get(chatid)
        while routes and (routes[0].used or self._expired(routes[0])):
            routes.popleft()
        for route in routes or ():
            if not route.used:
                return route
        return None

    def _expired(self, route: _Route) -> bool:
        return self._clock() - route.at > RESPONSE_URL_TTL - RESPONSE_URL_MARGIN

    async def _post(self, route: _Route | None, body: dict[str, Any], what: str) -> None:
        if route is None or route.used or self._expired(route):
            raise NoProactiveSend(f"{what}: its callback's response_url is used or expired")
        route.used = True  # one use, whatever WeCom answers
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT))
        try:
            async with self._session.post(route.url, json=body) as response:
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise ConnectionLost(f"{what}: response_url failed ({error!r})") from error
        if not isinstance(answer, dict):
            raise WeComRefused("response_url", -1, f"unexpected answer {str(answer)[:80]!r}")
        errcode = answer.get("errcode", 0)
        if errcode != 0:
            code = errcode if isinstance(errcode, int) else -1
            raise WeComRefused("response_url", code, str(answer.get("errmsg", "")))
