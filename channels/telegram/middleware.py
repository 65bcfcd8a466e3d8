"""Work done once per update before any handler: record who and where, pick the language.

A redelivered update never gets here: the inbox (channels/telegram/inbox.py) lets each update id
through once.

Recording costs more than most handlers (two upserts and a commit to wait for), and
nearly every update repeats what the last one from the same person in the same chat said.
So it is skipped when this process already wrote exactly these names, language code, chat
type and title for this (user, chat), less than ``REFRESH`` ago, and the language read then is
used (``storage/repositories/seen.py`` says why that language cannot be stale). A press by
someone new in a group recorded lately is handled while their row is written, and a vote in
a group not recorded lately learns the group's language while its ballot is written.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.services.organisation.people import PeopleService, SeenUser
from channels.telegram.callbacks import is_vote
from channels.telegram.context import AppContext
from storage.repositories.seen import REFRESH, SeenEntry, SeenMemo, seen_memo

log = logging.getLogger(__name__)


async def know_the_update(update: Update, context: AppContext) -> None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None and update.effective_message is not None:
        # Telegram names a sender for every message the bot receives (a stand-in user for an
        # anonymous admin or a channel); a message without one is nobody's to act on.
        raise ApplicationHandlerStop
    seen = (
        SeenUser(
            user_id=user.id,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            language_code=user.language_code,
        )
        if user is not None and not user.is_bot
        else None
    )
    if seen is None and chat is None:
        context.locale = context.settings.locale
        return
    services = context.services
    now = context.bot_data.clock.now()
    memo = seen_memo(services.database.engine.sync_engine)
    key = (seen.user_id if seen else None, chat.id if chat else None)
    facts = (seen, chat.type if chat else None, chat.title if chat else None)
    known = memo.get(key)
    if known is not None and known.facts == facts and now - known.written_at < REFRESH:
        context.locale = known.locale
        return
    version = memo.version
    # A group answers in its own language: someone new in a group this process recorded
    # lately, as it is, needs only their own row written.
    group = chat is not None and chat.type != "private"
    group_key = (None, chat.id if chat else None)
    group_facts = (None, facts[1], facts[2])
    recorded = memo.get(group_key) if group else None
    if (
        recorded is not None
        and recorded.facts == group_facts
        and now - recorded.written_at < REFRESH
    ):
        context.locale = recorded.locale
        entry = SeenEntry(facts, now, context.locale)
        if update.callback_query is not None:
            # A button press does not need its presser's row (the only rows that refer to a
            # user's, a registration and a role, are written by commands): the press is
            # handled while the row is written, in the same group commit as its ballot
            # rather than a commit earlier.
            context.runtime.spawn(_record_user(services.people, seen, memo, key, entry, version))
            return
        await services.people.seen(seen, None, None, None)
        memo.remember(key, entry, version=version)
        return

    async def record() -> str:
        locale = await services.people.seen(
            seen,
            chat.id if chat else None,
            chat.type if chat else None,
            chat.title if chat else None,
        )
        memo.remember(key, SeenEntry(facts, now, locale), version=version)
        if group:
            memo.remember(group_key, SeenEntry(group_facts, now, locale), version=version)
        return locale

    if group and update.callback_query is not None and is_vote(update.callback_query.data):
        # A vote needs the group's language only to answer, once its ballot is written: the
        # sighting that returns it goes in the same group commit as the ballot instead of a
        # commit earlier (the vote handler waits for it before answering).
        context.locale_later(asyncio.ensure_future(record()))
        return
    context.locale = await record()


async def _record_user(
    people: PeopleService,
    seen: SeenUser | None,
    memo: SeenMemo,
    key: tuple[int | None, int | None],
    entry: SeenEntry,
    version: int,
) -> None:
    try:
        await people.seen(seen, None, None, None)
    except Exception:  # the press goes on without it (last_seen and names only)
        log.exception("could not record user %s", seen.user_id if seen else None)
        return
    memo.remember(key, entry, version=version)
