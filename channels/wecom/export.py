"""``@议事 /export 12`` on WeCom: the topic's record as a CSV file, through the group's push
webhook (消息推送), since WeCom's AI bot sends no file on its long connection.

The same record (bot/services/reports/export.py: who may, what a secret or hidden ballot
leaves out) and the same CSV as Telegram's. A chat with a push webhook (/pushwebhook) gets
the file there (uploaded, then posted as a ``file`` message) and the answer says so; one
without, or one whose webhook refused, is told why and what to do, with the figures in the
answer when they fit in 4096 bytes (the push webhook's markdown limit, kept for all of
WeCom's exports' answers).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from bot.services.errors import Refusal
from bot.services.reports.export import ExportLabels, TopicRecord, render_csv, render_figures
from bot.services.topics.eligibility import parse_topic_id
from channels.wecom.push import PushRefused
from channels.wecom.text import DIGEST_BYTES, utf8_len
from storage.records import Level

if TYPE_CHECKING:
    from channels.wecom.adapter import Message, WeComAdapter

FIGURES_BYTES = DIGEST_BYTES


async def export(adapter: WeComAdapter, msg: Message) -> None:
    who, services = msg.who, adapter.services
    try:
        words = msg.text.split()
        if len(words) != 1:
            raise Refusal("export.usage")
        record = await services.export.record(who.actor, who.place, parse_topic_id(words[0]))
    except Refusal as refusal:
        await adapter.answer(msg, adapter.refusal(who.locale, refusal))
        return
    t = adapter.t
    topic = record.topic
    url = await services.digest.push_webhook(who.place.chat_id) if who.place.is_group else None
    if url is not None:
        data = render_csv(record, _labels(adapter, who.locale))
        try:
            await adapter.pushes.send_file(url, f"topic-{topic.id}.csv", data)
        except PushRefused as refused:
            why = t(who.locale, "wecom.export_refused", id=topic.id, errcode=refused.errcode)
            await adapter.answer(msg, _with_figures(adapter, who.locale, why, record))
            return
        key = "wecom.export_sent_interim" if record.interim else "wecom.export_sent"
        await adapter.answer(msg, t(who.locale, key, id=topic.id, title=topic.title[:200]))
        return
    standing = await services.roles.standing(who.actor, who.place.chat_id)
    here = standing.node is not None and standing.node.level == Level.COMMUNITY
    key = "wecom.export_needs_webhook_here" if here else "wecom.export_needs_webhook"
    why = t(who.locale, key, id=topic.id)
    await adapter.answer(msg, _with_figures(adapter, who.locale, why, record))


def _labels(adapter: WeComAdapter, locale: str) -> ExportLabels:
    translator = adapter.t.translator
    chosen = translator.resolve(locale)
    return ExportLabels(
        t=functools.partial(translator.plain, chosen),
        zone=adapter.services.settings.zone,
        locale=chosen,
    )


def _with_figures(adapter: WeComAdapter, locale: str, why: str, record: TopicRecord) -> str:
    """Why no file came, then the figures if the whole fits in 4096 bytes (else said so)."""
    figures = render_figures(record, _labels(adapter, locale))
    answer = f"{why}\n\n{figures}"
    if utf8_len(answer) <= FIGURES_BYTES:
        return answer
    return f"{why}\n\n{adapter.t(locale, 'wecom.export_figures_too_long', id=record.topic.id)}"
