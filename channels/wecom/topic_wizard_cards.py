"""The guided ``/topic``'s cards on WeCom (channels/wecom/topic_wizard.py asks them): a
draft's current step as a ``button_interaction`` card (at most six buttons; the category from
a drop-down), its preview, and the last card of one that ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.services.errors import Refusal
from bot.services.topics.guided import (
    DEADLINE_DAYS,
    FLAGS,
    RULES,
    STEP_COUNT,
    STEP_NUMBER,
    Action,
    GuidedTopic,
    Step,
)
from bot.services.topics.outcome import HOUSEHOLD_RULES
from bot.services.topics.syntax import (
    DEFAULT_OPTIONS,
    MAX_DEADLINE,
    MAX_DESCRIPTION,
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_TITLE,
    MIN_OPTIONS,
)
from channels.wecom.cards import (
    DESC_BYTES,
    MAX_BUTTONS,
    SUBTITLE_BYTES,
    TITLE_BYTES,
    topic_step_key,
)
from channels.wecom.text import cut
from storage.records import Rule

if TYPE_CHECKING:
    from channels.wecom.adapter import WeComAdapter

CATEGORY = "category"  # the drop-down's question_key
MAX_CHOICES = 10  # WeCom shows ten options in a drop-down
INERT = "tw:0:x:0"  # serial 0 is no draft's: a press on it is told the draft ended


@dataclass(eq=False)
class WeComDraft(GuidedTopic):
    """One officer's unfinished topic for one group."""

    userid: str
    chat_id: int  # the group it is for
    group: str  # that group's node name, as the cards say it
    serial: int
    touched: datetime


def draft_card(
    adapter: WeComAdapter, draft: WeComDraft, task_id: str, error: str = ""
) -> dict[str, Any]:
    """The draft's current step as a button card; ``error``: why the last answer was not
    taken."""
    t, locale, step = adapter.t, draft.locale, draft.step
    title = t.plain(locale, "topic_wizard.header", step=STEP_NUMBER[step], steps=STEP_COUNT)
    facts = [t.plain(locale, "wecom.topic_wizard_for", group=draft.group)]
    if draft.title and step not in (Step.TITLE, Step.PREVIEW):
        facts.append(t.plain(locale, "topic_wizard.title_line", title=draft.title))
    desc = "\n".join([error, *facts] if error else facts)
    if step is Step.PREVIEW:
        body = "\n".join([t.plain(locale, "topic_wizard.ask_preview"), *_preview(adapter, draft)])
    else:
        body = t.plain(
            locale,
            f"topic_wizard.ask_{step.value}",
            title_limit=MAX_TITLE,
            description_limit=MAX_DESCRIPTION,
            least=MIN_OPTIONS,
            most=MAX_OPTIONS,
            option_limit=MAX_OPTION,
            limit_days=MAX_DEADLINE.days,
        )
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": cut(title, TITLE_BYTES), "desc": cut(desc, DESC_BYTES)},
        "sub_title_text": cut(body, SUBTITLE_BYTES),
        "button_list": [
            {"text": cut(text, 40), "style": 1, "key": topic_step_key(draft.serial, action, arg)}
            for text, action, arg in _buttons(adapter, draft)[:MAX_BUTTONS]
        ],
        "task_id": task_id,
    }
    if step is Step.CATEGORY:
        entries = adapter.services.catalogue.discussable()[:MAX_CHOICES]
        card["button_selection"] = {
            "question_key": CATEGORY,
            "title": cut(t.plain(locale, "wecom.pick_category"), TITLE_BYTES),
            "option_list": [
                {"id": f"k{index}", "text": cut(entry.name(locale), 64)}
                for index, entry in enumerate(entries)
            ],
            "selected_id": "k0",
        }
    return card


