"""The guided ``/meeting`` (no arguments): an officer schedules a meeting step by step.

Title → when → place → reminders → options (``scope`` above buildings, the holiday shift
for a series) → preview → schedule. Like the guided ``/topic`` (the plumbing is
``channels.telegram.wizard``'s): the wizard belongs to the officer who started it in that chat,
lives in memory only (a restart drops it, nothing is stored before "schedule"), and ends on
schedule, cancel, or ``TIMEOUT_SECONDS`` of silence. Typed answers are checked by the same
functions as the one-line ``/meeting``.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application

from bot.services.errors import Refusal
from bot.services.meetings.syntax import (
    check_link,
    check_place,
    check_title,
    check_when,
    parse_when_text,
)
from channels.telegram.common import render_refusal
from channels.telegram.context import AppContext
from channels.telegram.meetings.commands import schedule_draft
from channels.telegram.meetings.wizard_steps import (
    MeetingWizardButton,
    Step,
    Wizard,
    choose,
    view,
)
from channels.telegram.wizard import WizardPress, Wizards
from locales import Html

TIMEOUT_SECONDS = 600.0  # ten minutes without an answer; tests shorten it


class MeetingWizards(Wizards[Wizard]):
    """The open meeting wizards of one application and the handlers that move them on."""

    COMMAND = "meeting"
    TEXTS = "meeting_wizard"
    PRESS = MeetingWizardButton
    # In a forum topic, a message that replies only to the topic's first one is not read as
    # an answer here (the guided /topic reads it); kept as it was.
    FORUM_REPLIES = False

    def timeout(self) -> float:
        return TIMEOUT_SECONDS

    def needs_officer(self, level: str) -> Refusal:
        return Refusal("meetings.schedule_needs_officer", level=level)

    def new(self, chat_id: int, owner: int, serial: int, locale: str, level: str) -> Wizard:
        return Wizard(chat_id, owner, serial, locale, level)

    def answer(self, context: AppContext, wizard: Wizard, typed: str) -> None:
        """A title, a when, or a place (an address or a link)."""
        if wizard.step is Step.TITLE:
            wizard.title, wizard.step = check_title(typed), Step.WHEN
        elif wizard.step is Step.WHEN:
            services = context.services
            wizard.recurrence = parse_when_text(
                typed,
                now=services.clock.now(),
                zone=context.settings.zone,
                locale=wizard.locale,
            )
            wizard.when_text, wizard.step = " ".join(typed.split()), Step.PLACE
        else:
            linked = typed.strip().lower().startswith(("http://", "https://"))
            place = check_link("", typed) if linked else check_place("", typed)
            wizard.place, wizard.step = place, Step.REMIND

    def apply(self, context: AppContext, wizard: Wizard, press: WizardPress) -> bool:
        return choose(wizard, press.action, press.arg)

    def view(
        self, context: AppContext, wizard: Wizard, error: Html | None = None
    ) -> tuple[Html, InlineKeyboardMarkup]:
        return view(wizard, context.bot_data.translator, context.runtime.meeting_renderer, error)

    async def complete(self, update: Update, context: AppContext, wizard: Wizard) -> None:
        """Schedule: a one-off's time is checked again, as time has passed on the preview."""
        query = update.callback_query
        assert query is not None and wizard.recurrence is not None
        try:
            now, zone = context.services.clock.now(), context.settings.zone
            check_when(wizard.recurrence, now=now, zone=zone, given=wizard.when_text)
        except Refusal as refusal:  # the time passed while the officer was on the preview
            wizard.step = Step.WHEN
            await self.show(query, context, wizard, render_refusal(context, refusal))
            return
        scheduled = await self.run_last_step(
            wizard, lambda: schedule_draft(update, context, wizard.draft())
        )
        done = context.t("meeting_wizard.scheduled", id=scheduled.meeting.id, title=wizard.title)
        await self.edit(wizard, done)
        await query.answer()


def register(application: Application[Any, AppContext, Any, Any, Any, Any]) -> None:
    """Add the wizard's handlers; call before the command table so they are tried first."""
    MeetingWizards(application).register()
