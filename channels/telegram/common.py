"""What every handler shares: who and where, command arguments, replies and refusals."""

from __future__ import annotations

import functools
import html
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import Forbidden, TelegramError

from bot.commands.base import Asked, Command, Reply, ReplyFile
from bot.commands.menu import answered_on
from bot.services.actors import Actor, ChatKind, Place
from bot.services.announcement_texts import Person, Said, Told
from bot.services.errors import Refusal
from bot.services.organisation.people import SeenUser
from channels.common.answering import AnsweringFirst
from channels.common.refusals import labelled, refusal_said
from channels.common.told import Writer
from channels.telegram.callbacks import CallbackData
from channels.telegram.context import AppContext
from channels.telegram.delivery.privately import tell_privately
from channels.telegram.delivery.refused import chat_refused
from locales import Html, escape
from storage.records import Platform

log = logging.getLogger(__name__)

Handler = Callable[[Update, AppContext], Coroutine[Any, Any, None]]


D = TypeVar("D", bound=CallbackData)
# A button handler's body: the press and its decoded data.
PressBody = Callable[[Update, AppContext, CallbackQuery, D], Coroutine[Any, Any, None]]


def actor_of(update: Update, context: AppContext) -> Actor:
    user = update.effective_user
    assert user is not None  # the middleware drops messages without a sender
    if user.is_bot:
        # An anonymous group admin (GroupAnonymousBot) or a channel writing in the group:
        # nobody the bot can give a role to, register or count.
        raise Refusal("general.anonymous_sender")
    return context.actor(user.id)


def thread_of(message: MaybeInaccessibleMessage | None) -> int | None:
    """The forum topic a message is in; None outside forums and in the General topic (a
    non-forum group's reply thread is not a place to post in)."""
    if not isinstance(message, Message) or not message.is_topic_message:
        return None
    return message.message_thread_id


def replied_message(message: Message | None) -> Message | None:
    """The message this one replies to. In a forum topic Telegram makes every message that
    replies to nothing a reply to the topic's creation: that is no reply."""
    replied = message.reply_to_message if message is not None else None
    if replied is None or message is None:
        return None
    if message.is_topic_message and replied.message_id == message.message_thread_id:
        return None
    return replied


def place_of(update: Update) -> Place:
    chat = update.effective_chat
    assert chat is not None
    kind = ChatKind.PRIVATE if chat.type == "private" else ChatKind.GROUP
    thread = thread_of(update.effective_message)
    return Place(chat_id=chat.id, kind=kind, title=chat.title, thread_id=thread)


def command_text(update: Update) -> str:
    """Everything after the command word (``/cmd@bot``), newlines kept."""
    message = update.effective_message
    text = (message.text or message.caption or "") if message else ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


