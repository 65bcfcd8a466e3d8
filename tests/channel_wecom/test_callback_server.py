"""The callback server's own rules, with handlers written here in place of the adapter: the
emulated WeCom POSTs over HTTP (its CallbackClient) and shows what the answers make appear.

The first answer to a callback is the reply to WeCom's POST; a second one, or one after the
server stopped waiting, goes through the callback's response_url (once); a card update after
that cannot be made; a stream refresh and a handler that fails are answered empty; a POST that
is not WeCom's envelope is refused with 400.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from yarl import URL

from channels.wecom.callback_server import PATH, CallbackServer
from channels.wecom.crypto import WeComCrypto, signature
from channels.wecom.passive import LateCardUpdate, NoProactiveSend
from emulators.wecom.callback_client import CallbackClient
from emulators.wecom.server import WeComEmulator
from tests.emulator_wecom.conftest import BOT_ID, GROUP, vote_card

TOKEN = "yishiCallbackToken2026"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
Handler = Callable[[CallbackServer, dict[str, Any]], Awaitable[None]]


class Bot:
    """A callback server whose callbacks go to ``handler`` (set by each test)."""

    def __init__(self, emu: WeComEmulator) -> None:
        self.handler: Handler | None = None
        self.frames: list[dict[str, Any]] = []
        self.server = CallbackServer(
            WeComCrypto(TOKEN, AES_KEY),
            self._on_callback,
            host="127.0.0.1",
            port=0,
            clock=emu.clock,
            answer_within=0.5,
        )
        self.emu = emu

    async def _on_callback(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        if self.handler is not None:
            await self.handler(self.server, frame)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}{PATH}"


@pytest.fixture
async def bot(emu: WeComEmulator) -> AsyncIterator[Bot]:
    bot = Bot(emu)
    await bot.server.start()
    emu.attach_callback(
        BOT_ID, CallbackClient(bot.url, WeComCrypto(TOKEN, AES_KEY), clock=emu.clock)
    )
    yield bot
    await bot.server.stop()


def req_id(frame: dict[str, Any]) -> str:
    return str(frame["headers"]["req_id"])


def said(text: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": text}}


def texts(emu: WeComEmulator) -> list[str | None]:
    return [seen.text for seen in emu.world.seen_by("lisi")]


async def test_the_first_answer_is_the_reply_and_the_second_takes_the_response_url(
    bot: Bot, emu: WeComEmulator
) -> None:
    async def twice(server: CallbackServer, frame: dict[str, Any]) -> None:
        await server.respond(req_id(frame), said("一"))
        await server.respond(req_id(frame), said("二"))
        with pytest.raises(NoProactiveSend):  # the response_url is used up
            await server.respond(req_id(frame), said("三"))

    bot.handler = twice
    await emu.mention("zhangsan", GROUP, "/help")
    await emu.wait_for(lambda: len(texts(emu)) == 3)
    assert texts(emu) == ["@议事 /help", "一", "二"]
    # WeCom's passive reply to a message is a stream or a card: the markdown went as a stream.
    assert [seen.msgtype for seen in emu.world.seen_by("lisi")] == ["text", "stream", "markdown"]
    assert bot.frames[0]["cmd"] == "aibot_msg_callback"


async def test_an_answer_after_the_wait_goes_by_the_response_url_and_a_late_update_fails(
    bot: Bot, emu: WeComEmulator
) -> None:
    go_on = asyncio.Event()
    late: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    async def slow(server: CallbackServer, frame: dict[str, Any]) -> None:
        await go_on.wait()
        if frame["cmd"] == "aibot_msg_callback":
            await server.respond(
                req_id(frame), {"msgtype": "template_card", "template_card": vote_card()}
            )
            return
        try:
            await server.update_card(req_id(frame), vote_card())
        except LateCardUpdate as error:
            late.set_result(error)

    bot.handler = slow
    await emu.mention("zhangsan", GROUP, "/topic 加装电梯")  # answered empty in the meantime
    assert texts(emu) == ["@议事 /topic 加装电梯"]
    go_on.set()
    await emu.wait_for(lambda: emu.world.seen_by("lisi")[-1].card is not None)
    go_on.clear()
    await emu.submit_vote("wangwu", "topic_12", ["o1"])
    go_on.set()
    assert isinstance(await asyncio.wait_for(late, 5), LateCardUpdate)
    assert emu.world.seen_by("lisi")[-1].card == vote_card()  # not updated


async def test_a_stream_refresh_and_a_failing_handler_are_answered_empty(
    bot: Bot, emu: WeComEmulator
) -> None:
    async def failing(server: CallbackServer, frame: dict[str, Any]) -> None:
        raise RuntimeError("a bug")

    bot.handler = failing
    client = emu.callback_clients[BOT_ID]
    assert await client.post({"msgid": "M1", "msgtype": "stream", "stream": {"id": "S1"}}) is None
    assert bot.frames == []  # a refresh runs nothing
    issued = await emu.mention("zhangsan", GROUP, "/help")
    assert issued.delivered and len(bot.frames) == 1  # answered (empty), still serving
    bot.handler = None
    assert await client.post({"msgid": "M2", "msgtype": "text", "text": {"content": "hi"}}) is None


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"Encrypt": 5}'])
async def test_a_post_that_is_not_wecoms_envelope_is_refused(bot: Bot, body: bytes) -> None:
    async with aiohttp.ClientSession() as session, session.post(bot.url, data=body) as response:
        assert response.status == 400
        assert "encrypt" in await response.text()
    assert bot.frames == []


async def test_the_url_check_takes_an_echostr_whose_plus_signs_came_unencoded(bot: Bot) -> None:
    crypto = WeComCrypto(TOKEN, AES_KEY)
    echostr = next(
        e for e in (crypto.encrypt("1616140317555161061") for _ in range(200)) if "+" in e
    )
    signed = signature(TOKEN, "1409659589", "263014780", echostr)
    raw = f"{bot.url}?msg_signature={signed}&timestamp=1409659589&nonce=263014780&echostr={echostr}"
    async with aiohttp.ClientSession() as session, session.get(URL(raw, encoded=True)) as response:
        assert response.status == 200
        assert await response.text() == "1616140317555161061"