def _buttons(adapter: WeComAdapter, draft: WeComDraft) -> list[tuple[str, Action, int]]:
    """The step's buttons (at most six), cancel last."""
    t, locale = adapter.t, draft.locale

    def label(key: str, **params: object) -> str:
        return t.plain(locale, f"topic_wizard.{key}", **params)

    buttons: list[tuple[str, Action, int]] = []
    match draft.step:
        case Step.DESCRIPTION:
            buttons.append((label("button_skip"), Action.SKIP, 0))
        case Step.CATEGORY:
            buttons.append((label("button_next"), Action.CATEGORY, 0))
        case Step.OPTIONS:
            defaults = DEFAULT_OPTIONS["zh_CN" if draft.zh else "en"]
            buttons.append((" / ".join(defaults), Action.OPTIONS, 0))
            buttons.append((label("button_custom"), Action.OPTIONS, 1))
        case Step.DEADLINE:
            buttons += [(label(f"button_days_{d}"), Action.DEADLINE, d) for d in DEADLINE_DAYS]
            buttons.append((label("button_custom"), Action.DEADLINE, 0))
        case Step.RULE:
            buttons += [
                (t.plain(locale, f"rules.{rule.value}"), Action.RULE, index)
                for index, rule in enumerate(RULES)
            ]
        case Step.FLAGS:
            for name in draft.flags_offered():
                locked = name == "household" and draft.rule in HOUSEHOLD_RULES
                state = "locked" if locked else ("on" if draft.flag(name) else "off")
                text = label(f"flag_{state}", name=label(f"flag_{name}"))
                buttons.append((text, Action.FLAG, FLAGS.index(name)))
            buttons.append((label("button_next"), Action.NEXT, 0))
        case Step.PREVIEW:
            buttons.append((label("button_publish"), Action.PUBLISH, 0))
            buttons.append((label("button_back"), Action.BACK, 0))
        case _:
            pass
    buttons.append((label("button_cancel"), Action.CANCEL, 0))
    return buttons


def _preview(adapter: WeComAdapter, draft: WeComDraft) -> list[str]:
    """What the ballot will say, as Telegram's preview says it, in plain text."""
    t, locale = adapter.t, draft.locale
    lines = [t.plain(locale, "topic_wizard.preview_title", title=draft.title)]
    if draft.description:
        lines.append(t.plain(locale, "topic_wizard.preview_description", text=draft.description))
    entry = adapter.services.catalogue.find(draft.category) if draft.category else None
    if entry is not None:
        lines.append(t.plain(locale, "topic_wizard.preview_category", category=entry.name(locale)))
    if draft.rule is Rule.OPINION:
        lines.append(t.plain(locale, "topic_wizard.preview_no_options"))
    else:
        options = ("、" if draft.zh else ", ").join(draft.options)
        lines.append(t.plain(locale, "topic_wizard.preview_options", options=options))
    rule = t.plain(locale, f"rules.{draft.rule.value}")
    lines.append(t.plain(locale, "topic_wizard.preview_rule", rule=rule))
    lines += [t.plain(locale, f"topic_wizard.preview_{name}") for name in FLAGS if draft.flag(name)]
    services = adapter.services
    try:
        deadline = draft.deadline(now=services.clock.now(), zone=services.settings.zone)
        lines.append(
            t.plain(locale, "topic_wizard.preview_deadline", deadline=t.when(locale, deadline))
        )
    except Refusal as refusal:  # a typed date-time that has passed meanwhile: publish says so
        lines.append(adapter.refusal_plain(locale, refusal))
    return lines


def ended_card(
    adapter: WeComAdapter, locale: str, key: str, task_id: str, *, title: str = ""
) -> dict[str, Any]:
    """A draft's last card: what became of it, one inert button (a pressed card is answered
    with a card, which needs one)."""
    t = adapter.t
    said = title or t.plain(locale, key)
    return {
        "card_type": "button_interaction",
        "main_title": {"title": cut(said, TITLE_BYTES), "desc": ""},
        "sub_title_text": cut(said, SUBTITLE_BYTES),
        "button_list": [
            {"text": t.plain(locale, "wecom.topic_wizard_done_button"), "style": 2, "key": INERT}
        ],
        "task_id": task_id,
    }
