"""A WeCom emulator with one corp, and a minimal long-connection client written for the tests."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from emulators.wecom.behaviour import Behaviour
from emulators.wecom.server import WeComEmulator

BOT_ID = "aib_yishi"
SECRET = "s3cret-long-connection"
GROUP = "wrGrid0001"  # a grid group: zhangsan, lisi, wangwu and the bot


class Clock:
    """Wall-clock seconds the test moves by hand (WeCom's 5 s and 24 h windows)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class BotClient:
    """A bot on the long connection: sends frames, matches acks by req_id, queues pushes."""

    _numbers = itertools.count(1)

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self.session = session
        self.ws = ws
        self.pushes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.closed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, url: str) -> BotClient:
        session = aiohttp.ClientSession()
        ws = await session.ws_connect(url, autoping=True)
        return cls(session, ws)

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                frame = json.loads(message.data)
                if "cmd" in frame:
                    await self.pushes.put(frame)
                    continue
                future = self._acks.pop(frame["headers"]["req_id"], None)
                if future is not None and not future.done():
                    future.set_result(frame)
        finally:
            self.closed.set()

    async def send(self, cmd: str, body: dict[str, Any] | None = None, req_id: str = "") -> str:
        req_id = req_id or f"{cmd}_{next(self._numbers)}"
        self._acks[req_id] = asyncio.get_running_loop().create_future()
        frame: dict[str, Any] = {"cmd": cmd, "headers": {"req_id": req_id}}
        if body is not None:
            frame["body"] = body
        await self.ws.send_str(json.dumps(frame, ensure_ascii=False))
        return req_id

    async def ack(self, req_id: str, timeout: float = 3.0) -> dict[str, Any]:  # noqa: ASYNC109
        return await asyncio.wait_for(self._acks[req_id], timeout)

    async def call(
        self, cmd: str, body: dict[str, Any] | None = None, req_id: str = ""
    ) -> dict[str, Any]:
        """Sends a frame and returns its ack."""
        return await self.ack(await self.send(cmd, body, req_id))

    async def subscribe(self, bot_id: str = BOT_ID, secret: str = SECRET) -> dict[str, Any]:
        return await self.call("aibot_subscribe", {"bot_id": bot_id, "secret": secret})

    async def next_push(self, timeout: float = 3.0) -> dict[str, Any]:  # noqa: ASYNC109
        return await asyncio.wait_for(self.pushes.get(), timeout)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        await self.session.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def emu(clock: Clock) -> AsyncIterator[WeComEmulator]:
    emulator = WeComEmulator(behaviour=Behaviour(kick_close_delay=0.2), clock=clock)
    emulator.add_bot(BOT_ID, SECRET)
    for userid, name in (("zhangsan", "张三"), ("lisi", "李四"), ("wangwu", "王五")):
        emulator.add_person(userid, name)
    emulator.add_group(GROUP, "三网格工作群", ["zhangsan", "lisi", "wangwu"])
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def bot(emu: WeComEmulator) -> AsyncIterator[BotClient]:
    """The bot, connected and subscribed."""
    client = await BotClient.connect(emu.ws_url)
    assert (await client.subscribe())["errcode"] == 0
    yield client
    await client.close()


def vote_card(task_id: str = "topic_12", options: int = 3, mode: int = 0) -> dict[str, Any]:
    return {
        "card_type": "vote_interaction",
        "main_title": {"title": "加装电梯", "desc": "三天内表决"},
        "checkbox": {
            "question_key": "vote",
            "mode": mode,
            "option_list": [{"id": f"o{i}", "text": f"选项{i}"} for i in range(1, options + 1)],
        },
        "submit_button": {"text": "投票", "key": "submit_12"},
        "task_id": task_id,
    }


def button_card(task_id: str = "esc_7", buttons: int = 4) -> dict[str, Any]:
    names = ["受理", "发起网格表决", "解决", "上报社区", "五", "六", "七"]
    return {
        "card_type": "button_interaction",
        "main_title": {"title": "上报：楼道堆物"},
        "button_list": [
            {"text": names[i], "style": 1, "key": f"esc:7:{i}"} for i in range(buttons)
        ],
        "task_id": task_id,
    }
