"""Meetings on WeCom: ``@议事 /meeting …`` (the one-line form), the meeting cards posted in the
meeting's WeCom chats (its announcement, then each reminder, as the ``button_interaction``
card ``WeComViews.meeting_message`` draws), and the presses on them.

WeCom gives the bot no way to edit a card it sent, except in the answer to a press on it
within 5 s: each card is posted once (its post then holds ``NO_MESSAGE``), and a press on
参加 / 请假 answers with the card as it is now for everyone in that chat; 👥 answers with
the names, in the card of the officer who pressed it only (the others' card is unchanged).

A chat that never wrote to the bot cannot be posted to (WeCom refuses it): its post is marked
``UNREACHABLE`` and the chat the meeting was scheduled in is told, once per message, which
chats were not reached and what to do (an announcement through the outbox, so a scheduling
chat on Telegram is told too). Nothing is retried for it: the next reminder tries again.

The guided form of ``/meeting`` is not offered: in a group the bot reads only messages that
@-mention it, so every step would need one; the usage line says so.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bot.commands.meetings import scheduled_notes
from bot.services.errors import Refusal
from bot.services.meetings import said as meeting_said
from bot.services.meetings.plan import latest_posts
from bot.services.meetings.syntax import parse_meeting
from bot.services.meetings.views import MeetingMove, meeting_message_view
from channels.wecom.announcer import INVALID_CHATID
from channels.wecom.cards import Card, MeetingPress, new_task_id
from channels.wecom.connection import ConnectionLost, WeComRefused
from channels.wecom.text import cut
from storage.records import Platform

if TYPE_CHECKING:
    from channels.wecom.adapter import Message, Pressed, WeComAdapter

log = logging.getLogger(__name__)

ANSWERS = {MeetingMove.ATTEND: "yes", MeetingMove.EXCUSE: "no"}
SUBTITLE_BYTES = 1000


class MeetingCards:
    """The meeting cards of one WeCom channel: posted once each, one occurrence at a time."""

    def __init__(self, adapter: WeComAdapter) -> None:
        self._adapter = adapter
        self._locks: dict[int, asyncio.Lock] = {}
        # chat -> the req_id of a /meeting being answered there: its card is that answer
        self._answering: dict[int, str] = {}

    async def sync(self, occurrence_id: int) -> None:
        """Post the occurrence's cards not posted yet in its WeCom chats (the newest of each
        chat only: an older one is superseded), and tell of the chats WeCom refused."""
        lock = self._locks.setdefault(occurrence_id, asyncio.Lock())
        try:
            async with lock:
                await self._sync(occurrence_id)
        finally:
            if not lock.locked() and self._locks.get(occurrence_id) is lock:
                del self._locks[occurrence_id]

    async def _sync(self, occurrence_id: int) -> None:
        services = self._adapter.services
        view = await services.meetings.view(occurrence_id)
        if view is None:
            return
        latest = latest_posts(view.posts)
        unreached: set[int] = set()
        # the chat whose /meeting is being answered first: its card is that answer
        for post in sorted(view.posts, key=lambda post: post.chat_id not in self._answering):
            if post.message_id is not None or latest[post.chat_id] != post:
                continue
            async with services.database.transaction() as repos:
                address = await repos.chats.address_of(post.chat_id)
            if address is None or address[0] is not Platform.WECOM:
                continue  # another channel's chat
            locale = await services.people.chat_locale(post.chat_id)
            message = meeting_message_view(view, post, live=True)
            card = self._adapter.views.meeting_message(
                message, Card(locale, new_task_id("meet", occurrence_id))
            )
            try:
                req_id = self._answering.get(post.chat_id)
                if req_id is not None:
                    await self._adapter.connection.respond(req_id, card)
                else:
                    await self._adapter.connection.send(address[1], card)
            except WeComRefused as refused:
                if refused.errcode != INVALID_CHATID:
                    log.warning("meeting card for WeCom chat %s refused: %s", post.chat_id, refused)
                    continue  # tried again on the occurrence's next change or restart
                await services.meetings.record_sent(
                    occurrence_id, post.slot, post.chat_id, reached=False
                )
                unreached.add(post.slot)
                continue
            except ConnectionLost as lost:
                log.warning("meeting card for WeCom chat %s not sent: %s", post.chat_id, lost)
                continue
            await services.meetings.record_sent(
                occurrence_id, post.slot, post.chat_id, reached=True
            )
        for slot in sorted(unreached):
            await services.meetings.tell_unreached(occurrence_id, slot)

    async def card(self, occurrence_id: int, chat_id: int, task_id: str) -> dict[str, Any] | None:
        """The chat's card of the occurrence as it is now (its newest message), as a template
        card; one with nothing left to press shows why on a button that does nothing."""
        adapter = self._adapter
        view = await adapter.services.meetings.view(occurrence_id)
        if view is None:
            return None
        post = latest_posts(view.posts).get(chat_id)
        if post is None:
            return None
        locale = await adapter.services.people.chat_locale(chat_id)
        message = meeting_message_view(view, post, live=True)
        drawn = adapter.views.meeting_message(message, Card(locale, task_id))
        template = drawn.get("template_card")
        if isinstance(template, dict):
            return template
        closed = adapter.t.plain(locale, "wecom.meeting_closed_button")
        key = "meetings.reminder_title" if message.reminder else "meetings.announce_title"
        title = adapter.t.plain(locale, key, id=view.meeting.id, title=view.meeting.title)
        status = adapter.t.plain(locale, f"meetings.status_{message.status.value}")
        counts = adapter.t.plain(locale, "meetings.counts", yes=view.attending, no=view.absent)
        return {
            "card_type": "button_interaction",
            "main_title": {"title": cut(title, 120), "desc": cut(f"{status}\n{counts}", 240)},
            "button_list": [{"text": cut(closed, 40), "style": 2, "key": "closed"}],
            "task_id": task_id,
        }

    # -- /meeting --------------------------------------------------------------------------
    async def meeting(self, adapter: WeComAdapter, msg: Message) -> None:
        """Schedule it; the card is the answer here, posted in the meeting's other WeCom
        chats; then what was skipped or where it went, if anything."""
        services, who = adapter.services, msg.who
        if not msg.text:
            await adapter.answer(msg, adapter.t(who.locale, "wecom.meeting_usage"))
            return
        chat = who.place.chat_id
        self._answering[chat] = msg.req_id
        try:
            draft = parse_meeting(
                msg.text, now=services.clock.now(), zone=services.settings.zone, locale=who.locale
            )
            scheduled = await services.meetings.schedule(who.actor, who.place, draft)
            await self.sync(scheduled.occurrence.id)
        except Refusal as refusal:
            await adapter.answer(msg, adapter.refusal(who.locale, refusal))
            return
        finally:
            self._answering.pop(chat, None)
        notes = scheduled_notes(scheduled, services.settings.zone)
        if notes:
            await adapter.answer(msg, adapter.writer.lines(who.locale, notes))


async def meeting(adapter: WeComAdapter, msg: Message) -> None:
    await adapter.meeting_cards.meeting(adapter, msg)


async def press(adapter: WeComAdapter, pressed: Pressed, press: MeetingPress) -> None:
    """参加 / 请假: recorded, and the card as it is now for everyone in the chat; 👥: the
    names, for the officer who pressed only. A refused press: the card with why, for the
    presser only."""
    cards, who = adapter.meeting_cards, pressed.who
    chat = who.place.chat_id
    card = await cards.card(press.occurrence_id, chat, pressed.task_id)
    if card is None:
        await adapter.stale(pressed)
        return
    meetings = adapter.services.meetings
    try:
        if press.move is MeetingMove.WHO:
            detail = await meetings.who_answered(who.actor, press.occurrence_id)
            answers = meeting_said.answers(detail.answers or [], who.locale)
            names = adapter.plain_lines(who.locale, tuple(answers))
            title = adapter.t.plain(who.locale, "wecom.meeting_who_title")
            card["main_title"]["desc"] = cut(title, 240)
            card["sub_title_text"] = cut(names, SUBTITLE_BYTES)
            await adapter.connection.update_card(pressed.req_id, card, userids=[who.userid])
            return
        await meetings.answer(who.actor, chat, press.occurrence_id, ANSWERS[press.move])
    except Refusal as refusal:
        said = adapter.refusal_plain(who.locale, refusal)
        title = card["main_title"]
        title["desc"] = cut(f"{said}\n{title.get('desc', '')}", 240)
        await adapter.connection.update_card(pressed.req_id, card, userids=[who.userid])
        return
    updated = await cards.card(press.occurrence_id, chat, pressed.task_id)
    assert updated is not None
    await adapter.connection.update_card(pressed.req_id, updated)
