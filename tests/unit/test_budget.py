"""The outgoing-budget checker (tests/auxil/budget.py) and the emulator's flood control."""

from __future__ import annotations

from channels.telegram.ratelimit import SENDS
from emulators.telegram.floods import FloodLimits, is_message
from emulators.telegram.server import METHODS
from emulators.telegram.world import ApiCall
from tests.auxil.budget import busiest, measure

GROUP, OTHER_GROUP, PRIVATE = -1001, -1002, 42


def send(time: float, chat: int | str = GROUP, method: str = "sendMessage") -> ApiCall:
    return ApiCall(method, {"chat_id": chat, "text": "x"}, time, ok=True)


def test_a_leaky_bucket_burst_is_caught() -> None:
    # What a leaky bucket of 20 a minute admits: 20 at once, then one every ~3 s.
    calls = [send(0.0) for _ in range(20)] + [send(2.95 * n) for n in range(1, 21)]
    budget = measure(calls)
    assert budget.per_group[GROUP].count == 40  # all within 0 .. 59 s
    assert budget.problems() == [f"group {GROUP}: 40 sends+edits within 60 s (0.000 .. 59.000)"]
    assert budget.overall.count == 20  # the burst at t=0: within 25 a second


def test_twenty_a_minute_paced_is_within_the_budget() -> None:
    calls = [send(0.0) for _ in range(20)] + [send(60.001 + 3 * n) for n in range(20)]
    budget = measure(calls)
    assert budget.per_group[GROUP].count == 20
    assert budget.problems() == []


def test_the_window_is_closed_and_slides_over_every_start() -> None:
    assert busiest([0.0, 60.0], 60.0).count == 2  # exactly a period apart: one window
    assert busiest([0.0, 60.001], 60.0).count == 1
    # The busiest window starts at none of the "round" moments: 10.5 .. 70.4
    times = [0.0] + [10.5 + 3 * n for n in range(20)] + [70.4, 80.0]
    peak = busiest(times, 60.0)
    assert (peak.count, peak.start, peak.end) == (21, 10.5, 70.4)


def test_overall_counts_every_chat_per_second() -> None:
    calls = [send(0.5 + n / 100, chat=-2000 - n) for n in range(26)]  # 26 chats, once each
    budget = measure(calls)
    assert budget.overall.count == 26
    assert max(peak.count for peak in budget.per_group.values()) == 1
    assert budget.problems() == ["26 sends+edits within 1 s overall (0.500 .. 0.750)"]
    paced = [send(n * 0.041, chat=-2000 - n) for n in range(100)]  # ~24.4 a second
    assert measure(paced).overall.count == 25
    assert measure(paced).problems() == []


def test_only_messages_count_and_groups_are_apart() -> None:
    calls = (
        [ApiCall("answerCallbackQuery", {"callback_query_id": "1"}, 0.0) for _ in range(50)]
        + [ApiCall("getChatMember", {"chat_id": GROUP, "user_id": 1}, 0.0) for _ in range(50)]
        + [send(0.0, chat=PRIVATE) for _ in range(10)]
        + [send(0.0, chat=OTHER_GROUP, method="editMessageText") for _ in range(10)]
        + [send(0.0, method="sendChatAction") for _ in range(10)]
        + [send(0.0, method="pinChatMessage")]
    )
    budget = measure(calls)
    assert budget.sends == 21
    assert {chat: peak.count for chat, peak in budget.per_group.items()} == {
        OTHER_GROUP: 10,
        GROUP: 1,
    }


def test_calls_answered_429_are_reported_and_since_skips_earlier_calls() -> None:
    refused = ApiCall("sendMessage", {"chat_id": GROUP}, 5.0, ok=False, error_code=429)
    assert measure([send(1.0), refused]).problems() == ["1 calls answered 429 Too Many Requests"]
    assert measure([send(1.0), refused], since=6.0).sends == 0


def test_the_limiter_throttles_every_message_method_the_emulator_knows() -> None:
    known = {name for name, _ in METHODS.values()}
    assert {method for method in known if is_message(method)} <= SENDS
    assert {"sendMessage", "editMessageText", "sendDocument", "pinChatMessage"} <= SENDS
    assert not is_message("sendChatAction")


def test_the_emulator_refuses_a_21st_message_in_a_group_within_a_minute() -> None:
    limits = FloodLimits()
    assert [limits.admit("sendMessage", GROUP, float(n)) for n in range(20)] == [None] * 20
    error = limits.admit("editMessageText", str(GROUP), 30.0)
    assert error is not None and error.error_code == 429
    assert error.parameters == {"retry_after": 30}  # the first leaves the window at 60 s
    assert limits.admit("sendMessage", OTHER_GROUP, 30.0) is None  # another group is free
    assert limits.admit("getChatMember", GROUP, 30.0) is None  # a read is not a message
    assert limits.admit("sendMessage", GROUP, 60.0) is None  # the first one has left
    assert limits.refused == 1


def test_the_emulator_refuses_a_31st_message_in_a_second() -> None:
    limits = FloodLimits()
    for n in range(30):
        assert limits.admit("sendMessage", PRIVATE + n, 10.0 + n / 100) is None
    error = limits.admit("sendMessage", PRIVATE + 99, 10.5)
    assert error is not None and error.parameters == {"retry_after": 1}
    assert limits.admit("sendMessage", PRIVATE + 99, 11.001) is None
