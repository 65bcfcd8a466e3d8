"""The guided ``/topic`` (no arguments): its steps, the draft so far, what each step's choices
do and the checks on what the officer types; each channel asks them its own way (Telegram:
one message edited, with buttons, in the group; WeCom: cards in the one-to-one chat).

Title → description → category → options → deadline → rule → flags → preview → publish.
Nothing is stored until the officer publishes (through TopicService.publish, as the one-line
``/topic``): a draft lives in the channel's memory, so a restart drops unfinished ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.catalogue import Catalogue, lookup_form
from bot.services.errors import Refusal
from bot.services.syntax.command_line import checked_title, clean
from bot.services.topics.outcome import HOUSEHOLD_RULES
from bot.services.topics.syntax import (
    DEFAULT_OPTIONS,
    MAX_DEADLINE,
    MAX_DESCRIPTION,
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_TITLE,
    MIN_OPTIONS,
    TopicDraft,
    parse_topic,
)
from storage.records import Level, Rule, Scope


class Step(StrEnum):
    TITLE = "title"
    DESCRIPTION = "description"
    CATEGORY = "category"
    OPTIONS = "options"
    CUSTOM_OPTIONS = "custom_options"
    DEADLINE = "deadline"
    CUSTOM_DEADLINE = "custom_deadline"
    RULE = "rule"
    FLAGS = "flags"
    PREVIEW = "preview"


class Action(StrEnum):
    """What a wizard button does; one letter in the callback data."""

    CANCEL = "x"
    SKIP = "s"
    CATEGORY = "c"
    OPTIONS = "o"
    DEADLINE = "d"
    RULE = "r"
    FLAG = "f"
    NEXT = "n"
    BACK = "b"
    PUBLISH = "p"


# Steps that wait for the officer to type; the others wait for a button.
TEXT_STEPS = frozenset({Step.TITLE, Step.DESCRIPTION, Step.CUSTOM_OPTIONS, Step.CUSTOM_DEADLINE})
_NUMBERED = (
    (Step.TITLE,),
    (Step.DESCRIPTION,),
    (Step.CATEGORY,),
    (Step.OPTIONS, Step.CUSTOM_OPTIONS),
    (Step.DEADLINE, Step.CUSTOM_DEADLINE),
    (Step.RULE,),
    (Step.FLAGS,),
    (Step.PREVIEW,),
)
STEP_NUMBER = {step: number for number, steps in enumerate(_NUMBERED, 1) for step in steps}
STEP_COUNT = len(_NUMBERED)
ACTIONS_AT: dict[Step, frozenset[Action]] = {
    Step.TITLE: frozenset({Action.CANCEL}),
    Step.DESCRIPTION: frozenset({Action.SKIP, Action.CANCEL}),
    Step.CATEGORY: frozenset({Action.CATEGORY, Action.CANCEL}),
    Step.OPTIONS: frozenset({Action.OPTIONS, Action.CANCEL}),
    Step.CUSTOM_OPTIONS: frozenset({Action.CANCEL}),
    Step.DEADLINE: frozenset({Action.DEADLINE, Action.CANCEL}),
    Step.CUSTOM_DEADLINE: frozenset({Action.CANCEL}),
    Step.RULE: frozenset({Action.RULE, Action.CANCEL}),
    Step.FLAGS: frozenset({Action.FLAG, Action.NEXT, Action.CANCEL}),
    Step.PREVIEW: frozenset({Action.PUBLISH, Action.BACK, Action.CANCEL}),
}
DEADLINE_DAYS = (1, 3, 7)  # the deadline buttons; 0 is "custom"
RULES = tuple(Rule)
FLAGS = ("secret", "household", "hide", "scope_all")  # the Wizard's switches
DEFAULT_DEADLINE_TEXT = "3d"


@dataclass(eq=False, kw_only=True)
class GuidedTopic:
    """The draft so far: what a channel's wizard keeps besides its own plumbing (each
    channel's dataclass adds that; the draft's fields are keyword-only, so they follow)."""

    locale: str
    level: str  # the level of the group the topic is for
    step: Step = Step.TITLE
    title: str = ""
    description: str = ""
    category: str | None = None
    options: tuple[str, ...] = ()
    deadline_text: str = DEFAULT_DEADLINE_TEXT
    rule: Rule = Rule.MAJORITY
    secret: bool = False
    household: bool = False
    hide: bool = False
    scope_all: bool = False

    @property
    def zh(self) -> bool:
        return self.locale.startswith("zh")

    def flag(self, name: str) -> bool:
        return bool(getattr(self, name))

    def toggle(self, name: str) -> None:
        setattr(self, name, not self.flag(name))

    def choose_rule(self, rule: Rule) -> None:
        self.rule = rule
        if rule in HOUSEHOLD_RULES:
            self.household = True  # Art. 278 counts households; not a choice

    def flags_offered(self) -> list[str]:
        return [name for name in FLAGS if name != "scope_all" or self.level != Level.BUILDING]

    def answer(self, typed: str, *, now: datetime, zone: ZoneInfo) -> None:
        """A typed title, description, options or deadline: taken, and on to the next step;
        or the Refusal that says what is wrong (the step stays)."""
        if self.step is Step.TITLE:
            self.title, self.step = check_title(typed), Step.DESCRIPTION
        elif self.step is Step.DESCRIPTION:
            self.description, self.step = check_description(typed), Step.CATEGORY
        elif self.step is Step.CUSTOM_OPTIONS:
            self.options, self.step = check_options(typed), Step.DEADLINE
        else:
            resolve_deadline(typed, now=now, zone=zone, locale=self.locale)
            self.deadline_text, self.step = " ".join(typed.split()), Step.RULE

    def deadline(self, *, now: datetime, zone: ZoneInfo) -> datetime:
        """The deadline chosen, checked against ``now`` (a typed date-time may have passed)."""
        return resolve_deadline(self.deadline_text, now=now, zone=zone, locale=self.locale)

    def draft(self, deadline: datetime) -> TopicDraft:
        return TopicDraft(
            title=self.title,
            description=self.description,
            deadline=deadline,
            options=() if self.rule is Rule.OPINION else self.options,
            rule=self.rule,
            category=self.category,
            quorum_percent=None,
            secret=self.secret,
            household=self.household,
            hide_results=self.hide,
            scope=Scope.ALL if self.scope_all else Scope.HERE,
        )


def choose(wizard: GuidedTopic, catalogue: Catalogue, action: Action, arg: int) -> bool:
    """Apply a button press to the wizard; False for an argument no button of its step has."""
    match action:
        case Action.SKIP:
            wizard.description, wizard.step = "", Step.CATEGORY
        case Action.CATEGORY if 0 <= arg < len(catalogue.discussable()):
            wizard.category, wizard.step = catalogue.discussable()[arg].key, Step.OPTIONS
        case Action.OPTIONS if arg == 0:
            wizard.options = DEFAULT_OPTIONS["zh_CN" if wizard.zh else "en"]
            wizard.step = Step.DEADLINE
        case Action.OPTIONS if arg == 1:
            wizard.step = Step.CUSTOM_OPTIONS
        case Action.DEADLINE if arg in DEADLINE_DAYS:
            wizard.deadline_text, wizard.step = f"{arg}d", Step.RULE
        case Action.DEADLINE if arg == 0:
            wizard.step = Step.CUSTOM_DEADLINE
        case Action.RULE if 0 <= arg < len(RULES):
            wizard.choose_rule(RULES[arg])
            wizard.step = Step.FLAGS
        case Action.FLAG if 0 <= arg < len(FLAGS) and FLAGS[arg] in wizard.flags_offered():
            if FLAGS[arg] == "household" and wizard.rule in HOUSEHOLD_RULES:
                raise Refusal("topic_wizard.household_required")
            wizard.toggle(FLAGS[arg])
        case Action.NEXT:
            wizard.step = Step.PREVIEW
        case Action.BACK:
            wizard.step = Step.FLAGS
        case _:
            return False
    return True


# ---- what the officer types ------------------------------------------------------------


def check_title(text: str) -> str:
    return checked_title(text, MAX_TITLE, "topic_wizard")


def check_description(text: str) -> str:
    description = clean(text).strip()
    if len(description) > MAX_DESCRIPTION:
        raise Refusal(
            "topic_wizard.description_too_long", length=len(description), limit=MAX_DESCRIPTION
        )
    return description


def check_options(text: str) -> tuple[str, ...]:
    """2 to 10 different options of at most 40 characters, separated by , ， or 、."""
    options = [" ".join(part.split()) for part in re.split(r"[,，、]", clean(text))]
    options = [option for option in options if option]
    if len(options) < MIN_OPTIONS:
        raise Refusal("topic_wizard.too_few_options", count=len(options), least=MIN_OPTIONS)
    if len(options) > MAX_OPTIONS:
        raise Refusal("topic_wizard.too_many_options", count=len(options), limit=MAX_OPTIONS)
    seen: set[str] = set()
    for option in options:
        if len(option) > MAX_OPTION:
            raise Refusal(
                "topic_wizard.option_too_long", option=option, length=len(option), limit=MAX_OPTION
            )
        if lookup_form(option) in seen:
            raise Refusal("topic_wizard.duplicate_option", option=option)
        seen.add(lookup_form(option))
    return tuple(options)


_DEADLINE_REFUSALS = {
    "topic_syntax.deadline_past": "topic_wizard.deadline_past",
    "topic_syntax.deadline_too_soon": "topic_wizard.deadline_too_soon",
    "topic_syntax.deadline_too_far": "topic_wizard.deadline_too_far",
}


_SPOKEN_REFUSALS = frozenset(
    f"topic_syntax.{name}"
    for name in (
        "bad_time_of_day",
        "bad_day",
        "missing_time_of_day",
        "bad_weekday",
        "recurring_deadline",
    )
)


def resolve_deadline(text: str, *, now: datetime, zone: ZoneInfo, locale: str) -> datetime:
    """The deadline ``text`` (``2h``, ``三天``, ``2026-12-01 18:00``, ``明天晚上7点``) names,
    read as ``/topic`` reads it.

    The one-line parser reads a synthetic ``x 期限=<text>`` so both modes accept the same values.
    """
    value = " ".join(clean(text).split())
    if not value or "=" in value or "＝" in value:
        raise Refusal("topic_wizard.bad_deadline", given=value[:40])
    key = "期限" if locale.startswith("zh") else "deadline"
    try:
        line = f"x {key}={value}"
        draft = parse_topic(line, now=now, zone=zone, catalogue=None, locale=locale)
    except Refusal as refusal:
        if refusal.key in _SPOKEN_REFUSALS:  # 明天, 晚上25点: say which part is wrong
            raise
        mapped = _DEADLINE_REFUSALS.get(refusal.key, "topic_wizard.bad_deadline")
        raise Refusal(mapped, given=value[:40], limit_days=MAX_DEADLINE.days) from None
    return draft.deadline
