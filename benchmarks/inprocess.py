"""A bot in this process, its Bot API calls answered in process: by the emulator's world
while setting up, instantly (canned) while measuring. No network, no other process."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from telegram.request import BaseRequest, RequestData

from channels.telegram.transport import ODVInput
from emulators.telegram import ApiError, BotApiEmulator
from emulators.telegram.params import Params, _decode
from emulators.telegram.server import METHODS

# Answered without looking at anything while measuring (what a fast Bot API would say).
INSTANT: dict[str, Any] = {"answerCallbackQuery": True, "editMessageText": True}


class WorldRequest(BaseRequest):
    """``BaseRequest`` answering from an emulator's world, without HTTP."""

    def __init__(self, emu: BotApiEmulator) -> None:
        self.emu = emu
        self.instant = False  # canned answers for INSTANT methods
        self.calls: dict[str, int] = {}
        self._answers: dict[str, asyncio.Future[float]] = {}

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def expect_answer(self, query_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._answers[query_id] = future
        return future

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[1]
        self.calls[name] = self.calls.get(name, 0) + 1
        fields = request_data.json_parameters if request_data else {}
        if name == "answerCallbackQuery":
            future = self._answers.pop(fields.get("callback_query_id", ""), None)
            if future is not None and not future.done():
                future.set_result(asyncio.get_running_loop().time())
        if self.instant and name in INSTANT:
            return 200, b'{"ok":true,"result":%s}' % json.dumps(INSTANT[name]).encode()
        entry = METHODS.get(name.lower())
        if entry is None:
            return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
        params = Params({key: _decode(key, value) for key, value in fields.items()}, {})
        try:
            result = await entry[1](self.emu.world, params)
        except ApiError as error:
            return error.error_code, json.dumps(error.to_json()).encode()
        self.emu.world.changed()
        return 200, json.dumps({"ok": True, "result": result}).encode()
