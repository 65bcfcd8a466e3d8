"""The guided ``/topic`` on Telegram: the wizard (the steps, the draft and the checks are
bot/services/topics/guided.py's, shared with WeCom) and how each step looks here.

No handlers here (they are in ``channels/telegram/topics/wizard.py``). A wizard lives in memory
only, so a restart drops unfinished wizards; nothing is stored until the officer presses "publish".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalogue import Catalogue
from bot.services.topics.guided import (
    ACTIONS_AT,
    DEADLINE_DAYS,
    FLAGS,
    RULES,
    STEP_COUNT,
    STEP_NUMBER,
    TEXT_STEPS,
    Action,
    GuidedTopic,
    Step,
    choose,
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
from channels.telegram.wizard import WizardPress, WizardSession
from locales import Html, Translator
from storage.records import Rule

__all__ = ["ACTIONS_AT", "Action", "Step", "choose"]  # what the handlers (wizard.py) take


@dataclass(frozen=True, slots=True)
class WizardButton(WizardPress):
    """A press on a topic wizard message."""

    PREFIX: ClassVar[str] = "tw"


@dataclass(eq=False)
class Wizard(WizardSession, GuidedTopic):
    """One officer's unfinished topic in one chat ("scope = all" is offered above buildings)."""

    TEXT_STEPS = TEXT_STEPS
    PREVIEW = Step.PREVIEW
    step: Step = field(default=Step.TITLE, kw_only=True)  # WizardSession's, its first value

    def button(self, action: Action, arg: int = 0) -> str:
        return WizardButton(self.owner, self.serial, action.value, arg).encode()


# ---- how each step looks ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Look:
    """What a step is rendered with: the translator, the catalogue, the zone, now."""

    t: Translator
    catalogue: Catalogue
    zone: ZoneInfo
    now: datetime


def view(
    wizard: Wizard, look: Look, *, error: Html | None = None, deadline: datetime | None = None
) -> tuple[Html, InlineKeyboardMarkup]:
    """The wizard message at its current step, with the reason a typed answer was refused."""
    t, locale, step = look.t, wizard.locale, wizard.step
    parts: list[str] = [t(locale, "topic_wizard.header", step=STEP_NUMBER[step], steps=STEP_COUNT)]
    if wizard.title and step not in (Step.TITLE, Step.PREVIEW):
        parts.append(t(locale, "topic_wizard.title_line", title=wizard.title))
    if error is not None:
        parts.append(error)
    if step is Step.PREVIEW:
        assert deadline is not None
        parts.append(t(locale, "topic_wizard.ask_preview"))
        parts.append(preview(wizard, look, deadline))
    else:
        parts.append(_prompt(wizard, look))
    return Html("\n\n".join(parts)), InlineKeyboardMarkup(_buttons(wizard, look))


def _prompt(wizard: Wizard, look: Look) -> Html:
    return look.t(
        wizard.locale,
        f"topic_wizard.ask_{wizard.step.value}",
        title_limit=MAX_TITLE,
        description_limit=MAX_DESCRIPTION,
        least=MIN_OPTIONS,
        most=MAX_OPTIONS,
        option_limit=MAX_OPTION,
        limit_days=MAX_DEADLINE.days,
    )


def preview(wizard: Wizard, look: Look, deadline: datetime) -> Html:
    """What the ballot will say: title, description, category, options, rule, flags, deadline."""
    t, locale = look.t, wizard.locale
    lines: list[str] = [t(locale, "topic_wizard.preview_title", title=wizard.title)]
    if wizard.description:
        lines.append(t(locale, "topic_wizard.preview_description", text=wizard.description))
    entry = look.catalogue.find(wizard.category) if wizard.category else None
    if entry is not None:
        lines.append(t(locale, "topic_wizard.preview_category", category=entry.name(locale)))
    if wizard.rule is Rule.OPINION:
        lines.append(t(locale, "topic_wizard.preview_no_options"))
    else:
        separator = "、" if wizard.zh else ", "
        lines.append(
            t(locale, "topic_wizard.preview_options", options=separator.join(wizard.options))
        )
    lines.append(
        t(locale, "topic_wizard.preview_rule", rule=t.plain(locale, f"rules.{wizard.rule.value}"))
    )
    for name in FLAGS:
        if wizard.flag(name):
            lines.append(t(locale, f"topic_wizard.preview_{name}"))
    when = t.datetime(locale, deadline, look.zone)
    lines.append(t(locale, "topic_wizard.preview_deadline", deadline=when))
    return Html("\n".join(lines))


def _buttons(wizard: Wizard, look: Look) -> list[list[InlineKeyboardButton]]:
    def button(label: str, action: Action, arg: int = 0) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=wizard.button(action, arg))

    def label(key: str, **params: object) -> str:
        return look.t.plain(wizard.locale, f"topic_wizard.{key}", **params)

    rows: list[list[InlineKeyboardButton]] = []
    match wizard.step:
        case Step.DESCRIPTION:
            rows.append([button(label("button_skip"), Action.SKIP)])
        case Step.CATEGORY:
            rows.extend(
                [button(entry.name(wizard.locale), Action.CATEGORY, index)]
                for index, entry in enumerate(look.catalogue.discussable())
            )
        case Step.OPTIONS:
            defaults = DEFAULT_OPTIONS["zh_CN" if wizard.zh else "en"]
            rows.append([button(" / ".join(defaults), Action.OPTIONS, 0)])
            rows.append([button(label("button_custom"), Action.OPTIONS, 1)])
        case Step.DEADLINE:
            rows.append(
                [
                    button(label(f"button_days_{days}"), Action.DEADLINE, days)
                    for days in DEADLINE_DAYS
                ]
            )
            rows.append([button(label("button_custom"), Action.DEADLINE, 0)])
        case Step.RULE:
            rows.extend(
                [button(look.t.plain(wizard.locale, f"rules.{rule.value}"), Action.RULE, index)]
                for index, rule in enumerate(RULES)
            )
        case Step.FLAGS:
            for name in wizard.flags_offered():
                locked = name == "household" and wizard.rule in HOUSEHOLD_RULES
                state = "locked" if locked else ("on" if wizard.flag(name) else "off")
                text = label(f"flag_{state}", name=label(f"flag_{name}"))
                rows.append([button(text, Action.FLAG, FLAGS.index(name))])
            rows.append([button(label("button_next"), Action.NEXT)])
        case Step.PREVIEW:
            rows.append([button(label("button_publish"), Action.PUBLISH)])
            rows.append([button(label("button_back"), Action.BACK)])
        case _:
            pass
    rows.append([button(label("button_cancel"), Action.CANCEL)])
    return rows
