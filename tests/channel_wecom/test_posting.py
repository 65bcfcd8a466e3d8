"""A post of several messages to a WeCom chat that failed part way: the next sync sends only
the rest, so the chat sees each message once."""

from __future__ import annotations

from typing import Any

from channels.wecom.connection import ConnectionLost
from channels.wecom.posting import PostedOnce, Unposted

MESSAGE = {"msgtype": "markdown", "markdown": {"content": "📋 #1 加装电梯"}}
CARD = {"msgtype": "template_card", "template_card": {"task_id": "ballot-1"}}


class Chat:
    """What a WeCom chat received; the card's first send is lost with the connection."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_card = True

    async def respond(self, req_id: str, body: dict[str, Any]) -> None:
        raise AssertionError("not a reply")

    async def update_card(
        self, req_id: str, card: dict[str, Any], userids: list[str] | None = None
    ) -> None:
        raise AssertionError("not a press")

    async def send(self, chatid: str, body: dict[str, Any]) -> None:
        if body is CARD and self.fail_card:
            self.fail_card = False
            raise ConnectionLost("the connection dropped")
        self.received.append(body)


class Ballots(PostedOnce):
    def __init__(self, chat: Chat) -> None:
        super().__init__(chat)
        self.recorded: list[int] = []

    async def _unposted(self, key: int) -> list[Unposted]:
        if self.recorded:
            return []
        return [Unposted(7, "wrBuilding", (MESSAGE, CARD))]

    async def _record(self, key: int, chat_id: int) -> None:
        self.recorded.append(chat_id)


async def test_a_post_failed_part_way_sends_only_the_rest_next_time() -> None:
    chat = Chat()
    ballots = Ballots(chat)
    await ballots.sync(1)
    assert chat.received == [MESSAGE] and ballots.recorded == []  # the card did not go
    await ballots.sync(1)
    assert chat.received == [MESSAGE, CARD] and ballots.recorded == [7]
    await ballots.sync(1)
    assert chat.received == [MESSAGE, CARD]  # posted: nothing more
