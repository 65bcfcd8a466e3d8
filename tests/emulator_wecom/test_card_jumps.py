"""The WeCom emulator checks a card's jumps as doc 101032 specifies: ``card_action`` (type 1
with its ``url``, 2 with its ``appid``; a text notice only 1 or 2) on notice and button cards,
``jump_list`` (at most 3, each titled) on notice cards; a vote card has neither."""

from __future__ import annotations

import re
from typing import Any

import pytest

from emulators.wecom.cards import check_card
from emulators.wecom.errors import WeComError

BUTTONS: dict[str, Any] = {
    "card_type": "button_interaction",
    "main_title": {"title": "📅 #3 楼栋议事会"},
    "button_list": [{"text": "参加", "style": 1, "key": "meet:3:y"}],
    "task_id": "meeting-3-ab",
}
VOTE: dict[str, Any] = {
    "card_type": "vote_interaction",
    "main_title": {"title": "#12 楼道灯更换"},
    "checkbox": {"question_key": "ballot", "option_list": [{"id": "o0", "text": "同意"}]},
    "submit_button": {"text": "投票", "key": "vote:12"},
    "task_id": "ballot-12-ab",
}
NOTICE: dict[str, Any] = {
    "card_type": "text_notice",
    "main_title": {"title": "通知"},
    "card_action": {"type": 1, "url": "https://yishi.example.org/t/12"},
}


@pytest.mark.parametrize(
    "card",
    [
        {**BUTTONS, "card_action": {"type": 1, "url": "https://yishi.example.org/m/3"}},
        {**BUTTONS, "card_action": {"type": 0}},
        {**BUTTONS, "card_action": {"type": 2, "appid": "wx123", "pagepath": "pages/index"}},
        NOTICE,
        {**NOTICE, "jump_list": [{"type": 1, "title": "网页", "url": "https://yishi.example.org"}]},
        {**NOTICE, "jump_list": [{"type": 3, "title": "问一问", "question": "怎么投票？"}]},
    ],
)
def test_jumps_wecom_accepts(card: dict[str, Any]) -> None:
    check_card(card)


@pytest.mark.parametrize(
    ("card", "says"),
    [
        ({**BUTTONS, "card_action": {"type": 1}}, "card_action.url"),
        ({**BUTTONS, "card_action": {"type": 1, "url": "yishi.example.org"}}, "card_action.url"),
        ({**BUTTONS, "card_action": {"type": 2}}, "card_action.appid"),
        ({**BUTTONS, "card_action": {"type": 5, "url": "https://x.org"}}, "card_action.type"),
        ({**NOTICE, "card_action": {"type": 0}}, "card_action.type"),
        ({**VOTE, "card_action": {"type": 1, "url": "https://x.org"}}, "not a field"),
        (
            {**BUTTONS, "jump_list": [{"type": 1, "title": "网页", "url": "https://x.org"}]},
            "not a field",
        ),
        ({**NOTICE, "jump_list": [{"type": 1, "url": "https://x.org"}]}, "title"),
        ({**NOTICE, "jump_list": [{"type": 1, "title": "网页"}]}, "jump_list[0].url"),
        ({**NOTICE, "jump_list": [{"type": 3, "title": "问", "question": "问" * 100}]}, "question"),
        ({**NOTICE, "jump_list": [{"title": str(n)} for n in range(4)]}, "max count 3"),
    ],
)
def test_jumps_wecom_refuses(card: dict[str, Any], says: str) -> None:
    with pytest.raises(WeComError, match=re.escape(says)):
        check_card(card)
