"""What the guided ``/topic`` and ``/meeting`` (no arguments) share: an officer's wizard.

A wizard belongs to the officer who started it, in that chat: only their presses and their
text messages move it on. It lives in memory only (a restart drops it, nothing is stored
before its last button), keyed by (chat, officer), and ends on that last button, on cancel, or
after a time limit without an answer. :class:`Wizards` holds the open ones and does the
plumbing: who may start one, whose press counts, stale buttons, the time limit, editing the
wizard's message. Each wizard's steps, views and answers stay in its own modules
(``channels.telegram.topics.wizard*``, ``channels.telegram.meetings.wizard*``).

The handlers sit in group 0 ahead of the command table (``register`` is called first), so the
command with arguments and every other message go on to their usual handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
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
from bot.services.organisation.permissions import is_officer
from channels.telegram.callbacks import CallbackData
from channels.telegram.common import (
    Handler,
    actor_of,
    answers_refusals,
    button,
    render_refusal,
    reply,
    stale_button,
)
from channels.telegram.context import AppContext
from locales import Html

log = logging.getLogger(__name__)

AnyApplication = Application[Any, AppContext, Any, Any, Any, Any]
CANCEL, FINISH = "x", "p"  # the cancel and the last button's actions, in every wizard
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WizardPress(CallbackData):
    """A press on a wizard message: whose wizard, which one, what it does, with what."""

    owner: int
    serial: int
    action: str
    arg: int


@dataclass(eq=False)
class WizardSession:
    """One officer's unfinished wizard in one chat: what every wizard keeps besides its steps."""

    chat_id: int
    owner: int
    serial: int
    locale: str
    level: str  # the chat's node level
    message_id: int = 0  # the message whose buttons are live
    timer: asyncio.Task[None] | None = field(default=None, repr=False)
    step: StrEnum = field(kw_only=True)  # each wizard redeclares it: its Step, at the first

    TEXT_STEPS: ClassVar[frozenset[StrEnum]]  # the steps that wait for the officer to type
    PREVIEW: ClassVar[StrEnum]  # the last step, with the last button (publish, schedule)

    @property
    def key(self) -> tuple[int, int]:
        return (self.chat_id, self.owner)

    @property
    def waits_for_text(self) -> bool:
        return self.step in self.TEXT_STEPS

    @property
    def previewing(self) -> bool:
        return self.step is self.PREVIEW


W = TypeVar("W", bound=WizardSession)


def _final(handler: Handler) -> Handler:
    """Refusals answered, and no later handler group sees an update the wizard consumed."""
    return _consumed(answers_refusals(handler))


def _consumed(handler: Handler) -> Handler:
    """No later handler group sees an update the wizard consumed."""

    async def run(update: Update, context: AppContext) -> None:
        await handler(update, context)
        raise ApplicationHandlerStop

    return run


class _Waiting(filters.MessageFilter):
    """Messages from an officer with an open wizard in that chat (waiting for text, if asked)."""

    def __init__(
        self,
        wizards: Mapping[tuple[int, int], WizardSession],
        kind: str,
        *,
        for_text: bool,
        forum: bool,
    ) -> None:
        super().__init__(name=f"{kind}_{'text' if for_text else 'open'}")
        self._wizards, self._for_text, self._forum = wizards, for_text, forum

    def filter(self, message: Message) -> bool:
        user = message.from_user
        wizard = self._wizards.get((message.chat.id, user.id)) if user else None
        if wizard is None:
            return False
        if not self._for_text:
            return True
        if not wizard.waits_for_text:
            return False
        # A reply to anything else (a ballot, a neighbour) is conversation, not an answer.
        replied = message.reply_to_message
        in_forum_topic = self._forum and bool(message.is_topic_message)
        return (
            replied is None
            or replied.message_id == wizard.message_id
            or (in_forum_topic and replied.message_id == message.message_thread_id)
        )


