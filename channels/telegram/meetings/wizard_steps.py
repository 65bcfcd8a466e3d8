"""The guided ``/meeting``: the wizard's state, how each step looks, what a button does.

No handlers here (they are in ``channels/telegram/meetings/wizard.py``). A wizard lives in memory
only; nothing is stored until the officer presses "schedule".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.meetings.recurrence import Recurrence
from bot.services.meetings.syntax import MeetingDraft
from channels.telegram.meetings.render import MeetingRenderer
from channels.telegram.wizard import WizardPress, WizardSession
from locales import Html, Translator
from storage.records import Level, Scope

REMINDER_CHOICES = (
    (timedelta(hours=24), timedelta(hours=1)),
    (timedelta(hours=1),),
    (timedelta(hours=24),),
    (),
)


class Step(StrEnum):
    TITLE = "title"
    WHEN = "when"
    PLACE = "place"
    REMIND = "remind"
    OPTIONS = "options"
    PREVIEW = "preview"


STEPS = tuple(Step)
TEXT_STEPS = frozenset({Step.TITLE, Step.WHEN, Step.PLACE})


@dataclass(frozen=True, slots=True)
class MeetingWizardButton(WizardPress):
    """x = cancel, s = skip, r = reminders (arg: choice), f = flag (arg: 0 scope, 1 holiday),
    n = next, p = schedule."""

    PREFIX: ClassVar[str] = "mz"


@dataclass(eq=False)
class Wizard(WizardSession):
    """One officer's unfinished meeting in one chat."""

    TEXT_STEPS = TEXT_STEPS
    PREVIEW = Step.PREVIEW
    step: Step = Step.TITLE
    title: str = ""
    when_text: str = ""
    recurrence: Recurrence | None = None
    place: str = ""
    reminders: tuple[timedelta, ...] = REMINDER_CHOICES[0]
    scope_all: bool = False
    holiday: bool = False

    def flags(self) -> list[int]:
        """The options offered: 0 (scope) above buildings, 1 (holiday shift) for a series."""
        offered = [0] if self.level != Level.BUILDING else []
        if self.recurrence is not None and self.recurrence.recurring:
            offered.append(1)
        return offered

    def draft(self) -> MeetingDraft:
        assert self.recurrence is not None
        link = self.place if self.place.lower().startswith(("http://", "https://")) else None
        return MeetingDraft(
            title=self.title,
            note="",
            recurrence=self.recurrence,
            place=None if link else (self.place or None),
            link=link,
            reminders=self.reminders,
            scope=Scope.ALL if self.scope_all else Scope.HERE,
            holiday_shift=self.holiday,
        )


def choose(wizard: Wizard, action: str, arg: int) -> bool:
    """Apply a button press; False for one that no button of the step makes."""
    match (wizard.step, action):
        case (Step.PLACE, "s"):
            wizard.place, wizard.step = "", Step.REMIND
        case (Step.REMIND, "r") if 0 <= arg < len(REMINDER_CHOICES):
            wizard.reminders = REMINDER_CHOICES[arg]
            wizard.step = Step.OPTIONS if wizard.flags() else Step.PREVIEW
        case (Step.OPTIONS, "f") if arg in wizard.flags():
            if arg == 0:
                wizard.scope_all = not wizard.scope_all
            else:
                wizard.holiday = not wizard.holiday
        case (Step.OPTIONS, "n"):
            wizard.step = Step.PREVIEW
        case _:
            return False
    return True


def view(
    wizard: Wizard, t: Translator, renderer: MeetingRenderer, error: Html | None = None
) -> tuple[Html, InlineKeyboardMarkup]:
    """The wizard message at its step, with the reason a typed answer was refused."""
    locale = wizard.locale
    number = STEPS.index(wizard.step) + 1
    parts: list[str] = [t(locale, "meeting_wizard.header", step=number, steps=len(STEPS))]
    if wizard.title and wizard.step is not Step.PREVIEW:
        parts.append(t(locale, "meeting_wizard.title_line", title=wizard.title))
    if error is not None:
        parts.append(error)
    if wizard.step is Step.PREVIEW:
        parts.append(t(locale, "meeting_wizard.ask_preview"))
        parts.append(_preview(wizard, t, renderer))
    else:
        parts.append(t(locale, f"meeting_wizard.ask_{wizard.step.value}"))
    return Html("\n\n".join(parts)), InlineKeyboardMarkup(_buttons(wizard, t))


def _preview(wizard: Wizard, t: Translator, renderer: MeetingRenderer) -> Html:
    locale = wizard.locale
    recurrence = wizard.recurrence
    assert recurrence is not None
    if recurrence.once is not None:
        when = f"{recurrence.once.isoformat()} {recurrence.at:%H:%M}"
    else:
        when = renderer.repeat_of(
            locale,
            recurrence.repeat.value,
            recurrence.day,
            recurrence.nth,
            f"{recurrence.at:%H:%M}",
        )
    lines = [
        t(locale, "meeting_wizard.preview_title", title=wizard.title),
        t(locale, "meetings.time", when=when),
    ]
    if wizard.place:
        key = "meetings.link" if wizard.draft().link else "meetings.place"
        lines.append(t(locale, key, link=wizard.place, place=wizard.place))
    offsets = [renderer.span(locale, offset) for offset in wizard.reminders]
    if offsets:
        lines.append(t(locale, "meetings.reminders", offsets=", ".join(offsets)))
    else:
        lines.append(t(locale, "meeting_wizard.no_reminders"))
    if wizard.scope_all:
        lines.append(t(locale, "meeting_wizard.preview_scope_all"))
    if wizard.holiday:
        lines.append(t(locale, "meeting_wizard.preview_holiday"))
    return Html("\n".join(lines))


def _buttons(wizard: Wizard, t: Translator) -> list[list[InlineKeyboardButton]]:
    def button(key: str, action: str, arg: int = 0, **params: object) -> InlineKeyboardButton:
        data = MeetingWizardButton(wizard.owner, wizard.serial, action, arg).encode()
        text = t.plain(wizard.locale, f"meeting_wizard.{key}", **params)
        return InlineKeyboardButton(text, callback_data=data)

    rows: list[list[InlineKeyboardButton]] = []
    match wizard.step:
        case Step.PLACE:
            rows.append([button("button_skip", "s")])
        case Step.REMIND:
            rows.extend([button(f"remind_{index}", "r", index)] for index in range(4))
        case Step.OPTIONS:
            for flag in wizard.flags():
                name = ("scope_all", "holiday")[flag]
                on = wizard.scope_all if flag == 0 else wizard.holiday
                label = t.plain(wizard.locale, f"meeting_wizard.flag_{name}")
                rows.append([button("flag_on" if on else "flag_off", "f", flag, name=label)])
            rows.append([button("button_next", "n")])
        case Step.PREVIEW:
            rows.append([button("button_schedule", "p")])
        case _:
            pass
    rows.append([button("button_cancel", "x")])
    return rows
