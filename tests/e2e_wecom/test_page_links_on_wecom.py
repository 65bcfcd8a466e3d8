"""The web page from WeCom (issue 15): the ballot message ends with the topic's page (a vote
card takes no jump), the meeting card and the escalation card open their page when tapped
(card_action type 1), nothing of it while the web is off; /share answers the link, and the QR
code comes through the group's push webhook. Through the WeCom emulator, which checks the
cards' jumps as doc 101032 specifies; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from emulators.wecom.world import Seen
from storage.database import Database
from tests.e2e_wecom.org_world import (
    BUILDING,
    GRID,
    OrgWorld,
    running_org,
    set_up,
)
from tests.e2e_wecom.test_invitations_on_wecom import a_push_webhook_for_the_building

PUBLIC = "https://yishi.example.org"


@pytest.fixture
async def web_org(database: Database) -> AsyncIterator[OrgWorld]:
    async with running_org(database, YISHI_PUBLIC_URL=PUBLIC) as world:
        yield world


@pytest.fixture
async def web_off(database: Database) -> AsyncIterator[OrgWorld]:
    async with running_org(database) as world:
        yield world


async def until(org: OrgWorld, check: Callable[[], bool]) -> None:
    await org.emu.wait_for(check, timeout=30)
    await org.channel.settle()  # what the meeting set going in the background, done


def cards(org: OrgWorld, userid: str, chatid: str) -> list[dict[str, Any]]:
    return [seen.card for seen in org.seen(userid, chatid) if seen.card is not None]


def texts(org: OrgWorld, userid: str, chatid: str) -> list[str]:
    return [seen.text or "" for seen in org.seen(userid, chatid) if seen.card is None]


async def a_topic(org: OrgWorld, title: str = "楼道灯更换") -> int:
    await org.say("zhaold", BUILDING, f"/topic {title}")
    await until(
        org,
        lambda: any(
            card["card_type"] == "vote_interaction" for card in cards(org, "qianay", BUILDING)
        ),
    )
    return max(await org.services.topics.open_topic_ids())


async def test_the_ballot_message_ends_with_the_page_and_the_vote_card_has_no_jump(
    web_org: OrgWorld,
) -> None:
    await set_up(web_org)
    number = await a_topic(web_org)
    ballot_text = next(text for text in texts(web_org, "qianay", BUILDING) if f"#{number}" in text)
    link = f"{PUBLIC}/t/{number}"
    assert ballot_text.splitlines()[-1] == f"🌐 网页：[{link}]({link})", ballot_text
    vote = next(
        card
        for card in cards(web_org, "qianay", BUILDING)
        if card["card_type"] == "vote_interaction"
    )
    assert "card_action" not in vote and "jump_list" not in vote


async def test_the_meeting_card_opens_its_page(web_org: OrgWorld) -> None:
    await set_up(web_org)
    await web_org.say("zhaold", BUILDING, "/meeting 2026-12-15 19:00 楼栋议事会")
    await until(
        web_org,
        lambda: any(
            card["card_type"] == "button_interaction" for card in cards(web_org, "qianay", BUILDING)
        ),
    )
    meeting = next(
        card
        for card in cards(web_org, "qianay", BUILDING)
        if "楼栋议事会" in card["main_title"]["title"]
    )
    found = re.search(r"#(\d+)", meeting["main_title"]["title"])
    assert found, meeting["main_title"]
    number = int(found.group(1))
    assert meeting["card_action"] == {"type": 1, "url": f"{PUBLIC}/m/{number}"}
    await web_org.channel.settle()


async def test_the_escalation_card_opens_the_topics_page(web_org: OrgWorld) -> None:
    await set_up(web_org)
    number = await a_topic(web_org)
    await web_org.say("zhaold", BUILDING, f"/close {number}")
    await web_org.say("zhaold", BUILDING, f"/escalate {number} 需要网格协调")
    await until(web_org, lambda: bool(cards(web_org, "zhangwg", GRID)))
    card = cards(web_org, "zhangwg", GRID)[-1]
    assert card["card_type"] == "button_interaction"
    assert card["card_action"] == {"type": 1, "url": f"{PUBLIC}/t/{number}"}


async def test_with_the_web_off_nothing_jumps(web_off: OrgWorld) -> None:
    org = web_off
    await set_up(org)
    await a_topic(org)
    assert not any("🌐" in text for text in texts(org, "qianay", BUILDING))
    await org.say("zhaold", BUILDING, "/meeting 2026-12-15 19:00 楼栋议事会")
    await until(
        org,
        lambda: any(
            card["card_type"] == "button_interaction" for card in cards(org, "qianay", BUILDING)
        ),
    )
    assert all("card_action" not in card for card in cards(org, "qianay", BUILDING))
    refused = await org.say("zhaold", BUILDING, "/share 1")
    assert "YISHI_PUBLIC_URL" in (refused.text or "")
    await org.channel.settle()  # what the meeting set going in the background, done


def pictures(org: OrgWorld) -> list[list[str]]:
    decoded = []
    for body in org.emu.webhook_messages.get(BUILDING, []):
        assert body["msgtype"] == "image"
        png = base64.b64decode(body["image"]["base64"])
        decoded.append(
            [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
        )
    return decoded


async def test_share_answers_the_link_and_pushes_its_qr_code(web_org: OrgWorld) -> None:
    await set_up(web_org)
    number = await a_topic(web_org)
    link = f"{PUBLIC}/t/{number}"
    without: Seen = await web_org.say("zhaold", BUILDING, f"/share {number}")
    assert link in (without.text or "") and "/pushwebhook" in (without.text or ""), without.text
    await a_push_webhook_for_the_building(web_org)
    shared = await web_org.say("zhaold", BUILDING, f"/share #{number}")
    assert link in (shared.text or "") and "已通过消息推送" in (shared.text or ""), shared.text
    assert pictures(web_org) == [[link]]
    refused = await web_org.say("qianay", BUILDING, f"/share {number}")
    assert "管理员可以分享" in (refused.text or "") and PUBLIC not in (refused.text or "")
    assert pictures(web_org) == [[link]]
    await web_org.channel.settle()