class Wizards(ABC, Generic[W]):
    """The open wizards of one kind in one application and the handlers that move them on."""

    COMMAND: ClassVar[str]  # the command that starts one with no arguments
    TEXTS: ClassVar[str]  # the locale section: <TEXTS>.cancelled, .not_yours, .timed_out
    PRESS: ClassVar[type[WizardPress]]  # its buttons' callback data
    REPLACED: ClassVar[str | None] = None  # said on an unfinished one a new start replaces
    CANCEL_COMMAND: ClassVar[bool] = False  # whether ``/cancel`` with no arguments ends one
    # In a forum topic every message replies to the topic's first one: read it as an answer.
    FORUM_REPLIES: ClassVar[bool] = True

    def __init__(self, application: AnyApplication) -> None:
        self._application = application
        self._open: dict[tuple[int, int], W] = {}
        self._serials = itertools.count(1)
        kind, forum = self.TEXTS, self.FORUM_REPLIES
        self.waiting_for_text = _Waiting(self._open, kind, for_text=True, forum=forum)
        self.open_here = _Waiting(self._open, kind, for_text=False, forum=forum)

    # ---- what each wizard says for itself -----------------------------------------------

    @abstractmethod
    def timeout(self) -> float:
        """Seconds without an answer before the wizard ends."""

    @abstractmethod
    def needs_officer(self, level: str) -> Refusal:
        """The refusal to someone who is not an officer of the chat's node."""

    @abstractmethod
    def new(self, chat_id: int, owner: int, serial: int, locale: str, level: str) -> W:
        """A fresh wizard at its first step."""

    @abstractmethod
    def view(
        self, context: AppContext, wizard: W, error: Html | None = None
    ) -> tuple[Html, InlineKeyboardMarkup]:
        """The wizard message at its current step, with the reason an answer was refused."""

    @abstractmethod
    def answer(self, context: AppContext, wizard: W, typed: str) -> None:
        """Take a typed answer and move to the next step, or raise the reason it is refused."""

    def offers(self, wizard: W, action: str) -> bool:
        """Whether a button of the current step makes ``action`` (others are stale)."""
        return True

    @abstractmethod
    def apply(self, context: AppContext, wizard: W, press: WizardPress) -> bool:
        """Apply a press within the steps; False for one that no button of the step makes."""

    @abstractmethod
    async def complete(self, update: Update, context: AppContext, wizard: W) -> None:
        """The last button (publish, schedule) pressed on the preview; answers the press."""

    # ---- handlers ------------------------------------------------------------------------

    async def start(self, update: Update, context: AppContext) -> None:
        """The command with no arguments in a group: officers only."""
        chat, user = update.effective_chat, update.effective_user
        assert chat is not None and user is not None
        standing = await context.services.roles.standing(actor_of(update, context), chat.id)
        if standing.node is None:
            raise Refusal("orgs.chat_not_bound")
        if not is_officer(standing.rank, standing.node):
            raise self.needs_officer(standing.node.level)
        previous = self._open.pop((chat.id, user.id), None)
        if previous is not None:
            self._disarm(previous)
            if self.REPLACED is None:
                await self._quiet(previous)
            else:
                await self._close_message(previous, self.REPLACED)
        locale = context.locale or context.settings.locale
        wizard = self.new(chat.id, user.id, next(self._serials), locale, standing.node.level)
        sent = await reply(update, context, *self.view(context, wizard))
        if sent is None:
            return
        wizard.message_id = sent.message_id
        self._open[wizard.key] = wizard
        self._arm(wizard)

    async def text(self, update: Update, context: AppContext) -> None:
        """The officer's typed answer to the current step."""
        chat, user, message = update.effective_chat, update.effective_user, update.message
        assert chat is not None and user is not None and message is not None
        wizard = self._open.get((chat.id, user.id))
        if wizard is None or not wizard.waits_for_text:
            return
        self._arm(wizard)
        error: Html | None = None
        try:
            self.answer(context, wizard, message.text or "")
        except Refusal as refusal:
            error = render_refusal(context, refusal)
        # The answer is in the chat now: the old question goes quiet, the next one follows it.
        await self._quiet(wizard)
        sent = await reply(update, context, *self.view(context, wizard, error))
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
        await self._quiet(wizard)
        await reply(update, context, context.t(f"{self.TEXTS}.cancelled"))

    async def button(
        self, update: Update, context: AppContext, query: CallbackQuery, data: WizardPress
    ) -> None:
        chat = update.effective_chat
        wizard = self._open.get((chat.id, data.owner)) if chat else None
        on_message = query.message.message_id if query.message else None
        if (
            wizard is None
            or wizard.serial != data.serial
            or wizard.message_id != on_message
            or not self.offers(wizard, data.action)
        ):
            raise stale_button()
        if query.from_user.id != wizard.owner:
            raise Refusal(f"{self.TEXTS}.not_yours")
        self._arm(wizard)
        if data.action == CANCEL:
            self._open.pop(wizard.key, None)
            self._disarm(wizard)
            await self.edit(wizard, context.t(f"{self.TEXTS}.cancelled"))
            await query.answer()
            return
        if data.action == FINISH and wizard.previewing:
            await self.complete(update, context, wizard)
            return
        if not self.apply(context, wizard, data):
            raise stale_button()
        await self.show(query, context, wizard)

    async def show(
        self, query: CallbackQuery, context: AppContext, wizard: W, error: Html | None = None
    ) -> None:
        """The wizard's message at its (new) step, with ``error`` if any; the press answered."""
        await self.edit(wizard, *self.view(context, wizard, error))
        await query.answer()

    async def run_last_step(self, wizard: W, last: Callable[[], Awaitable[T]]) -> T:
        """Run the wizard's last step (publish, schedule) with the wizard taken out first.

        Taken out before anything is awaited: a second press finds no wizard (stale). A refusal
        puts it back (e.g. no building group for scope=all: the officer can change it).
        """
        self._open.pop(wizard.key, None)
        self._disarm(wizard)
        try:
            return await last()
        except Refusal:
            self._open[wizard.key] = wizard
            self._arm(wizard)
            raise

    # ---- the time limit --------------------------------------------------------------------

    def _arm(self, wizard: W) -> None:
        """(Re)start the wizard's time limit: it expires ``timeout()`` after the last answer."""
        self._disarm(wizard)
        wizard.timer = asyncio.create_task(self._expire(wizard, self.timeout()))

    @staticmethod
    def _disarm(wizard: W) -> None:
        if wizard.timer is not None:
            wizard.timer.cancel()
            wizard.timer = None

    async def _expire(self, wizard: W, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._open.get(wizard.key) is not wizard:
            return
        del self._open[wizard.key]
        wizard.timer = None
        await self._close_message(wizard, f"{self.TEXTS}.timed_out")

    async def close(self) -> None:
        """Stop every time limit (the application is shutting down)."""
        timers = [wizard.timer for wizard in self._open.values() if wizard.timer is not None]
        self._open.clear()
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)

    # ---- messages ------------------------------------------------------------------------

    async def edit(self, wizard: W, text: Html, markup: InlineKeyboardMarkup | None = None) -> None:
        """Edit the wizard's message; the same content again is no error."""
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

    async def _close_message(self, wizard: W, key: str) -> None:
        """Say on the wizard's message that it ended (no buttons left); best effort."""
        text = self._application.bot_data.translator(wizard.locale, key)
        try:
            await self.edit(wizard, text)
        except TelegramError as error:
            log.warning("could not close %s message %s: %s", self.TEXTS, wizard.message_id, error)

    async def _quiet(self, wizard: W) -> None:
        """Take the buttons off the wizard's current message; best effort."""
        with contextlib.suppress(TelegramError):
            await self._application.bot.edit_message_reply_markup(
                chat_id=wizard.chat_id, message_id=wizard.message_id, reply_markup=None
            )

    # ---- wiring --------------------------------------------------------------------------

    def register(self) -> None:
        """Add the handlers; call before the command table so they are tried first."""
        application = self._application
        in_groups = filters.UpdateType.MESSAGE & filters.ChatType.GROUPS
        start = CommandHandler(self.COMMAND, _final(self.start), filters=in_groups, has_args=False)
        cancel = CommandHandler(
            "cancel",
            _final(self.cancel_command),
            filters=in_groups & self.open_here,
            has_args=False,
        )
        press = CallbackQueryHandler(
            _consumed(button(self.PRESS)(self.button)), pattern=self.PRESS.pattern()
        )
        typed = in_groups & filters.TEXT & ~filters.COMMAND & self.waiting_for_text
        text = MessageHandler(typed, _final(self.text))
        for handler in (
            (start, cancel, press, text) if self.CANCEL_COMMAND else (start, press, text)
        ):
            application.add_handler(handler)
        previous = application.post_shutdown

        async def post_shutdown(app: AnyApplication) -> None:
            await self.close()  # every time limit stopped before the application's own
            if previous is not None:
                await previous(app)

        application.post_shutdown = post_shutdown
