"""Template cards checked as WeCom checks them (required fields, counts, byte limits).

The limits are the AI bot's (doc 101032 and its struct tables): a vote card has 1–20 options,
a button card at most 6 buttons, keys are at most 1024 bytes and option ids 128, a task_id is
``[0-9A-Za-z_-@]``, at most 128 bytes. A card jump (``card_action``: type 1 and its ``url``,
2 and its ``appid``) only on a notice or button card, ``jump_list`` (at most 3, each with a
title) only on a notice card. Lengths given in characters ("建议不超过 N 个字") are
advice, not checked. A refusal is a :class:`WeComError` naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from emulators.wecom.errors import invalid_parameter

TASK_ID = re.compile(r"[0-9A-Za-z_\-@]{1,128}")
KEY_BYTES = 1024
OPTION_ID_BYTES = 128
FEEDBACK_ID_BYTES = 256
MAX_BUTTONS = 6
MAX_VOTE_OPTIONS = 20
MAX_SELECT_LISTS = 3
MAX_SELECT_OPTIONS = 10
MAX_HORIZONTAL = 6
MAX_JUMPS = 3
QUESTION_BYTES = 200
JUMP_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")
INTERACTIVE = frozenset({"button_interaction", "vote_interaction", "multiple_interaction"})
CARD_TYPES = INTERACTIVE | {"text_notice", "news_notice"}
# The card types whose field tables (doc 101032) have a card jump (card_action) and a list of
# jump links (jump_list): a vote or a multiple-choice card has neither.
JUMPS_ON = {
    "card_action": frozenset({"text_notice", "news_notice", "button_interaction"}),
    "jump_list": frozenset({"text_notice", "news_notice"}),
}


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _dict(parent: dict[str, Any], key: str, path: str, *, required: bool = True) -> dict[str, Any]:
    value = parent.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise invalid_parameter(f"{path}.{key} missing or not an object")
    return value


def _list(
    parent: dict[str, Any], key: str, path: str, low: int, high: int, *, required: bool = True
) -> list[Any]:
    value = parent.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise invalid_parameter(f"{path}.{key} missing or not a list")
    if len(value) > high:
        raise invalid_parameter(f"{path}.{key} exceed max count {high}")
    if len(value) < low:
        raise invalid_parameter(f"{path}.{key} needs at least {low}")
    return value


def _text(parent: dict[str, Any], key: str, path: str, max_bytes: int | None = None) -> str:
    value = parent.get(key)
    if not isinstance(value, str) or not value:
        raise invalid_parameter(f"{path}.{key} missing")
    if max_bytes is not None and utf8_len(value) > max_bytes:
        raise invalid_parameter(f"{path}.{key} exceed max length {max_bytes}")
    return value


def _unique(values: list[str], path: str) -> None:
    if len(set(values)) != len(values):
        raise invalid_parameter(f"{path} not unique")


def _options(parent: dict[str, Any], path: str, high: int) -> list[str]:
    options = _list(parent, "option_list", path, 1, high)
    ids = []
    for index, option in enumerate(options):
        where = f"{path}.option_list[{index}]"
        if not isinstance(option, dict):
            raise invalid_parameter(f"{where} not an object")
        ids.append(_text(option, "id", where, OPTION_ID_BYTES))
        _text(option, "text", where)
    _unique(ids, f"{path}.option_list.id")
    return ids


def _selection(item: dict[str, Any], path: str) -> str:
    key = _text(item, "question_key", path, KEY_BYTES)
    ids = _options(item, path, MAX_SELECT_OPTIONS)
    selected = item.get("selected_id")
    if selected is not None and selected not in ids:
        raise invalid_parameter(f"{path}.selected_id not an option")
    return key


def _main_title(card: dict[str, Any], *, required: bool) -> None:
    title = _dict(card, "main_title", "template_card", required=required)
    if required and not isinstance(title.get("title"), str):
        raise invalid_parameter("template_card.main_title.title missing")


def check_card(card: Any, *, require_card_action: bool = True) -> str:
    """The card's type if WeCom would accept ``card``, else a WeComError naming the field."""
    if not isinstance(card, dict):
        raise invalid_parameter("template_card missing or not an object")
    card_type = card.get("card_type")
    if card_type not in CARD_TYPES:
        raise invalid_parameter(f"template_card.card_type {card_type!r} not supported")
    task_id = card.get("task_id")
    if task_id is not None and (not isinstance(task_id, str) or not TASK_ID.fullmatch(task_id)):
        raise invalid_parameter("template_card.task_id invalid")
    if card_type in ("button_interaction", "vote_interaction") and task_id is None:
        raise invalid_parameter("template_card.task_id missing")
    feedback = _dict(card, "feedback", "template_card", required=False)
    if feedback:
        _text(feedback, "id", "template_card.feedback", FEEDBACK_ID_BYTES)
    _list(card, "horizontal_content_list", "template_card", 0, MAX_HORIZONTAL, required=False)
    for field in ("card_action", "jump_list"):
        if field in card and card_type not in JUMPS_ON[field]:
            raise invalid_parameter(f"template_card.{field} is not a field of {card_type}")
    jumps = _list(card, "jump_list", "template_card", 0, MAX_JUMPS, required=False)
    for index, jump in enumerate(jumps):
        _check_jump(jump, f"template_card.jump_list[{index}]")
    if card_type == "button_interaction" and "card_action" in card:
        _check_card_action(_dict(card, "card_action", "template_card"), (0, 1, 2))
    menu = _dict(card, "action_menu", "template_card", required=False)
    if menu:
        _list(menu, "action_list", "template_card.action_menu", 1, 3)
        if task_id is None:
            raise invalid_parameter("template_card.task_id missing (action_menu)")
    if card_type in ("text_notice", "news_notice"):
        _check_notice(card, require_card_action=require_card_action)
    elif card_type == "button_interaction":
        _check_buttons(card)
    elif card_type == "vote_interaction":
        _check_vote(card)
    else:
        _check_multiple(card)
    return str(card_type)


