"""The WeCom baseline: a bare adapter on Yishi's own long connection that only answers.

The same connection code as Yishi (``channels/wecom/connection.py``: subscribe, ping, acks
matched by req_id), no database, no logic. ``@bot /topic <title>`` is answered with a vote card
of Yishi's three options and option ids; a press on it with that card again (no tally,
nothing stored), on the press's req_id as WeCom requires.

``--cost-us N`` makes each press spend N microseconds of CPU before its answer, a stand-in for
a bot's work: what a bot that answers every press at once, but costs that much, gets
(``benchmarks/wecom_presses.py --cost-curve``).

    python -m benchmarks.bare_wecom --url ws://127.0.0.1:8082/ --bot-id aib_bench --secret ...
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.wecom.connection import ConnectionLost, LongConnection, WeComRefused

OPTIONS = ("同意", "反对", "弃权")


def vote_card(task_id: str, title: str) -> dict[str, Any]:
    return {
        "card_type": "vote_interaction",
        "main_title": {"title": title[:40] or "议题", "desc": "已记录"},
        "checkbox": {
            "question_key": "ballot",
            "mode": 0,
            "option_list": [
                {"id": f"o{index}", "text": option, "is_checked": False}
                for index, option in enumerate(OPTIONS)
            ],
        },
        "submit_button": {"text": "投票", "key": f"bare:{task_id}"},
        "task_id": task_id,
    }


def spend(seconds: float) -> None:
    """Keeps this thread's CPU busy for ``seconds`` of its CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


class BareAdapter:
    def __init__(self, url: str, bot_id: str, secret: str, *, cost: float = 0.0) -> None:
        """``cost``: seconds of CPU each press spends before its answer."""
        self.connection = LongConnection(url, bot_id, secret, self.on_callback)
        self.cost = cost
        self._numbers = itertools.count(1)
        self._cards: dict[str, dict[str, Any]] = {}

    async def on_callback(self, frame: dict[str, Any]) -> None:
        body, req_id = frame.get("body") or {}, frame["headers"]["req_id"]
        try:
            if frame.get("cmd") == "aibot_msg_callback":
                text = str(body.get("text", {}).get("content", ""))
                title = text.partition("/topic")[2].strip()
                task_id = f"bare-{next(self._numbers)}"
                card = self._cards[task_id] = vote_card(task_id, title)
                await self.connection.respond(
                    req_id, {"msgtype": "template_card", "template_card": card}
                )
            elif body.get("event", {}).get("eventtype") == "template_card_event":
                pressed = body["event"]["template_card_event"]
                task_id = str(pressed.get("task_id", ""))
                card = self._cards.get(task_id) or vote_card(task_id, "议题")
                if self.cost:
                    spend(self.cost)
                await self.connection.update_card(req_id, card)
        except (WeComRefused, ConnectionLost):
            pass  # as Yishi does: the next callback goes on


async def serve(url: str, bot_id: str, secret: str, *, cost: float = 0.0) -> None:
    adapter = BareAdapter(url, bot_id, secret, cost=cost)
    await until_signalled(adapter.connection.start, adapter.connection.stop)


async def until_signalled(
    start: Callable[[], Awaitable[object]], stop: Callable[[], Awaitable[object]]
) -> None:
    """``start``, then ``stop`` at SIGTERM or SIGINT (a baseline bot's life)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await start()
    await stopping.wait()
    await stop()


def command_line(description: str | None) -> argparse.ArgumentParser:
    """A baseline bot's command line: its long connection's address, bot id and secret."""
    arguments = argparse.ArgumentParser(description=description)
    arguments.add_argument("--url", required=True)
    arguments.add_argument("--bot-id", required=True)
    arguments.add_argument("--secret", required=True)
    return arguments


def main(
    serving: Callable[[str, str, str], Awaitable[None]] = serve, description: str | None = __doc__
) -> None:
    args = command_line(description).parse_args()
    asyncio.run(serving(args.url, args.bot_id, args.secret))


if __name__ == "__main__":
    arguments = command_line(__doc__)
    arguments.add_argument(
        "--cost-us", type=float, default=0.0, help="CPU each press spends before its answer"
    )
    args = arguments.parse_args()
    asyncio.run(serve(args.url, args.bot_id, args.secret, cost=args.cost_us / 1e6))