async def reply(
    update: Update, context: AppContext, text: Html, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer in the chat the update came from, as a reply to its message where there is one.

    None when the chat no longer takes the bot's messages (it was removed from the group, or
    the user blocked it, while the update was being handled): that is noted, nothing fails.
    """
    chat = update.effective_chat
    if chat is None:
        return None
    message = update.effective_message
    reply_to = (
        ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True)
        if message is not None and update.callback_query is None
        else None
    )
    try:
        return await context.bot.send_message(
            chat_id=chat.id,
            text=text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            reply_parameters=reply_to,
            link_preview_options=None,
            message_thread_id=thread_of(message),  # a command in a forum topic: answered there
        )
    except Forbidden as error:
        log.warning("could not answer in chat %s: %s", chat.id, error)
        await chat_refused(context.services, chat.id, error)
        return None


def render_refusal(context: AppContext, refusal: Refusal, locale: str | None = None) -> Html:
    """The refusal's explanation, in ``locale`` (default: the update's language)."""
    translator = context.bot_data.translator
    said = refusal_said(refusal, translator.has)
    return Html(_writer(context).said(locale or context.locale or context.settings.locale, said))


def _writer(context: AppContext) -> Writer:
    translator = context.bot_data.translator
    return Writer(
        translator, escape, context.settings.zone, span=translator.duration, person=person_link
    )


def person_link(person: Person) -> Html:
    """Someone named in a message, as a mention that works without a username."""
    return Html(f'<a href="tg://user?id={person.user_id}">{escape(person.name)}</a>')


def written(context: AppContext, told: Told, locale: str | None = None) -> Html:
    """What the core says, in HTML, in ``locale`` (default: the update's language)."""
    return Html(_writer(context).text(locale or context.locale or context.settings.locale, told))


def answers_refusals(handler: Handler) -> Handler:
    """Turn a :class:`Refusal` into a localised reply or callback alert; nothing else changes.
    What the handler's change caused (the domain's events: notices, cards, refreshes) is acted
    on after it answered, so its own confirmation goes first (:func:`after_the_answer`)."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: AppContext) -> None:
        answering = AnsweringFirst()
        try:
            await handler(update, context)
        except Refusal as refusal:
            query = update.callback_query
            if query is not None:
                await _alert(query, context, refusal)
            elif not await _refused_privately(update, context, refusal):
                await reply(update, context, render_refusal(context, refusal))
        finally:
            answering.answered()

    return wrapper


def stale_button() -> Refusal:
    """A press on a button whose message, item or step is gone or never was ours: raised, it
    is answered with the "stale button" alert and nothing changes."""
    return Refusal("general.stale_button")


def button(codec: type[D]) -> Callable[[PressBody[D]], Handler]:
    """A button handler's opening, written once: the callback data decoded with ``codec``; a
    press whose data does not decode, or whose body raises :func:`stale_button`, answered with
    the "stale button" alert, and any other refusal as an alert, in the presser's language;
    the body not run for a press that does not decode; what the press caused acted on after
    its answer, as :func:`answers_refusals` does. Nothing is awaited before the body (the
    vote's path, docs/PERFORMANCE.md)."""

    def decorate(body: PressBody[D]) -> Handler:
        @functools.wraps(body)
        async def pressed(update: Update, context: AppContext) -> None:
            query = update.callback_query
            assert query is not None
            answering = AnsweringFirst()
            try:
                data = codec.decode(query.data)
                if data is None:
                    raise stale_button()
                await body(update, context, query, data)
            except Refusal as refusal:
                await _alert(query, context, refusal)
            finally:
                answering.answered()

        return pressed

    return decorate


async def _alert(query: CallbackQuery, context: AppContext, refusal: Refusal) -> None:
    # A vote's language may still be being found out (middleware): the alert waits for it.
    await context.language_known()
    text = render_refusal(context, refusal)
    await query.answer(text=_strip_markup(text)[:200], show_alert=True)


async def _refused_privately(update: Update, context: AppContext, refusal: Refusal) -> bool:
    """A mistaken command in a group is explained to its sender privately when they have
    started the bot: the group's 20 messages a minute are for what concerns everyone."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type == "private" or user is None or user.is_bot:
        return False
    return await tell_privately(
        context, user.id, lambda locale: render_refusal(context, refusal, locale)
    )


def _strip_markup(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def is_chat_admin(context: AppContext, chat_id: int, user_id: int) -> bool:
    """Whether the user administers the Telegram group (asked of Telegram, not our roles)."""
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as error:
        log.warning("getChatMember(%s, %s) failed: %s", chat_id, user_id, error)
        return False
    return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


def user_label(first_name: str, last_name: str | None, user_id: int) -> Html:
    """A mention that works without a username: ``<a href="tg://user?id=...">name</a>``."""
    return person_link(Person.of(first_name, last_name, user_id))


async def send_html(context: AppContext, chat_id: int, key: str, **params: Any) -> Message:
    """Send a localised message to a chat other than the update's (in that chat's language)."""
    locale = await context.services.people.chat_locale(chat_id)
    has = context.bot_data.translator.has
    values = {name: labelled(name, value, has) or value for name, value in params.items()}
    return await context.bot.send_message(
        chat_id=chat_id,
        text=_writer(context).said(locale, Said(key, values)),
        parse_mode=ParseMode.HTML,
    )


TELEGRAM_TEXT_LIMIT = 4096


async def reply_long(update: Update, context: AppContext, lines: list[Html]) -> None:
    """Reply with as many messages as it takes, split between lines, never inside one."""
    chunk: list[str] = []
    size = 0
    for line in lines:
        line = Html(line[: TELEGRAM_TEXT_LIMIT - 16])
        if chunk and size + len(line) + 1 > TELEGRAM_TEXT_LIMIT - 16:
            await reply(update, context, Html("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        await reply(update, context, Html("\n".join(chunk)))


async def replied_author(update: Update, context: AppContext) -> int | None:
    """The author of the message this one replies to, known from now on; a bot refused."""
    replied = replied_message(update.effective_message)
    author = replied.from_user if replied is not None else None
    if author is None:
        return None
    if author.is_bot:
        raise Refusal("roles.not_a_bot")
    await context.services.people.seen(
        SeenUser(
            user_id=author.id,
            first_name=author.first_name,
            last_name=author.last_name,
            username=author.username,
            language_code=author.language_code,
        ),
        None,
        None,
        None,
    )
    return author.id


def asked_of(update: Update, context: AppContext) -> Asked:
    """The update as a command of bot/commands reads it."""
    place, actor = place_of(update), actor_of(update, context)

    async def chat_admin() -> bool:
        return await is_chat_admin(context, place.chat_id, actor.user_id)

    async def addressee() -> int | None:
        return await replied_author(update, context)

    return Asked(
        context.services,
        actor,
        place,
        command_text(update),
        context.locale or context.settings.locale,
        context.runtime.membership,
        chat_admin,
        addressee=addressee,
        answers=functools.partial(answered_on, Platform.TELEGRAM),
        message_id=update.effective_message.message_id if update.effective_message else None,
    )


async def reply_with(update: Update, context: AppContext, answer: Reply | None) -> None:
    """A command's reply, in HTML, as an answer to the command's message (in several
    messages, split between its lines, when it is longer than Telegram takes)."""
    if answer is None:
        return
    if answer.locale is not None:
        context.locale = answer.locale
    locale = answer.locale or context.locale or context.settings.locale
    writer = _writer(context)
    await reply_long(
        update, context, [Html(writer.line(locale, line)) for line in answer.told.lines]
    )
    for file in answer.files:
        await reply_file(update, context, file)


async def reply_file(update: Update, context: AppContext, file: ReplyFile) -> None:
    """A command's file after its text: a picture as a photo, anything else as a document."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None:
        return
    thread = thread_of(message)
    try:
        if file.picture:
            await context.bot.send_photo(
                chat_id=chat.id,
                photo=file.data,
                filename=file.filename,
                caption=file.caption,
                message_thread_id=thread,
            )
        else:
            await context.bot.send_document(
                chat_id=chat.id,
                document=file.data,
                filename=file.filename,
                message_thread_id=thread,
            )
    except Forbidden as error:
        log.warning("could not send a file in chat %s: %s", chat.id, error)
        await chat_refused(context.services, chat.id, error)


def told_html(context: AppContext, answer: Reply) -> Html:
    """A command's reply in HTML, in its language or the update's."""
    locale = answer.locale or context.locale or context.settings.locale
    return Html(_writer(context).text(locale, answer.told))


def shared(command: Command) -> Handler:
    """A command of bot/commands as a Telegram handler: the update read into an
    :class:`Asked`, the reply written in HTML as an answer to the command's message (in as
    many messages as it takes, split between lines: /audit's fifty rows)."""

    @answers_refusals
    async def handler(update: Update, context: AppContext) -> None:
        await reply_with(update, context, await command(asked_of(update, context)))

    handler.__name__ = handler.__qualname__ = command.__name__
    return handler