def _check_notice(card: dict[str, Any], *, require_card_action: bool) -> None:
    _main_title(card, required=False)
    if not card.get("main_title", {}).get("title") and not card.get("sub_title_text"):
        raise invalid_parameter("template_card.main_title.title or sub_title_text missing")
    action = _dict(card, "card_action", "template_card", required=require_card_action)
    if action:
        # "text_notice模版卡片中该字段取值范围为[1,2]"
        _check_card_action(action, (1, 2) if card["card_type"] == "text_notice" else (0, 1, 2))


def _jump_url(item: dict[str, Any], path: str) -> None:
    url = item.get("url")
    if not isinstance(url, str) or not JUMP_URL.fullmatch(url):
        raise invalid_parameter(f"{path}.url missing or not an http(s) URL")


def _check_card_action(action: dict[str, Any], types: tuple[int, ...]) -> None:
    """CardAction: ``type`` 0 (or none: no jump), 1 a URL (``url`` required), 2 a mini
    program (``appid`` required)."""
    kind = action.get("type", 0)
    if kind not in types:
        raise invalid_parameter("template_card.card_action.type invalid")
    if kind == 1:
        _jump_url(action, "template_card.card_action")
    elif kind == 2:
        _text(action, "appid", "template_card.card_action")


def _check_jump(jump: Any, path: str) -> None:
    """JumpAction: ``title`` required; ``type`` 0 (not a link), 1 a URL (``url`` required),
    2 a mini program (``appid`` required), 3 a question for the bot (``question``, ≤200
    bytes)."""
    if not isinstance(jump, dict):
        raise invalid_parameter(f"{path} not an object")
    _text(jump, "title", path)
    kind = jump.get("type", 0)
    if kind not in (0, 1, 2, 3):
        raise invalid_parameter(f"{path}.type invalid")
    if kind == 1:
        _jump_url(jump, path)
    elif kind == 2:
        _text(jump, "appid", path)
    elif kind == 3:
        _text(jump, "question", path, QUESTION_BYTES)


def _check_buttons(card: dict[str, Any]) -> None:
    _main_title(card, required=True)
    buttons = _list(card, "button_list", "template_card", 1, MAX_BUTTONS)
    keys = []
    for index, button in enumerate(buttons):
        where = f"template_card.button_list[{index}]"
        if not isinstance(button, dict):
            raise invalid_parameter(f"{where} not an object")
        _text(button, "text", where)
        keys.append(_text(button, "key", where, KEY_BYTES))
        if button.get("style", 1) not in (1, 2, 3, 4):
            raise invalid_parameter(f"{where}.style invalid")
    _unique(keys, "template_card.button_list.key")
    selection = _dict(card, "button_selection", "template_card", required=False)
    if selection:
        _selection(selection, "template_card.button_selection")


def _submit_button(card: dict[str, Any]) -> None:
    submit = _dict(card, "submit_button", "template_card")
    _text(submit, "text", "template_card.submit_button")
    _text(submit, "key", "template_card.submit_button", KEY_BYTES)


def _check_vote(card: dict[str, Any]) -> None:
    _main_title(card, required=True)
    checkbox = _dict(card, "checkbox", "template_card")
    _text(checkbox, "question_key", "template_card.checkbox", KEY_BYTES)
    if checkbox.get("mode", 0) not in (0, 1):
        raise invalid_parameter("template_card.checkbox.mode invalid")
    _options(checkbox, "template_card.checkbox", MAX_VOTE_OPTIONS)
    _submit_button(card)


def _check_multiple(card: dict[str, Any]) -> None:
    _main_title(card, required=True)
    lists = _list(card, "select_list", "template_card", 1, MAX_SELECT_LISTS)
    keys = []
    for index, item in enumerate(lists):
        where = f"template_card.select_list[{index}]"
        if not isinstance(item, dict):
            raise invalid_parameter(f"{where} not an object")
        keys.append(_selection(item, where))
    _unique(keys, "template_card.select_list.question_key")
    _submit_button(card)


def vote_selection(card: dict[str, Any], option_ids: list[str]) -> list[dict[str, Any]]:
    """The ``selected_item`` list a vote card's submit sends, if the person may choose this."""
    checkbox = card.get("checkbox", {})
    if checkbox.get("disable"):
        raise ValueError("the vote is disabled: it cannot be submitted")
    ids = [option["id"] for option in checkbox.get("option_list", [])]
    unknown = [option for option in option_ids if option not in ids]
    if unknown or not option_ids:
        raise ValueError(f"not options of the card: {unknown or 'none chosen'}")
    if checkbox.get("mode", 0) == 0 and len(option_ids) != 1:
        raise ValueError("a single-choice vote takes exactly one option")
    return [{"question_key": checkbox["question_key"], "option_ids": {"option_id": option_ids}}]


def button_keys(card: dict[str, Any]) -> list[str]:
    return [str(button["key"]) for button in card.get("button_list", [])]
