"""/share <id> (a topic) and /share m<id> (a meeting): the page's link and its QR code, for an
officer to paste into a group no bot is in (a personal-WeChat group). The QR code is drawn as
/invite draws its own (bot/services/invitations/printing.py)."""

from __future__ import annotations

import re

from bot.commands.base import Asked, Reply, ReplyFile, UsageError
from bot.services.announcement_texts import Said, Told
from bot.services.errors import Refusal
from bot.services.invitations.printing import qr_png
from bot.services.sharing import SharedPage
from bot.services.web_links import Page

# /share 12, /share #12: a topic; /share m3, /share meeting 3, /share 会议 3: a meeting.
TOPIC = re.compile(r"(?:(?:topic|议题)\s*)?[#＃]?(\d{1,9})", re.IGNORECASE)
MEETING = re.compile(r"(?:m|meeting|会议)\s*[#＃]?(\d{1,9})", re.IGNORECASE)


async def share(asked: Asked) -> Reply:
    words = asked.text.strip()
    if not words:
        raise UsageError("share.usage")
    services = asked.services
    meeting = MEETING.fullmatch(words)
    topic = TOPIC.fullmatch(words)
    if meeting is not None:
        shared = await services.sharing.meeting(asked.actor, asked.place, int(meeting.group(1)))
    elif topic is not None:
        shared = await services.sharing.topic(asked.actor, asked.place, int(topic.group(1)))
    else:
        raise Refusal("share.bad_id", given=words[:20])
    return shared_reply(shared)


def shared_reply(shared: SharedPage) -> Reply:
    key = "share.topic_link" if shared.page is Page.TOPIC else "share.meeting_link"
    told = Told((Said(key, {"id": shared.item, "title": shared.title, "link": shared.link}),))
    name = f"{'topic' if shared.page is Page.TOPIC else 'meeting'}-{shared.item}.png"
    picture = ReplyFile(name, qr_png(shared.link), picture=True, caption=shared.link)
    return Reply(told, files=(picture,))


COMMANDS = {"share": share}
