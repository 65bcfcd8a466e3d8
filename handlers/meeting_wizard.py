"""The guided ``/meeting`` (no arguments): an officer schedules a meeting step by step.

Title → when → place → reminders → options (``scope`` above buildings, the holiday shift
for a series) → preview → schedule. Like the guided ``/topic``: the wizard belongs to the
officer who started it in that chat, lives in memory only (a restart drops it, nothing is
stored before "schedule"), and ends on schedule, cancel, or ``TIMEOUT_SECONDS`` of silence.
Typed answers are checked by the same functions as the one-line ``/meeting``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.services.errors import Refusal
from bot.services.meeting_syntax import (
    check_link,
    check_place,
    check_title,
    check_when,
    parse_when_text,
)
from bot.services.permissions import is_officer
from handlers.common import Handler, actor_of, answers_refusals, render_refusal, reply
from handlers.context import AppContext
from handlers.meeting_wizard_steps import (
    TEXT_STEPS,
    MeetingWizardButton,
    Step,
    Wizard,
    choose,
    view,
)
from handlers.meetings import schedule_draft
from locales import Html

TIMEOUT_SECONDS = 600.0  # ten minutes without an answer; tests shorten it


class _Waiting(filters.MessageFilter):
    """Text from an officer whose wizard in that chat waits for text."""

    def __init__(self, wizards: dict[tuple[int, int], Wizard]) -> None:
        super().__init__(name="meeting_wizard_text")
        self._wizards = wizards

    def filter(self, message: Message) -> bool:
        user = message.from_user
        wizard = self._wizards.get((message.chat.id, user.id)) if user else None
        if wizard is None or wizard.step not in TEXT_STEPS:
            return False
        replied = message.reply_to_message
        return replied is None or replied.message_id == wizard.message_id


def _final(handler: Handler) -> Handler:
    answered = answers_refusals(handler)

    async def run(update: Update, context: AppContext) -> None:
        await answered(update, context)
        raise ApplicationHandlerStop

    return run


class MeetingWizards:
    def __init__(self, application: Application[Any, AppContext, Any, Any, Any, Any]) -> None:
        self._application = application
        self._open: dict[tuple[int, int], Wizard] = {}
        self._serials = itertools.count(1)
        self.waiting_for_text = _Waiting(self._open)

    async def start(self, update: Update, context: AppContext) -> None:
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None and user is not None
        standing = await context.services.roles.standing(actor_of(update, context), chat.id)
        if standing.node is None:
            raise Refusal("orgs.chat_not_bound")
        if not is_officer(standing.rank, standing.node):
            raise Refusal("meetings.schedule_needs_officer", level=standing.node.level)
        previous = self._open.pop((chat.id, user.id), None)
        if previous is not None:
            self._disarm(previous)
            await self._quiet(previous)
        wizard = Wizard(
            chat.id,
            user.id,
            next(self._serials),
            context.locale or context.settings.locale,
            standing.node.level,
        )
        sent = await reply(update, context, *self._view(context, wizard))
        if sent is not None:
            wizard.message_id = sent.message_id
            self._open[wizard.key] = wizard
            self._arm(wizard)

    async def text(self, update: Update, context: AppContext) -> None:
        chat, user, message = update.effective_chat, update.effective_user, update.message
        assert chat is not None and user is not None and message is not None
        wizard = self._open.get((chat.id, user.id))
        if wizard is None or wizard.step not in TEXT_STEPS:
            return
        self._arm(wizard)
        typed = message.text or ""
        error: Html | None = None
        try:
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
        except Refusal as refusal:
            error = render_refusal(context, refusal)
        await self._quiet(wizard)
        sent = await reply(update, context, *self._view(context, wizard, error))
        if sent is not None:
            wizard.message_id = sent.message_id

    async def button(self, update: Update, context: AppContext) -> None:
        query, chat = update.callback_query, update.effective_chat
        assert query is not None
        data = MeetingWizardButton.decode(query.data)
        wizard = self._open.get((chat.id, data.owner)) if data and chat else None
        on_message = query.message.message_id if query.message else None
        if (
            data is None
            or wizard is None
            or wizard.serial != data.serial
            or (wizard.message_id != on_message)
        ):
            await query.answer(context.plain("refusals.general.stale_button"), show_alert=True)
            return
        if query.from_user.id != wizard.owner:
            raise Refusal("meeting_wizard.not_yours")
        self._arm(wizard)
        if data.action == "x":
            self._open.pop(wizard.key, None)
            self._disarm(wizard)
            await self._edit(wizard, context.t("meeting_wizard.cancelled"))
            await query.answer()
            return
        if data.action == "p" and wizard.step is Step.PREVIEW:
            await self._schedule(update, context, wizard)
            return
        if not choose(wizard, data.action, data.arg):
            await query.answer(context.plain("refusals.general.stale_button"), show_alert=True)
            return
        await self._edit(wizard, *self._view(context, wizard))
        await query.answer()

    async def _schedule(self, update: Update, context: AppContext, wizard: Wizard) -> None:
        query = update.callback_query
        assert query is not None and wizard.recurrence is not None
        try:
            now, zone = context.services.clock.now(), context.settings.zone
            check_when(wizard.recurrence, now=now, zone=zone, given=wizard.when_text)
        except Refusal as refusal:  # the time passed while the officer was on the preview
            wizard.step = Step.WHEN
            await self._edit(wizard, *self._view(context, wizard, render_refusal(context, refusal)))
            await query.answer()
            return
        self._open.pop(wizard.key, None)  # before anything is awaited: a second press is stale
        self._disarm(wizard)
        try:
            scheduled = await schedule_draft(update, context, wizard.draft())
        except Refusal:
            self._open[wizard.key] = wizard
            self._arm(wizard)
            raise
        done = context.t("meeting_wizard.scheduled", id=scheduled.meeting.id, title=wizard.title)
        await self._edit(wizard, done)
        await query.answer()

    @staticmethod
    def _view(
        context: AppContext, wizard: Wizard, error: Html | None = None
    ) -> tuple[Html, InlineKeyboardMarkup]:
        return view(wizard, context.bot_data.translator, context.runtime.meeting_renderer, error)

    # ---- time limit and messages ------------------------------------------------------------

    def _arm(self, wizard: Wizard) -> None:
        self._disarm(wizard)
        wizard.timer = asyncio.create_task(self._expire(wizard))

    @staticmethod
    def _disarm(wizard: Wizard) -> None:
        if wizard.timer is not None:
            wizard.timer.cancel()
            wizard.timer = None

    async def _expire(self, wizard: Wizard) -> None:
        await asyncio.sleep(TIMEOUT_SECONDS)
        if self._open.get(wizard.key) is not wizard:
            return
        del self._open[wizard.key]
        wizard.timer = None
        text = self._application.bot_data.translator(wizard.locale, "meeting_wizard.timed_out")
        with contextlib.suppress(TelegramError):
            await self._edit(wizard, text)

    async def close(self) -> None:
        timers = [wizard.timer for wizard in self._open.values() if wizard.timer is not None]
        self._open.clear()
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)

    async def _edit(
        self, wizard: Wizard, text: Html, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        try:
            await self._application.bot.edit_message_text(
                text,
                chat_id=wizard.chat_id,
                message_id=wizard.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                raise

    async def _quiet(self, wizard: Wizard) -> None:
        """Take the buttons off the previous wizard message; best effort."""
        with contextlib.suppress(TelegramError):
            await self._application.bot.edit_message_reply_markup(
                chat_id=wizard.chat_id, message_id=wizard.message_id, reply_markup=None
            )


def register(application: Application[Any, AppContext, Any, Any, Any, Any]) -> None:
    """Add the wizard's handlers; call before the command table so they are tried first."""
    wizards = MeetingWizards(application)
    in_groups = filters.UpdateType.MESSAGE & filters.ChatType.GROUPS
    application.add_handler(
        CommandHandler("meeting", _final(wizards.start), filters=in_groups, has_args=False)
    )
    application.add_handler(
        CallbackQueryHandler(_final(wizards.button), pattern=MeetingWizardButton.pattern())
    )
    application.add_handler(
        MessageHandler(
            in_groups & filters.TEXT & ~filters.COMMAND & wizards.waiting_for_text,
            _final(wizards.text),
        )
    )
    previous = application.post_shutdown

    async def post_shutdown(app: Application[Any, AppContext, Any, Any, Any, Any]) -> None:
        await wizards.close()
        if previous is not None:
            await previous(app)

    application.post_shutdown = post_shutdown
