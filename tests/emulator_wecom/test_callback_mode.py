"""Callback mode: WeCom's encrypted, signed POSTs to a bot's URL, and its passive replies.

The bot here is a tiny aiohttp app written in the test on channels/wecom/crypto.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from channels.wecom.crypto import WeComCrypto, WeComCryptoError
from emulators.wecom.callback_client import CallbackClient, CallbackRefused
from emulators.wecom.server import WeComEmulator
from tests.emulator_wecom.conftest import BOT_ID, GROUP, vote_card

TOKEN = "yishiToken"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
Answer = Callable[[dict[str, Any]], dict[str, Any] | None]


class TinyBot:
    """A callback-mode bot: verifies, decrypts, answers with what ``answer`` returns."""

    def __init__(self, crypto: WeComCrypto, answer: Answer, delay: float = 0.0) -> None:
        self.crypto = crypto
        self.answer = answer
        self.delay = delay
        self.reply_nonce: str | None = None  # a reply under another nonce than the callback's
        self.received: list[dict[str, Any]] = []
        self.app = web.Application()
        self.app.router.add_get("/cb", self.verify)
        self.app.router.add_post("/cb", self.callback)

    async def verify(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        q = request.query
        try:
            plain = self.crypto.verify_url(
                q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"]
            )
        except WeComCryptoError:
            return web.Response(status=403)
        return web.Response(text=plain)

    async def callback(self, request: web.Request) -> web.Response:
        q = request.query
        body = await request.json()
        try:
            message = self.crypto.open_json(
                q["msg_signature"], q["timestamp"], q["nonce"], body["encrypt"]
            )
        except WeComCryptoError:
            return web.Response(status=403)
        self.received.append(message)
        reply = self.answer(message)
        if reply is None:
            return web.Response(text="")
        nonce = self.reply_nonce or q["nonce"]
        sealed = self.crypto.seal(json.dumps(reply), q["timestamp"], nonce)
        return web.json_response(sealed.reply_json())


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[TinyBot], Any]]:
    runners: list[web.AppRunner] = []

    async def start(bot: TinyBot) -> str:
        runner = web.AppRunner(bot.app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/cb"

    yield start
    for runner in runners:
        await runner.cleanup()


def stream_reply(message: dict[str, Any]) -> dict[str, Any] | None:
    if message["msgtype"] == "text":
        return {"msgtype": "stream", "stream": {"id": "S1", "finish": True, "content": "收到"}}
    return None


async def test_url_verification_expects_the_plaintext(serve):
    crypto = WeComCrypto(TOKEN, AES_KEY)
    url = await serve(TinyBot(crypto, stream_reply))
    client = CallbackClient(url, crypto)
    assert await client.verify_url("1616140317555161061") == "1616140317555161061"
    other = CallbackClient(url, WeComCrypto("another", AES_KEY))
    with pytest.raises(CallbackRefused, match="403"):
        await other.verify_url()


async def test_url_verification_answered_after_1_s_fails(serve):
    crypto = WeComCrypto(TOKEN, AES_KEY)
    url = await serve(TinyBot(crypto, stream_reply, delay=1.3))
    with pytest.raises(CallbackRefused, match="1 s"):
        await CallbackClient(url, crypto).verify_url()


async def test_a_mention_is_posted_encrypted_and_the_passive_reply_is_shown(
    emu: WeComEmulator, serve
):
    crypto = WeComCrypto(TOKEN, AES_KEY)
    tiny = TinyBot(crypto, stream_reply)
    emu.attach_callback(BOT_ID, CallbackClient(await serve(tiny), crypto, clock=emu.clock))
    issued = await emu.mention("zhangsan", GROUP, "/help")
    assert tiny.received == [issued.body]
    assert tiny.received[0]["text"] == {"content": "@议事 /help"}
    assert [s.text for s in emu.world.seen_by("lisi")] == ["@议事 /help", "收到"]
    assert emu.frames[-1].via == "callback" and emu.frames[-1].errcode == 0


async def test_a_card_press_is_answered_by_a_passive_card_update(emu: WeComEmulator, serve):
    crypto = WeComCrypto(TOKEN, AES_KEY)
    card = vote_card()

    def answer(message: dict[str, Any]) -> dict[str, Any] | None:
        if message["msgtype"] == "text":
            return {"msgtype": "template_card", "template_card": card}
        tally = {**card, "main_title": {"title": "加装电梯", "desc": "1 票"}}
        return {"response_type": "update_template_card", "template_card": tally}

    tiny = TinyBot(crypto, answer)
    emu.attach_callback(BOT_ID, CallbackClient(await serve(tiny), crypto, clock=emu.clock))
    await emu.mention("zhangsan", GROUP, "/topic 加装电梯")
    await emu.submit_vote("wangwu", "topic_12", ["o3"])
    event = tiny.received[-1]["event"]["template_card_event"]
    assert event["selected_items"]["selected_item"][0]["option_ids"] == {"option_id": ["o3"]}
    assert emu.world.seen_by("lisi")[-1].card["main_title"]["desc"] == "1 票"


async def test_a_callback_signed_with_another_token_is_refused_by_the_bot(
    emu: WeComEmulator, serve
):
    tiny = TinyBot(WeComCrypto("another", AES_KEY), stream_reply)
    url = await serve(tiny)
    client = CallbackClient(url, WeComCrypto("another", AES_KEY))
    emu.attach_callback(BOT_ID, client)
    await emu.mention("zhangsan", GROUP, "/help")  # signed alike: the bot accepts and answers
    assert len(tiny.received) == 1
    client.crypto = WeComCrypto(TOKEN, AES_KEY)  # WeCom knows another token than the bot
    with pytest.raises(CallbackRefused, match="403"):
        await emu.mention("zhangsan", GROUP, "/help")
    assert len(tiny.received) == 1  # the bot refused it: nothing run


async def test_a_passive_reply_under_another_nonce_is_refused(emu: WeComEmulator, serve):
    crypto = WeComCrypto(TOKEN, AES_KEY)
    tiny = TinyBot(crypto, stream_reply)
    tiny.reply_nonce = "123"
    emu.attach_callback(BOT_ID, CallbackClient(await serve(tiny), crypto, clock=emu.clock))
    with pytest.raises(CallbackRefused, match="nonce"):
        await emu.mention("zhangsan", GROUP, "/help")
    assert [s.text for s in emu.world.seen_by("lisi")] == ["@议事 /help"]


async def test_an_unfinished_stream_is_refreshed_until_it_finishes(emu: WeComEmulator, serve):
    crypto = WeComCrypto(TOKEN, AES_KEY)

    def answer(message: dict[str, Any]) -> dict[str, Any] | None:
        if message["msgtype"] == "text":
            return {"msgtype": "stream", "stream": {"id": "S9", "finish": False, "content": "1"}}
        assert message["stream"] == {"id": "S9"}  # a refresh names the stream only
        done = {"id": "S9", "finish": True, "content": "已发布：加装电梯"}
        return {"msgtype": "stream", "stream": done}

    tiny = TinyBot(crypto, answer)
    emu.attach_callback(BOT_ID, CallbackClient(await serve(tiny), crypto, clock=emu.clock))
    await emu.mention("zhangsan", GROUP, "/topic 加装电梯")
    assert emu.world.seen_by("lisi")[-1].text == "1"
    assert await emu.refresh_streams() == 1
    assert tiny.received[-1]["msgtype"] == "stream"
    assert tiny.received[-1]["chatid"] == GROUP
    assert emu.world.seen_by("lisi")[-1].text == "已发布：加装电梯"
    assert await emu.refresh_streams() == 0  # finished: no more refreshes


async def test_a_markdown_passive_reply_to_a_message_is_refused(emu: WeComEmulator, serve):
    crypto = WeComCrypto(TOKEN, AES_KEY)
    tiny = TinyBot(crypto, lambda message: {"msgtype": "markdown", "markdown": {"content": "x"}})
    emu.attach_callback(BOT_ID, CallbackClient(await serve(tiny), crypto, clock=emu.clock))
    await emu.mention("zhangsan", GROUP, "/help")
    assert emu.frames[-1].via == "callback" and emu.frames[-1].errcode != 0
    assert [s.text for s in emu.world.seen_by("lisi")] == ["@议事 /help"]
