"""The opening every button handler shares: decode, stale-button alert, refusals as alerts."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.services.errors import Refusal
from channels.telegram.callbacks import VoteChoice
from channels.telegram.common import button, stale_button
from channels.telegram.topics.commands import vote
from locales import Translator

STALE = {
    "zh_CN": "这个按钮已失效或无法识别，请使用最新的消息。",
    "en": "This button is out of date or not recognised; please use the latest message.",
}
MALFORMED = [None, "", "garbage", "v:12", "v:abc:1", "v:12:1:extra", "w:12:1", "v:" + "9" * 70]


class Press:
    def __init__(self, data: str | None) -> None:
        self.data = data
        self.message = SimpleNamespace(message_id=5)
        self.answers: list[tuple[str | None, bool]] = []

    async def answer(self, text: str | None = None, show_alert: bool = False, **_: Any) -> None:
        self.answers.append((text, show_alert))


def pressed(data: str | None, locale: str) -> tuple[Any, Any, Press]:
    query = Press(data)
    update = SimpleNamespace(callback_query=query, effective_chat=SimpleNamespace(id=-100))
    waited: list[bool] = []

    async def language_known() -> None:
        waited.append(True)

    # No services: a handler body that ran would fail on them.
    context = SimpleNamespace(
        locale=locale,
        bot_data=SimpleNamespace(translator=Translator()),
        settings=SimpleNamespace(zone=ZoneInfo("Asia/Shanghai"), locale="zh_CN"),
        language_known=language_known,
    )
    return update, context, query


class Body:
    def __init__(self, raises: Refusal | None = None) -> None:
        self.ran_with: list[VoteChoice] = []
        self.raises = raises

    async def __call__(self, update: Any, context: Any, query: Any, data: VoteChoice) -> None:
        self.ran_with.append(data)
        if self.raises is not None:
            raise self.raises


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("data", MALFORMED)
async def test_a_malformed_press_gets_the_stale_alert_and_the_body_does_not_run(
    locale: str, data: str | None
) -> None:
    body = Body()
    update, context, query = pressed(data, locale)
    await button(VoteChoice)(body)(update, context)
    assert body.ran_with == []
    assert query.answers == [(STALE[locale], True)]


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_the_vote_button_answers_a_malformed_press_without_voting(locale: str) -> None:
    update, context, query = pressed("v:not-a-topic:1", locale)
    await vote(update, context)
    assert query.answers == [(STALE[locale], True)]


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_a_body_that_finds_the_button_stale_gets_the_same_alert(locale: str) -> None:
    body = Body(raises=stale_button())
    update, context, query = pressed(VoteChoice(12, 1).encode(), locale)
    await button(VoteChoice)(body)(update, context)
    assert body.ran_with == [VoteChoice(12, 1)]
    assert query.answers == [(STALE[locale], True)]


CLOSED = {
    "zh_CN": "议题 #12 已经结束，不能再投票或修改。发送 /result 12 查看结果。",
    "en": "Topic #12 is closed; votes can no longer be cast or changed. "
    "Send /result 12 for the outcome.",
}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_a_refusal_is_an_alert_in_the_pressers_language_without_markup(locale: str) -> None:
    body = Body(raises=Refusal("topics.closed", id=12))
    update, context, query = pressed(VoteChoice(12, 1).encode(), locale)
    await button(VoteChoice)(body)(update, context)
    assert query.answers == [(CLOSED[locale], True)]


async def test_a_good_press_runs_the_body_with_its_data_and_answers_nothing_itself() -> None:
    body = Body()
    update, context, query = pressed(VoteChoice(12, 2).encode(), "en")
    await button(VoteChoice)(body)(update, context)
    assert body.ran_with == [VoteChoice(12, 2)]
    assert query.answers == []
