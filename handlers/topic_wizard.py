"""The guided ``/topic`` (no arguments): an officer builds a topic step by step with buttons.

Title → description → category → options → deadline → rule → flags → preview → publish. The
wizard belongs to the officer who started it, in that chat: only their presses and their text
messages move it on. It ends on publish, on cancel (its button, or ``/cancel`` with no
arguments) or after ``TIMEOUT_SECONDS`` without an answer. State is kept in memory, keyed by
(chat, officer): a restart drops unfinished wizards, and nothing is stored before publishing.

The handlers sit in group 0 ahead of the command table (``register`` is called first), so
``/topic <args>``, ``/cancel <id>`` and every other message go on to their usual handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
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
from bot.services.permissions import is_officer
from bot.services.topic_syntax import TopicDraft
from bot.services.topics import Published
from handlers.common import Handler, actor_of, answers_refusals, place_of, render_refusal, reply
from handlers.context import AppContext
from handlers.topic_wizard_steps import (
    ACTIONS_AT,
    TEXT_STEPS,
    Action,
    Look,
    Step,
    Wizard,
    WizardButton,
    check_description,
    check_options,
    check_title,
    choose,
    resolve_deadline,
    view,
)
from locales import Html

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 600.0  # ten minutes without an answer; tests shorten it


async def publish_draft(update: Update, context: AppContext, draft: TopicDraft) -> Published:
    """Publish a checked draft here and post its ballot(s): what one-line ``/topic`` does too."""
    published = await context.services.topics.publish(
        actor_of(update, context), place_of(update), draft, context.runtime.membership
    )
    await context.runtime.live.sync(published.topic.id)
    if draft.scope.value == "all":
        voting = sum(1 for post in published.posts if post.voting)
        await reply(
            update, context, context.t("topics.published_all", id=published.topic.id, count=voting)
        )
    return published


def _final(handler: Handler) -> Handler:
    """Refusals answered, and no later handler group sees an update the wizard consumed."""
    answered = answers_refusals(handler)

    async def run(update: Update, context: AppContext) -> None:
        await answered(update, context)
        raise ApplicationHandlerStop

    return run


class _Waiting(filters.MessageFilter):
    """Messages from an officer with an open wizard in that chat (waiting for text, if asked)."""

    def __init__(self, wizards: dict[tuple[int, int], Wizard], *, for_text: bool) -> None:
        super().__init__(name=f"topic_wizard_{'text' if for_text else 'open'}")
        self._wizards = wizards
        self._for_text = for_text

    def filter(self, message: Message) -> bool:
        user = message.from_user
        wizard = self._wizards.get((message.chat.id, user.id)) if user else None
        if wizard is None:
            return False
        if not self._for_text:
            return True
        if wizard.step not in TEXT_STEPS:
            return False
        # A reply to anything else (a ballot, a neighbour) is conversation, not an answer.
        replied = message.reply_to_message
        in_forum_topic = bool(message.is_topic_message)
        return (
            replied is None
            or replied.message_id == wizard.message_id
            or (in_forum_topic and replied.message_id == message.message_thread_id)
        )


class TopicWizards:
    """The open wizards of one application and the handlers that move them on."""

    def __init__(self, application: Application[Any, AppContext, Any, Any, Any, Any]) -> None:
        self._application = application
        self._open: dict[tuple[int, int], Wizard] = {}
        self._serials = itertools.count(1)
        self.waiting_for_text = _Waiting(self._open, for_text=True)
        self.open_here = _Waiting(self._open, for_text=False)

    # ---- handlers ------------------------------------------------------------------------

    async def start(self, update: Update, context: AppContext) -> None:
        """``/topic`` with no arguments in a group: officers only."""
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None and user is not None
        standing = await context.services.roles.standing(actor_of(update, context), chat.id)
        if standing.node is None:
            raise Refusal("orgs.chat_not_bound")
        if not is_officer(standing.rank, standing.node):
            raise Refusal("topics.publish_needs_officer")
        previous = self._open.pop((chat.id, user.id), None)
        if previous is not None:
            self._disarm(previous)
            await self._close_message(previous, "topic_wizard.replaced")
        wizard = Wizard(
            chat_id=chat.id,
            owner=user.id,
            serial=next(self._serials),
            locale=context.locale or context.settings.locale,
            level=standing.node.level,
        )
        sent = await reply(update, context, *view(wizard, self._look(context)))
        if sent is None:
            return
        wizard.message_id = sent.message_id
        self._open[wizard.key] = wizard
        self._arm(wizard)

    async def text(self, update: Update, context: AppContext) -> None:
        """The officer's typed answer: a title, a description, options or a deadline."""
        chat, user, message = update.effective_chat, update.effective_user, update.message
        assert chat is not None and user is not None and message is not None
        wizard = self._open.get((chat.id, user.id))
        if wizard is None or wizard.step not in TEXT_STEPS:
            return
        self._arm(wizard)
        look = self._look(context)
        typed = message.text or ""
        error: Html | None = None
        try:
            if wizard.step is Step.TITLE:
                wizard.title, wizard.step = check_title(typed), Step.DESCRIPTION
            elif wizard.step is Step.DESCRIPTION:
                wizard.description, wizard.step = check_description(typed), Step.CATEGORY
            elif wizard.step is Step.CUSTOM_OPTIONS:
                wizard.options, wizard.step = check_options(typed), Step.DEADLINE
            else:
                resolve_deadline(typed, now=look.now, zone=look.zone, locale=wizard.locale)
                wizard.deadline_text, wizard.step = " ".join(typed.split()), Step.RULE
        except Refusal as refusal:
            error = render_refusal(context, refusal)
        # The answer is in the chat now: the old question goes quiet, the next one follows it.
        await self._quiet(chat.id, wizard.message_id)
        sent = await reply(update, context, *view(wizard, look, error=error))
        if sent is not None:
            wizard.message_id = sent.message_id

    async def cancel_command(self, update: Update, context: AppContext) -> None:
        """``/cancel`` with no arguments, from an officer with a wizard open here."""
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None and user is not None
        wizard = self._open.pop((chat.id, user.id), None)
        if wizard is None:
            return
        self._disarm(wizard)
        await self._quiet(chat.id, wizard.message_id)
        await reply(update, context, context.t("topic_wizard.cancelled"))

    async def button(self, update: Update, context: AppContext) -> None:
        query = update.callback_query
        chat = update.effective_chat
        assert query is not None
        data = WizardButton.decode(query.data)
        wizard = self._open.get((chat.id, data.owner)) if data and chat else None
        on_message = query.message.message_id if query.message else None
        if (
            data is None
            or wizard is None
            or wizard.serial != data.serial
            or wizard.message_id != on_message
            or data.action not in {action.value for action in ACTIONS_AT[wizard.step]}
        ):
            await query.answer(context.plain("refusals.general.stale_button"), show_alert=True)
            return
        if query.from_user.id != wizard.owner:
            raise Refusal("topic_wizard.not_yours")
        self._arm(wizard)
        action = Action(data.action)
        if action is Action.CANCEL:
            self._open.pop(wizard.key, None)
            self._disarm(wizard)
            await self._edit(wizard, context.t("topic_wizard.cancelled"))
            await query.answer()
            return
        if action is Action.PUBLISH:
            await self._publish(update, context, wizard)
            return
        look = self._look(context)
        if not choose(wizard, look.catalogue, action, data.arg):
            await query.answer(context.plain("refusals.general.stale_button"), show_alert=True)
            return
        error: Html | None = None
        deadline: datetime | None = None
        if wizard.step is Step.PREVIEW:
            try:
                deadline = self._deadline(wizard, look)
            except Refusal as refusal:
                wizard.step, error = Step.DEADLINE, render_refusal(context, refusal)
        await self._edit(wizard, *view(wizard, look, error=error, deadline=deadline))
        await query.answer()

    async def _publish(self, update: Update, context: AppContext, wizard: Wizard) -> None:
        query = update.callback_query
        assert query is not None
        look = self._look(context)
        try:
            deadline = self._deadline(wizard, look)
        except Refusal as refusal:  # a typed date-time that has passed while on the preview
            wizard.step = Step.DEADLINE
            await self._edit(wizard, *view(wizard, look, error=render_refusal(context, refusal)))
            await query.answer()
            return
        # Taken out before anything is awaited: a second press finds no wizard (stale).
        self._open.pop(wizard.key, None)
        self._disarm(wizard)
        try:
            published = await publish_draft(update, context, wizard.draft(deadline))
        except Refusal:
            self._open[wizard.key] = wizard  # e.g. no building group for scope=all: change it
            self._arm(wizard)
            raise
        text = context.t("topic_wizard.published", id=published.topic.id, title=wizard.title)
        await self._edit(wizard, text)
        await query.answer(context.plain("topic_wizard.published_toast", id=published.topic.id))

    @staticmethod
    def _deadline(wizard: Wizard, look: Look) -> datetime:
        return resolve_deadline(
            wizard.deadline_text, now=look.now, zone=look.zone, locale=wizard.locale
        )

    # ---- the time limit --------------------------------------------------------------------

    def _arm(self, wizard: Wizard) -> None:
        """(Re)start the wizard's time limit: it expires TIMEOUT_SECONDS after the last answer."""
        self._disarm(wizard)
        wizard.timer = asyncio.create_task(self._expire(wizard, TIMEOUT_SECONDS))

    @staticmethod
    def _disarm(wizard: Wizard) -> None:
        if wizard.timer is not None:
            wizard.timer.cancel()
            wizard.timer = None

    async def _expire(self, wizard: Wizard, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._open.get(wizard.key) is not wizard:
            return
        del self._open[wizard.key]
        wizard.timer = None
        await self._close_message(wizard, "topic_wizard.timed_out")

    async def close(self) -> None:
        """Stop every time limit (the application is shutting down)."""
        timers = [wizard.timer for wizard in self._open.values() if wizard.timer is not None]
        self._open.clear()
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)

    # ---- messages ------------------------------------------------------------------------

    def _look(self, context: AppContext) -> Look:
        services = context.services
        return Look(
            t=context.bot_data.translator,
            catalogue=services.catalogue,
            zone=context.settings.zone,
            now=services.clock.now(),
        )

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

    async def _close_message(self, wizard: Wizard, key: str) -> None:
        """Say on the wizard's message that it ended (no buttons left); best effort."""
        text = self._application.bot_data.translator(wizard.locale, key)
        try:
            await self._edit(wizard, text)
        except TelegramError as error:
            log.warning("could not close topic wizard message %s: %s", wizard.message_id, error)

    async def _quiet(self, chat_id: int, message_id: int) -> None:
        """Take the buttons off an earlier wizard message; best effort."""
        with contextlib.suppress(TelegramError):
            await self._application.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            )


