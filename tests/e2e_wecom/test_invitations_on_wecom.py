"""Household invitations on WeCom: `@议事 /invite 2-502` in the building group is answered with
the one-time link; the QR code picture comes through the group's push webhook when it has one
(an AI bot sends no picture of its own), else the answer says what to do; the building's sheet
comes as its pages' pictures; `/revoke` ends the household's web access."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import AsyncIterator

import pytest
import zxingcpp
from PIL import Image

from bot.services.actors import ChatKind
from storage.database import Database
from storage.records import Platform
from storage.tables import household_invitations
from tests.e2e_wecom.org_world import BUILDING, START, OrgWorld, running_org, set_up

PUBLIC = "https://yishi.example.org"
LINK = re.compile(re.escape(PUBLIC) + r"/join/([a-z0-9]+)")


@pytest.fixture
async def web_org(database: Database) -> AsyncIterator[OrgWorld]:
    async with running_org(database, YISHI_PUBLIC_URL=PUBLIC) as world:
        yield world


def pictures(org: OrgWorld) -> list[list[str]]:
    """What each picture pushed to the building group's webhook decodes to."""
    decoded = []
    for body in org.emu.webhook_messages.get(BUILDING, []):
        assert body["msgtype"] == "image"
        png = base64.b64decode(body["image"]["base64"])
        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
        decoded.append([barcode.text for barcode in found])
    return decoded


async def a_push_webhook_for_the_building(org: OrgWorld) -> None:
    """The building group's 消息推送 webhook, kept as /pushwebhook keeps a staff group's."""
    url = org.emu.add_webhook(BUILDING)
    async with org.services.database.transaction() as repos:
        officer = await repos.users.known_on(Platform.WECOM, "zhaold")
        group = await repos.chats.seen_on(
            Platform.WECOM, BUILDING, type=ChatKind.GROUP.value, title=None, now=START
        )
        assert officer is not None
        await repos.chats.set_push_webhook(group[0], url, officer, START)


async def test_invite_answers_the_link_and_says_how_to_get_the_picture(web_org: OrgWorld) -> None:
    await set_up(web_org)
    answer = await web_org.say("zhaold", BUILDING, "/invite 2-502")
    match = LINK.search(answer.text or "")
    assert match, answer.text
    assert "3号楼 2-502" in (answer.text or "") and "/pushwebhook" in (answer.text or "")
    redeemed = await web_org.services.invitations.redeem(match.group(1), "2-502")
    assert redeemed.node.name == "3号楼"
    refused = await web_org.say("qianay", BUILDING, "/invite 2-503")
    assert "楼栋长" in (refused.text or "") and not LINK.search(refused.text or "")
    assert await web_org.count(household_invitations) == 1


async def test_the_qr_code_and_the_sheet_come_by_the_push_webhook(web_org: OrgWorld) -> None:
    await set_up(web_org)
    await a_push_webhook_for_the_building(web_org)
    answer = await web_org.say("zhaold", BUILDING, "/invite 2-502")
    match = LINK.search(answer.text or "")
    assert match and "已通过消息推送" in (answer.text or ""), answer.text
    assert pictures(web_org) == [[match.group(0)]]

    # The sheet takes a second or two to draw: waited for longer than a word.
    issued = await web_org.emu.mention("zhaold", BUILDING, "/invite 1-101~1-104 1-201~1-204")
    await web_org.emu.wait_for_frame("aibot_respond_msg", req_id=issued.req_id, timeout=30)
    sheet = web_org.last("zhaold", BUILDING)
    assert "8 户" in (sheet.text or "") and "已通过消息推送" in (sheet.text or ""), sheet.text
    pages = pictures(web_org)[1:]
    assert [len(page) for page in pages] == [6, 2]
    assert len({link for page in pages for link in page}) == 8

    revoked = await web_org.say("zhaold", BUILDING, "/revoke 2-502")
    assert "已撤销 **2-502** 的 1 个邀请码" in (revoked.text or ""), revoked.text
