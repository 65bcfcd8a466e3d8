"""The guided ``/topic`` (no arguments): an officer builds a topic step by step with buttons.

Title → description → category → options → deadline → rule → flags → preview → publish. The
wizard belongs to the officer who started it, in that chat: only their presses and their text
messages move it on. It ends on publish, on cancel (its button, or ``/cancel`` with no
arguments) or after ``TIMEOUT_SECONDS`` without an answer. State is kept in memory, keyed by
(chat, officer): a restart drops unfinished wizards, and nothing is stored before publishing.
The plumbing (owner, stale buttons, time limit, message edits) is ``channels.telegram.wizard``'s.

The handlers sit in group 0 ahead of the command table (``register`` is called first), so
``/topic <args>``, ``/cancel <id>`` and every other message go on to their usual handlers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application

from bot.services.errors import Refusal
from channels.telegram.common import render_refusal
from channels.telegram.context import AppContext
from channels.telegram.topics.commands import publish_draft
from channels.telegram.topics.wizard_steps import (
    ACTIONS_AT,
    Action,
    Look,
    Step,
    Wizard,
    WizardButton,
    choose,
    view,
)
from channels.telegram.wizard import WizardPress, Wizards
from locales import Html

TIMEOUT_SECONDS = 600.0  # ten minutes without an answer; tests shorten it


class TopicWizards(Wizards[Wizard]):
    """The open topic wizards of one application and the handlers that move them on."""

    COMMAND = "topic"
    TEXTS = "topic_wizard"
    PRESS = WizardButton
    REPLACED = "topic_wizard.replaced"
    CANCEL_COMMAND = True

    def timeout(self) -> float:
        return TIMEOUT_SECONDS

    def needs_officer(self, level: str) -> Refusal:
        return Refusal("topics.publish_needs_officer")

    def new(self, chat_id: int, owner: int, serial: int, locale: str, level: str) -> Wizard:
        return Wizard(chat_id=chat_id, owner=owner, serial=serial, locale=locale, level=level)

    def answer(self, context: AppContext, wizard: Wizard, typed: str) -> None:
        """A title, a description, options or a deadline."""
        look = self._look(context)
        wizard.answer(typed, now=look.now, zone=look.zone)

    def offers(self, wizard: Wizard, action: str) -> bool:
        return action in {offered.value for offered in ACTIONS_AT[wizard.step]}

    def apply(self, context: AppContext, wizard: Wizard, press: WizardPress) -> bool:
        return choose(wizard, self._look(context).catalogue, Action(press.action), press.arg)

    def view(
        self, context: AppContext, wizard: Wizard, error: Html | None = None
    ) -> tuple[Html, InlineKeyboardMarkup]:
        """The step's message; a preview whose deadline has passed goes back to the deadline."""
        look = self._look(context)
        deadline: datetime | None = None
        if wizard.step is Step.PREVIEW:
            try:
                deadline = self._deadline(wizard, look)
            except Refusal as refusal:
                wizard.step, error = Step.DEADLINE, render_refusal(context, refusal)
        return view(wizard, look, error=error, deadline=deadline)

    async def complete(self, update: Update, context: AppContext, wizard: Wizard) -> None:
        """Publish: the deadline is checked again, as time has passed on the preview."""
        query = update.callback_query
        assert query is not None
        try:
            deadline = self._deadline(wizard, self._look(context))
        except Refusal as refusal:  # a typed date-time that has passed while on the preview
            wizard.step = Step.DEADLINE
            await self.show(query, context, wizard, render_refusal(context, refusal))
            return
        published = await self.run_last_step(
            wizard, lambda: publish_draft(update, context, wizard.draft(deadline))
        )
        text = context.t("topic_wizard.published", id=published.topic.id, title=wizard.title)
        await self.edit(wizard, text)
        await query.answer(context.plain("topic_wizard.published_toast", id=published.topic.id))

    @staticmethod
    def _deadline(wizard: Wizard, look: Look) -> datetime:
        return wizard.deadline(now=look.now, zone=look.zone)

    @staticmethod
    def _look(context: AppContext) -> Look:
        services = context.services
        return Look(
            t=context.bot_data.translator,
            catalogue=services.catalogue,
            zone=context.settings.zone,
            now=services.clock.now(),
        )


def register(application: Application[Any, AppContext, Any, Any, Any, Any]) -> None:
    """Add the wizard's handlers; call before the command table so they are tried first."""
    TopicWizards(application).register()
