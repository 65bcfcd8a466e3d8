"""Observation API: inspect recorded state and wait (event-driven) for the bot to act."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import Any

from emulators.telegram.world import ApiCall, EmuMessage, World

# How long a test waits for the bot before saying it did not answer: a failure detector, not a
# speed requirement (benchmarks measure speed), so long enough for a machine that runs other
# tests in parallel (pytest-xdist, four workers on two cores, besides whatever else runs there)
# to answer; only a failing test waits that long.
WAIT = 60.0


class Observer:
    """Mixin of :class:`BotApiEmulator` with the observation and waiting API."""

    world: World

    # -- recorded state --------------------------------------------------------------------
    @property
    def calls(self) -> list[ApiCall]:
        """Every Bot API call received (method, params, time, ok/error, result)."""
        return self.world.calls

    def calls_of(self, method: str) -> list[ApiCall]:
        name = method.lower()
        return [c for c in self.world.calls if c.method.lower() == name]

    def chat_messages(self, chat_id: int) -> list[EmuMessage]:
        """All non-deleted messages of a chat (users', bot's and service), by message_id."""
        msgs = self.world.messages.get(chat_id, {})
        return [m for _, m in sorted(msgs.items()) if not m.deleted]

    def bot_messages(self, chat_id: int) -> list[EmuMessage]:
        return [m for m in self.chat_messages(chat_id) if m.from_bot and not m.service]

    def message(self, chat_id: int, message_id: int) -> EmuMessage:
        msg = self.world.message(chat_id, message_id)
        if msg is None:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        return msg

    @property
    def pending_updates(self) -> int:
        """Updates enqueued but not yet confirmed by a getUpdates offset."""
        return len(self.world.updates.pending)

    @property
    def confirmed_offset(self) -> int:
        return self.world.updates.confirmed_offset

    def answer(self, callback_query_id: str) -> dict[str, Any] | None:
        record = self.world.callbacks.get(callback_query_id)
        return record.answer if record else None

    # -- waiting ---------------------------------------------------------------------------
    async def _wait(
        self,
        check: Callable[[], Any],
        timeout: float,  # noqa: ASYNC109
        describe: Callable[[], str],
    ) -> Any:
        """Re-evaluates ``check`` after every state change until it returns non-None."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(describe())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.world.change_event().wait(), remaining)

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = WAIT,  # noqa: ASYNC109
    ) -> None:
        await self._wait(
            lambda: True if predicate() else None,
            timeout,
            lambda: f"condition {predicate!r} still false after {timeout}s\n{self.dump()}",
        )

    async def wait_for_bot_message(
        self,
        chat_id: int,
        *,
        after: int = 0,
        timeout: float = WAIT,  # noqa: ASYNC109
        predicate: Callable[[EmuMessage], bool] | None = None,
    ) -> EmuMessage:
        """The first bot message in the chat with ``message_id > after`` matching predicate."""

        def check() -> EmuMessage | None:
            for msg in self.bot_messages(chat_id):
                if msg.message_id > after and (predicate is None or predicate(msg)):
                    return msg
            return None

        def describe() -> str:
            what = "matching bot message" if predicate else "bot message"
            return (
                f"no {what} in chat {chat_id} with message_id > {after} within {timeout}s\n"
                + self.dump(chat_id)
            )

        result: EmuMessage = await self._wait(check, timeout, describe)
        return result

    async def wait_for_answer(
        self,
        callback_query_id: str,
        timeout: float = WAIT,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The answerCallbackQuery parameters (text, show_alert, url, cache_time)."""
        record = self.world.callbacks.get(callback_query_id)
        if record is None:
            raise LookupError(f"unknown callback query {callback_query_id!r}")
        result: dict[str, Any] = await self._wait(
            lambda: record.answer,
            timeout,
            lambda: (
                f"callback query {callback_query_id} (data={record.data!r}) not answered "
                f"within {timeout}s\n{self.dump(record.chat_id)}"
            ),
        )
        return result

    async def wait_for_call(
        self,
        method: str,
        *,
        after: int = 0,
        timeout: float = WAIT,  # noqa: ASYNC109
        predicate: Callable[[ApiCall], bool] | None = None,
    ) -> ApiCall:
        """The first completed call of ``method`` with index in ``emu.calls`` >= ``after``."""
        name = method.lower()

        def check() -> ApiCall | None:
            for call in self.world.calls[after:]:
                done = call.method.lower() == name and call.ok is not None
                if done and (predicate is None or predicate(call)):
                    return call
            return None

        result: ApiCall = await self._wait(
            check, timeout, lambda: f"no {method} call within {timeout}s\n{self.dump()}"
        )
        return result

    async def wait_idle(
        self,
        quiet: float = 0.2,
        timeout: float = WAIT,  # noqa: ASYNC109
    ) -> None:
        """Waits until every update was fetched and confirmed, no call is in flight and
        nothing happened (getUpdates long polls aside) for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        world = self.world
        while True:
            busy: str | None = None
            quiet_left = 0.0
            if world.updates.pending:
                busy = f"{len(world.updates.pending)} update(s) not fetched/confirmed"
            elif world.inflight:
                busy = f"{world.inflight} Bot API call(s) in flight"
            else:
                quiet_left = world.last_activity + quiet - time.monotonic()
                if quiet_left <= 0:
                    return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"emulator not idle after {timeout}s: {busy or 'still active'}\n{self.dump()}"
                )
            wait = remaining if busy else min(remaining, quiet_left)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(world.change_event().wait(), wait)

    # -- dumps -----------------------------------------------------------------------------
    def dump(self, chat_id: int | None = None, *, last: int = 12) -> str:
        """A readable summary of recent messages and failed calls, for error messages."""
        lines: list[str] = []
        if chat_id is not None:
            msgs = list(self.world.messages.get(chat_id, {}).values())[-last:]
            lines.append(f"chat {chat_id}, last {len(msgs)} message(s):")
            lines += [f"  {m.summary()}" for m in msgs] or ["  (none)"]
        failed = [c for c in self.world.calls if c.ok is False and c.error_code != 499][-5:]
        if failed:
            lines.append("recent failed Bot API calls:")
            lines += [
                f"  {c.method} {c.params!r} -> {c.error_code} {c.description}" for c in failed
            ]
        lines.append(
            f"pending updates: {len(self.world.updates.pending)}, "
            f"confirmed offset: {self.world.updates.confirmed_offset}, "
            f"calls: {len(self.world.calls)}"
        )
        return "\n".join(lines)

    def state(self) -> dict[str, Any]:
        """A JSON-serializable snapshot of the whole world."""
        world = self.world
        return {
            "bot": dataclasses.asdict(world.bot),
            "users": [dataclasses.asdict(u) for u in world.users.values()],
            "chats": [dataclasses.asdict(c) for c in world.chats.values()],
            "messages": {
                str(cid): [message_dict(m) for _, m in sorted(msgs.items())]
                for cid, msgs in world.messages.items()
            },
            "pending_updates": len(world.updates.pending),
            "confirmed_offset": world.updates.confirmed_offset,
            "allowed_updates": world.updates.allowed_updates,
            "commands": [
                {"scope": scope, "language_code": lang, "commands": cmds}
                for (scope, lang), cmds in world.commands.items()
            ],
            "calls": len(world.calls),
        }


def message_dict(msg: EmuMessage) -> dict[str, Any]:
    return dataclasses.asdict(msg)


def call_dict(call: ApiCall) -> dict[str, Any]:
    return dataclasses.asdict(call)