def register(application: Application[Any, AppContext, Any, Any, Any, Any]) -> None:
    """Add the wizard's handlers; call before the command table so they are tried first."""
    wizards = TopicWizards(application)
    in_groups = filters.UpdateType.MESSAGE & filters.ChatType.GROUPS
    application.add_handler(
        CommandHandler("topic", _final(wizards.start), filters=in_groups, has_args=False)
    )
    application.add_handler(
        CommandHandler(
            "cancel",
            _final(wizards.cancel_command),
            filters=in_groups & wizards.open_here,
            has_args=False,
        )
    )
    application.add_handler(
        CallbackQueryHandler(_final(wizards.button), pattern=WizardButton.pattern())
    )
    application.add_handler(
        MessageHandler(
            in_groups & filters.TEXT & ~filters.COMMAND & wizards.waiting_for_text,
            _final(wizards.text),
        )
    )
    _on_shutdown(application, wizards.close)


def _on_shutdown(
    application: Application[Any, AppContext, Any, Any, Any, Any],
    step: Callable[[], Awaitable[None]],
) -> None:
    """Run ``step`` before the application's own post_shutdown."""
    previous = application.post_shutdown

    async def post_shutdown(app: Application[Any, AppContext, Any, Any, Any, Any]) -> None:
        await step()
        if previous is not None:
            await previous(app)

    application.post_shutdown = post_shutdown
