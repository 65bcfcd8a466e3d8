"""HTTP control API (``/_emu/<action>``) for out-of-process drivers, and its client.

Every action takes JSON keyword arguments (POST body and/or query string) and answers
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}`` (400 for bad input,
404 for unknown things, 408 when a wait timed out).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from emulators.telegram.load import LOAD_ACTIONS
from emulators.telegram.observe import WAIT
from emulators.telegram.world import EmuMessage

if TYPE_CHECKING:
    from emulators.telegram.server import BotApiEmulator

Action = Callable[["BotApiEmulator", dict[str, Any]], Awaitable[Any]]

_DRIVER_ACTIONS = (
    "add_user",
    "add_group",
    "add_bot",
    "remove_bot",
    "block_bot",
    "unblock_bot",
    "add_member",
    "remove_member",
    "set_status",
    "migrate_to_supergroup",
    "announce_migration",
    "create_forum_topic",
    "delete_forum_topic",
    "send_message",
    "edit_message",
    "press_button",
    "press_callback",
    "inject_update",
    "fail_next",
    "slow_next",
    "reset_next",
    "clear_faults",
    "hold",
    "release",
    "chat_messages",
    "bot_messages",
    "message",
    "calls_of",
    "state",
    "wait_idle",
    "wait_for_answer",
    "wait_for_call",
    "answer",
)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


async def _wait_for_bot_message(emu: BotApiEmulator, kw: dict[str, Any]) -> Any:
    contains: str | None = kw.pop("text_contains", None)
    with_buttons: bool = bool(kw.pop("has_buttons", False))

    def predicate(msg: EmuMessage) -> bool:
        body = msg.text if msg.text is not None else (msg.caption or "")
        if contains is not None and contains not in body:
            return False
        return not with_buttons or bool(msg.button_texts())

    return await emu.wait_for_bot_message(predicate=predicate, **kw)


async def _set(emu: BotApiEmulator, kw: dict[str, Any]) -> Any:
    for key in ("latency", "privacy_mode", "callback_ttl", "strict_html"):
        if key in kw:
            setattr(emu, key, kw.pop(key))
    if kw:
        raise TypeError(f"unknown settings {sorted(kw)}")
    return True


async def _calls(emu: BotApiEmulator, kw: dict[str, Any]) -> Any:
    method = kw.get("method")
    calls = emu.calls_of(method) if method else emu.calls
    return calls[int(kw.get("after", 0)) :]


def _generic(name: str) -> Action:
    async def action(emu: BotApiEmulator, kw: dict[str, Any]) -> Any:
        result = getattr(emu, name)(**kw)
        if isinstance(result, Awaitable):
            result = await result
        return result

    return action


ACTIONS: dict[str, Action] = {name: _generic(name) for name in _DRIVER_ACTIONS}
ACTIONS.update(
    {
        "messages": _generic("chat_messages"),
        "wait_for_bot_message": _wait_for_bot_message,
        "set": _set,
        "calls": _calls,
    }
)
ACTIONS.update(LOAD_ACTIONS)  # bulk actions for load drivers


def add_control_routes(app: web.Application, emu: BotApiEmulator) -> None:
    async def handle(request: web.Request) -> web.Response:
        action = ACTIONS.get(request.match_info["action"])
        if action is None:
            return _error(404, f"unknown action {request.match_info['action']!r}")
        kwargs: dict[str, Any] = {}
        for key, raw in request.query.items():
            try:
                kwargs[key] = json.loads(raw)
            except ValueError:
                kwargs[key] = raw
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return _error(400, "body must be a JSON object")
            if not isinstance(body, dict):
                return _error(400, "body must be a JSON object")
            kwargs.update(body)
        try:
            result = await action(emu, kwargs)
        except TimeoutError as exc:
            return _error(408, str(exc))
        except LookupError as exc:
            return _error(404, str(exc.args[0] if exc.args else exc))
        except (TypeError, ValueError) as exc:
            return _error(400, str(exc))
        return web.json_response({"ok": True, "result": _jsonable(result)})

    app.router.add_route("*", "/_emu/{action}", handle)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


class EmulatorError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class EmulatorClient:
    """Async client of the control API, e.g. ``EmulatorClient("http://127.0.0.1:8081")``."""

    def __init__(self, base: str, *, session: aiohttp.ClientSession | None = None) -> None:
        base = base.rstrip("/")
        self.base = base.removesuffix("/_emu")
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def call(self, action: str, **kwargs: Any) -> Any:
        """Invokes ``/_emu/<action>`` with keyword arguments; returns the result."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        wait = float(kwargs.get("timeout", 0) or 0)
        timeout = aiohttp.ClientTimeout(total=wait + 30.0)
        url = f"{self.base}/_emu/{action}"
        async with self._session.post(url, json=kwargs, timeout=timeout) as response:
            body = await response.json()
        if response.status == 408:
            raise TimeoutError(body.get("error"))
        if not body.get("ok"):
            raise EmulatorError(response.status, str(body.get("error")))
        return body.get("result")

    async def add_user(self, user_id: int, first_name: str, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "add_user", user_id=user_id, first_name=first_name, **kwargs
        )
        return result

    async def add_group(self, chat_id: int, title: str, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "add_group", chat_id=chat_id, title=title, **kwargs
        )
        return result

    async def send_message(
        self, chat_id: int, user_id: int, text: str, *, reply_to: int | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "send_message", chat_id=chat_id, user_id=user_id, text=text, reply_to=reply_to
        )
        return result

    async def press_button(
        self, chat_id: int, message_id: int, user_id: int, button_text: str
    ) -> str:
        return str(
            await self.call(
                "press_button",
                chat_id=chat_id,
                message_id=message_id,
                user_id=user_id,
                button_text=button_text,
            )
        )

    async def messages(self, chat_id: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.call("messages", chat_id=chat_id)
        return result

    async def wait_for_bot_message(
        self,
        chat_id: int,
        *,
        after: int = 0,
        timeout: float = WAIT,  # noqa: ASYNC109
        text_contains: str | None = None,
        has_buttons: bool = False,
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "wait_for_bot_message",
            chat_id=chat_id,
            after=after,
            timeout=timeout,
            text_contains=text_contains,
            has_buttons=has_buttons,
        )
        return result

    async def wait_for_answer(
        self,
        callback_query_id: str,
        timeout: float = WAIT,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "wait_for_answer", callback_query_id=callback_query_id, timeout=timeout
        )
        return result

    async def wait_idle(
        self,
        quiet: float = 0.2,
        timeout: float = WAIT,  # noqa: ASYNC109
    ) -> None:
        await self.call("wait_idle", quiet=quiet, timeout=timeout)

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("state")
        return result
