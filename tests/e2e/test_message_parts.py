"""A message the bot sends in several parts (a digest's text and chart; long minutes, then
their photo): when a later part fails, the retry sends only the parts not yet sent
(bot/outbox_parts.py). Restarts between parts: tests/crash/test_restart_digest.py."""

from __future__ import annotations

from datetime import timedelta

from tests.auxil.harness import Harness
from tests.auxil.meetings import schedule, texts
from tests.auxil.topics import publish
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    NEIGHBOUR,
    RESIDENT,
    STAFF,
    STAFF_CHAT,
    community,
)

PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
# Telegram's 502 three times: the transport's two retries fail too, the outbox tries later.
OUTAGE = 3


async def test_a_chart_that_failed_is_sent_later_without_its_text_again(both: Harness) -> None:
    h = both
    await community(h)
    await h.say(STAFF_CHAT, STAFF, "/subscribe")
    ballot = await publish(h, "东门快递柜 期限=1h")  # a tie goes up: the chart has a grid
    await h.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await h.press(BUILDING_CHAT, ballot.message_id, NEIGHBOUR, "反对")
    await h.pass_time(timedelta(hours=1))
    for _ in range(5):  # the daily digests of Wednesday to Sunday
        await h.pass_time(timedelta(days=1))
    h.emu.fail_next("sendPhoto", 502, count=OUTAGE)
    await h.pass_time(timedelta(days=1))  # Monday: the text goes, the chart fails
    digests = [m for m in h.emu.bot_messages(STAFF_CHAT) if (m.text or "").startswith("📊")]
    assert len(digests) == 6
    assert not [m for m in h.emu.bot_messages(STAFF_CHAT) if m.photo]
    await h.pass_time(timedelta(minutes=1))  # the outbox's retry
    assert len([m for m in h.emu.bot_messages(STAFF_CHAT) if m.photo]) == 1
    digests = [m for m in h.emu.bot_messages(STAFF_CHAT) if (m.text or "").startswith("📊")]
    assert len(digests) == 6  # the Monday text was not sent again


async def test_long_minutes_with_a_photo_are_two_parts_each_sent_once(both: Harness) -> None:
    h = both
    await community(h)
    note = await schedule(h, "2026-12-02 19:00 一月会")
    await h.pass_time(timedelta(days=1, hours=12))  # it has started
    body = "楼道照明由物业本月内更换。" * 75  # with its heading, too long for a caption
    h.emu.fail_next("sendPhoto", 502, count=OUTAGE)
    h.emu.send_media(
        BUILDING_CHAT,
        BUILDING_HEAD,
        "photo",
        PHOTO,
        caption=f"/minutes {body}",
        reply_to=note.message_id,
    )
    await h.settle()
    (text,) = texts(h, BUILDING_CHAT, "会议纪要 #1 一月会")
    assert body in (text.text or "") and not text.photo
    await h.pass_time(timedelta(minutes=1))  # the outbox's retry: the photo alone
    published = texts(h, BUILDING_CHAT, "会议纪要 #1 一月会")
    assert [bool(m.photo) for m in published] == [False, True]
    assert body not in (published[1].caption or "")  # under the heading only
