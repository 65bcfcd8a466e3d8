"""The sliding-window send budget (channels/telegram/ratelimit.py), with Telegram's numbers scaled
down to fractions of a second so that a minute's behaviour shows in a moment. Each request goes
through ``SendRateLimiter.process_request`` as python-telegram-bot sends it; the "Bot API"
records when each call arrived, and the budget checker of the reliability suites reads those
times."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter

import channels.telegram.ratelimit as ratelimit
from channels.telegram.ratelimit import Priority, SendRateLimiter, sending_as, yield_to_other_sends
from tests.auxil.budget import busiest

GROUP, PRIVATE = -1001, 42


class FakeApi:
    """Records (method, chat, arrival time) of every call; may answer 429 first."""

    def __init__(self, refuse: int = 0, refusal_takes: float = 0.0) -> None:
        self.calls: list[tuple[str, Any, float]] = []
        self.refuse = refuse
        self.refusal_takes = refusal_takes

    async def call(self, endpoint: str, data: dict[str, Any]) -> bool:
        self.calls.append((endpoint, data.get("chat_id"), asyncio.get_running_loop().time()))
        if self.refuse:
            self.refuse -= 1
            await asyncio.sleep(self.refusal_takes)
            raise RetryAfter(0)
        await asyncio.sleep(0.001)  # a round trip
        return True

    def times(self, method: str | None = None) -> list[float]:
        return [time for name, _, time in self.calls if method in (None, name)]

    def order(self) -> list[str]:
        return [name for name, _, _ in self.calls]


def request(
    limiter: BaseRateLimiter[Any], api: FakeApi, method: str, chat: Any = GROUP
) -> Awaitable[Any]:
    data = {"chat_id": chat} if chat is not None else {}
    return limiter.process_request(api.call, (method, data), {}, method, data, None)


@pytest.fixture
def scaled(monkeypatch: pytest.MonkeyPatch) -> None:
    """A group: 5 sends per 0.3 s, coalesced edits filling it to 4 at most, 0.05 s apart;
    a private chat: 2 per 0.1 s; the bot: 8 per 0.1 s."""
    monkeypatch.setattr(ratelimit, "GROUP", (5, 0.3, 4, 0.05))
    monkeypatch.setattr(ratelimit, "PRIVATE", (2, 0.1, 2, 0.0))
    monkeypatch.setattr(ratelimit, "OVERALL", (8, 0.1, 6, 0.0))


@pytest.mark.usefixtures("scaled")
async def test_a_group_never_gets_more_than_its_limit_in_any_window() -> None:
    api = FakeApi()
    limiter = SendRateLimiter()
    await asyncio.gather(*(request(limiter, api, "sendMessage") for _ in range(16)))
    assert len(api.calls) == 16  # every send went out: waiting, not dropping
    assert busiest(api.times(), 0.3).count == 5


async def test_a_leaky_bucket_lets_a_burst_through_where_the_window_does_not() -> None:
    api = FakeApi()
    bucket = AIORateLimiter(overall_max_rate=0, group_max_rate=5, group_time_period=1.0)
    await asyncio.gather(*(request(bucket, api, "sendMessage") for _ in range(8)))
    # 5 at once, then one every 0.2 s: all 8 within 0.6 s, where a window allows 5.
    assert busiest(api.times(), 1.0).count > 5


@pytest.mark.usefixtures("scaled")
async def test_all_chats_together_stay_within_the_overall_limit() -> None:
    api = FakeApi()
    limiter = SendRateLimiter()
    chats = [GROUP - n for n in range(20)] + [PRIVATE + n for n in range(20)]
    await asyncio.gather(*(request(limiter, api, "sendMessage", chat) for chat in chats))
    assert len(api.calls) == 40
    assert busiest(api.times(), 0.1).count == 8


@pytest.mark.usefixtures("scaled")
async def test_a_private_chat_has_its_own_smaller_window() -> None:
    api = FakeApi()
    limiter = SendRateLimiter()
    await asyncio.gather(*(request(limiter, api, "sendMessage", PRIVATE) for _ in range(6)))
    assert busiest(api.times(), 0.1).count == 2


async def waiting_for(limiter: SendRateLimiter, count: int) -> None:
    for _ in range(1000):
        if limiter.waiting >= count:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"{limiter.waiting} sends waiting, not {count}")


@pytest.mark.usefixtures("scaled")
async def test_coalesced_edits_give_way_to_other_sends_in_the_chat() -> None:
    api = FakeApi()
    limiter = SendRateLimiter()
    await asyncio.gather(*(request(limiter, api, "sendMessage") for _ in range(5)))  # full

    # what channels/telegram/delivery/coalesce.py marks its tasks with
    async def refresh_loop() -> None:
        yield_to_other_sends()
        await asyncio.gather(*(request(limiter, api, "editMessageText") for _ in range(3)))

    edits = asyncio.create_task(refresh_loop())
    await waiting_for(limiter, 3)  # the edits wait for a place first...
    replies = asyncio.gather(*(request(limiter, api, "sendMessage") for _ in range(3)))
    await asyncio.gather(edits, replies)
    # ...but the replies that came after them go first when places free.
    assert api.order()[5:] == ["sendMessage"] * 3 + ["editMessageText"] * 3
    assert busiest(api.times(), 0.3).count == 5


@pytest.mark.usefixtures("scaled")
async def test_replies_go_before_announcements_and_announcements_before_refreshes() -> None:
    api = FakeApi()
    limiter = SendRateLimiter()
    await asyncio.gather(*(request(limiter, api, "sendMessage") for _ in range(5)))  # full

    async def refresh_loop() -> None:
        yield_to_other_sends()
        await request(limiter, api, "editMessageText")

    async def announce() -> None:  # what the outbox's deliveries are marked with
        with sending_as(Priority.ANNOUNCEMENT):
            await asyncio.gather(*(request(limiter, api, "sendDocument") for _ in range(2)))

    queued = [asyncio.create_task(refresh_loop())]
    await waiting_for(limiter, 1)
    queued.append(asyncio.create_task(announce()))
    await waiting_for(limiter, 3)
    queued.append(asyncio.create_task(request(limiter, api, "sendMessage")))  # a reply, last
    await asyncio.gather(*queued)
    # Queued last, the reply goes first; the refresh waits for everything else.
    assert api.order()[5:] == ["sendMessage", "sendDocument", "sendDocument", "editMessageText"]
    assert busiest(api.times(), 0.3).count == 5


@pytest.mark.usefixtures("scaled")
async def test_a_reply_retried_after_a_429_goes_before_the_sends_queued_meanwhile() -> None:
    api = FakeApi()
    limiter = SendRateLimiter(max_retries=1)
    await asyncio.gather(*(request(limiter, api, "sendDocument") for _ in range(4)))
    api.refuse, api.refusal_takes = 1, 0.02
    refused = asyncio.create_task(request(limiter, api, "sendMessage"))  # the 5th place
    await asyncio.sleep(0.005)
    # Queued while the refused reply is in flight, for the places the window frees next.
    later = [asyncio.create_task(request(limiter, api, "editMessageText")) for _ in range(3)]
    await asyncio.gather(refused, *later)
    assert api.order()[4:] == ["sendMessage", "sendMessage"] + ["editMessageText"] * 3


@pytest.mark.usefixtures("scaled")
async def test_coalesced_edits_alone_leave_room_for_a_reply() -> None:
    api = FakeApi()
    limiter = SendRateLimiter()

    async def refresh_loop() -> None:
        yield_to_other_sends()
        await asyncio.gather(*(request(limiter, api, "editMessageText") for _ in range(8)))

    await refresh_loop()
    assert busiest(api.times(), 0.3).count == 4  # one place of 5 always left for a reply
    reply = asyncio.create_task(request(limiter, api, "sendMessage"))
    await asyncio.sleep(0)
    assert limiter.waiting == 0  # it went at once
    await reply


@pytest.mark.usefixtures("scaled")
async def test_a_send_from_a_refresh_loop_and_an_edit_elsewhere_do_not_yield() -> None:
    api = FakeApi()
    limiter = SendRateLimiter()

    async def refresh_loop() -> None:
        yield_to_other_sends()  # a ballot message posted by the loop is a send like any
        await asyncio.gather(*(request(limiter, api, "sendMessage") for _ in range(5)))

    await asyncio.gather(refresh_loop(), request(limiter, api, "editMessageText"))
    assert busiest(api.times(), 0.3).count == 5  # six went at the full rate, not three


@pytest.mark.usefixtures("scaled")
async def test_reads_and_callback_answers_are_never_held_back() -> None:
    api = FakeApi()
    limiter = SendRateLimiter()
    await asyncio.gather(*(request(limiter, api, "sendMessage") for _ in range(5)))
    waiting = asyncio.create_task(request(limiter, api, "sendMessage"))
    await asyncio.sleep(0)
    assert limiter.waiting == 1  # the group's window is full
    await asyncio.gather(
        *(request(limiter, api, "getChatMember") for _ in range(50)),
        *(request(limiter, api, "answerCallbackQuery", None) for _ in range(50)),
        *(request(limiter, api, "deleteMessage") for _ in range(10)),
    )
    assert not waiting.done()  # the 110 went past the send still waiting
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert limiter.waiting == 0
    assert api.order().count("sendMessage") == 5  # a cancelled send is never made


@pytest.mark.usefixtures("scaled")
async def test_a_429_is_retried_after_retry_after_and_holds_the_chat_back() -> None:
    api = FakeApi(refuse=1)
    limiter = SendRateLimiter(max_retries=2)
    first = asyncio.create_task(request(limiter, api, "sendMessage"))
    await asyncio.sleep(0.005)
    second = asyncio.create_task(request(limiter, api, "sendMessage"))
    assert await first is True and await second is True
    refused, retried, then = api.times()
    assert retried - refused >= 0.1  # retry_after 0 s + 0.1 s
    assert then >= retried  # the chat was held back meanwhile, not only the refused send
    with pytest.raises(RetryAfter):
        await request(SendRateLimiter(), FakeApi(refuse=1), "sendMessage")
    api = FakeApi(refuse=1)
    assert await request(SendRateLimiter(max_retries=1), api, "answerCallbackQuery", None)
    assert len(api.calls) == 2


@pytest.mark.usefixtures("scaled")
async def test_quiet_chats_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "OVERALL", (10_000, 0.1, 10_000, 0.0))
    api = FakeApi()
    limiter = SendRateLimiter()
    for batch in range(3):
        chats = range(PRIVATE + 1000 * batch, PRIVATE + 1000 * batch + 1000)
        await asyncio.gather(*(request(limiter, api, "sendMessage", chat) for chat in chats))
        await asyncio.sleep(0.11)  # their windows empty
    assert len(api.calls) == 3000
    assert limiter.tracked_chats <= 2048
