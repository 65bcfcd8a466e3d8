"""Household invitations (/invite, /revoke): a 楼栋长 brings a household with no bot (a
personal-WeChat group) onto the web page. The commands run end to end through the Telegram
emulator; the QR codes sent are read back; the web page's side (redeem, is_active, a vote) is
the service the page will call, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from bot.services.actors import Actor
from bot.services.errors import Refusal
from bot.services.invitations.service import INVITATION_TTL
from emulators.telegram import EmuMessage
from storage.tables import ballots
from tests.auxil.harness import Harness
from tests.auxil.topics import publish, register_household, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    OTHER_BUILDING_CHAT,
    RESIDENT,
    code_in,
    community,
    count,
    rows,
)
from tests.e2e.conftest import running, running_on

PUBLIC = "https://yishi.example.org"
LINK = re.compile(re.escape(PUBLIC) + r"/join/([a-z0-9]+)")
WEB = {"YISHI_PUBLIC_URL": PUBLIC}


class NoMembership:
    """The web page's probe: a web-only person is a member of no chat."""

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        return False

    async def member_count(self, chat_id: int) -> int | None:
        return None


@pytest.fixture
async def web(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    async with running(tmp_path, caplog, settings=WEB) as harness:
        yield harness


@pytest.fixture(params=["sqlite", "postgresql"])
async def both(
    request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Harness]:
    async with running_on(request.param, tmp_path, caplog, settings=WEB) as harness:
        yield harness


def decoded(picture: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(picture)))]


def file_of(h: Harness, message: EmuMessage) -> bytes:
    if message.photo:
        return h.emu.world.files[message.photo[-1]["file_id"]].data
    assert message.document is not None
    return h.emu.world.files[message.document["file_id"]].data


async def invite(h: Harness, unit: str, *, by: int = BUILDING_HEAD) -> str:
    """/invite <unit> in the building group; the code of the link, checked against its QR."""
    answer = await h.say(BUILDING_CHAT, by, f"/invite {unit}")
    match = LINK.search(answer.text or "")
    assert match, answer.text
    await h.emu.wait_until(lambda: h.last_bot_message(BUILDING_CHAT).photo is not None)
    photo = h.last_bot_message(BUILDING_CHAT)
    assert decoded(file_of(h, photo)) == [match.group(0)]
    return match.group(1)


# --- The officer's commands, through Telegram ------------------------------------------------


async def test_invite_sends_a_one_time_link_and_its_qr_code(web: Harness) -> None:
    await community(web)
    answer = await web.say(BUILDING_CHAT, BUILDING_HEAD, "/invite 2-502")
    assert "1号楼 2-502" in (answer.text or "") and "30 天内有效" in (answer.text or "")
    code = LINK.search(answer.text or "")
    assert code
    await web.emu.wait_until(lambda: web.last_bot_message(BUILDING_CHAT).photo is not None)
    assert decoded(file_of(web, web.last_bot_message(BUILDING_CHAT))) == [code.group(0)]
    redeemed = await web.services.invitations.redeem(code.group(1), "2-502")
    assert redeemed.unit == "2-502" and redeemed.node.name == "1号楼"


async def test_a_resident_may_not_invite_and_nothing_is_issued(web: Harness) -> None:
    await community(web)
    answer = await web.say(BUILDING_CHAT, RESIDENT, "/invite 2-502")
    assert "楼栋长" in (answer.text or "") and not LINK.search(answer.text or "")
    assert await count(web, rows(_invitations())) == 0


async def test_without_a_public_url_the_web_is_off_and_says_how_to_turn_it_on(
    h: Harness,
) -> None:
    await community(h)
    answer = await h.say(BUILDING_CHAT, BUILDING_HEAD, "/invite 2-502")
    assert "YISHI_PUBLIC_URL" in (answer.text or "")
    assert await count(h, rows(_invitations())) == 0


async def test_bad_input_changes_nothing(web: Harness) -> None:
    await community(web)
    for text, says in (
        ("/invite", "/invite 单元-房号"),
        ("/invite 楼下", "楼下"),
        ("/invite 2-510~2-501", "不是有效的范围"),
        ("/invite 2-101~2-199", "按楼层分开写"),
        ("/revoke 2-502", "没有可撤销"),
    ):
        answer = await web.say(BUILDING_CHAT, BUILDING_HEAD, text)
        assert says in (answer.text or ""), (text, answer.text)
    assert await count(web, rows(_invitations())) == 0


async def test_the_building_sheet_is_a_pdf_with_one_qr_code_per_unit(web: Harness) -> None:
    await community(web)
    answer = await web.say(BUILDING_CHAT, BUILDING_HEAD, "/invite 1-101~1-104 1-201~1-204 3-101")
    assert "9 户" in (answer.text or ""), answer.text
    await web.emu.wait_until(lambda: web.last_bot_message(BUILDING_CHAT).document is not None)
    sheet = web.last_bot_message(BUILDING_CHAT)
    assert sheet.document is not None and sheet.document["file_name"].endswith(".pdf")
    pdf = file_of(web, sheet)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) == 2  # 6 + 3
    # The same pages as pictures (what WeCom gets): one QR code per unit, each one redeems.
    command = await _pictures_of_sheet(web, "1-101~1-104 1-201~1-204 3-101")
    links = [link for page in command for link in decoded(page)]
    assert len(links) == 9 and len(set(links)) == 9
    code = LINK.fullmatch(links[0])
    assert code
    assert (await web.services.invitations.look(code.group(1))).unit.startswith("1-")


async def test_invite_all_covers_every_household_the_building_knows(web: Harness) -> None:
    await community(web)
    empty = await web.say(BUILDING_CHAT, BUILDING_HEAD, "/invite all")
    assert "还没有任何已知住户" in (empty.text or "")
    await register_household(web, "2-502", "89.5")
    await invite(web, "3-301")  # an invited household is known too
    answer = await web.say(BUILDING_CHAT, BUILDING_HEAD, "/invite all")
    assert "2 户" in (answer.text or "") and "2-502, 3-301" in (answer.text or "")


async def test_revoke_ends_the_households_web_access(web: Harness) -> None:
    await community(web)
    code = await invite(web, "2-502")
    unused = await invite(web, "2-502")
    redeemed = await web.services.invitations.redeem(code, "2-502")
    assert await web.services.invitations.is_active(redeemed.user_id)
    answer = await web.say(BUILDING_CHAT, BUILDING_HEAD, "/revoke 2-502")
    assert "2 个邀请码" in (answer.text or "") and "1 位网页住户" in (answer.text or "")
    assert not await web.services.invitations.is_active(redeemed.user_id)
    assert await web.services.invitations.is_active(BUILDING_HEAD)  # a chat person: untouched
    with pytest.raises(Refusal) as refused:
        await web.services.invitations.redeem(unused, "2-502")
    assert refused.value.key == "invitations.revoked"


async def test_an_officer_invites_privately_for_their_one_building(web: Harness) -> None:
    await community(web)
    await web.say(BUILDING_HEAD, BUILDING_HEAD, "/start")
    await web.say(GRID_WORKER, GRID_WORKER, "/start")
    answer = await web.say(BUILDING_HEAD, BUILDING_HEAD, "/invite 5-101")
    assert LINK.search(answer.text or ""), answer.text
    worker = await web.say(GRID_WORKER, GRID_WORKER, "/invite 5-101")
    assert "楼栋群" in (worker.text or "") and not LINK.search(worker.text or "")


# --- The web page's side: the services, on SQLite and PostgreSQL -----------------------------


async def test_redeem_once_then_refused_with_the_reason(both: Harness) -> None:
    await community(both)
    service = both.services.invitations
    code = await invite(both, "2-502")
    wrong = await _refused(service.redeem(code, "2-503"))
    assert wrong == "invitations.wrong_unit"
    assert (await _refused(service.redeem(code, "楼上"))) == "invitations.wrong_unit"
    redeemed = await service.redeem(code, "２－５０２")  # as a phone may type it
    assert await service.is_active(redeemed.user_id)
    assert (await _refused(service.redeem(code, "2-502"))) == "invitations.used"
    assert (await _refused(service.look(code))) == "invitations.used"
    for hostile in ("nosuchcode", "", "x" * 10_000, "../join/' OR 1=1 --", "\u0000"):
        assert (await _refused(service.redeem(hostile, "2-502"))) == "invitations.unknown_code"
    assert (await _refused(service.look(code + "x"))) == "invitations.unknown_code"
    members = await both.say(BUILDING_CHAT, BUILDING_HEAD, "/members")
    assert "2-502" in (members.text or "")


async def test_an_invitation_expires_after_30_days(both: Harness) -> None:
    await community(both)
    code = await invite(both, "2-502")
    assert timedelta(days=30) == INVITATION_TTL
    both.clock.advance(INVITATION_TTL)
    assert (await _refused(both.services.invitations.redeem(code, "2-502"))) == (
        "invitations.expired"
    )


async def test_another_buildings_officer_is_refused(both: Harness) -> None:
    await community(both)
    issued = await both.say(GRID_CHAT, GRID_WORKER, "/newbuilding 2号楼")
    await both.group(OTHER_BUILDING_CHAT, "2号楼议事群", members=[RESIDENT], admins=[GRID_WORKER])
    await both.say(OTHER_BUILDING_CHAT, GRID_WORKER, f"/bind {code_in(issued.text)}")
    hello = both.emu.send_message(OTHER_BUILDING_CHAT, RESIDENT, "我是2号楼楼长")
    await both.say(
        OTHER_BUILDING_CHAT, GRID_WORKER, "/role building_head", reply_to=hello.message_id
    )
    # 2号楼's head in 1号楼's group: no officer there.
    answer = await both.say(BUILDING_CHAT, RESIDENT, "/invite 2-502")
    assert "楼栋长" in (answer.text or "") and not LINK.search(answer.text or "")
    code = await invite(both, "2-502")
    revoke = await both.say(BUILDING_CHAT, RESIDENT, "/revoke 2-502")
    assert "楼栋长" in (revoke.text or "")
    assert (await both.services.invitations.look(code)).unit == "2-502"  # still good
    # A grid worker is above every building of the grid: allowed.
    assert LINK.search((await both.say(BUILDING_CHAT, GRID_WORKER, "/invite 2-503")).text or "")


async def test_one_ballot_per_household_when_chat_and_web_both_vote(both: Harness) -> None:
    await community(both)
    await register_household(both, "2-502", "89.5", user=RESIDENT)
    code = await invite(both, "2-502")
    web_person = (await both.services.invitations.redeem(code, "2-502")).user_id
    ballot = await publish(both, "加装电梯 按户=yes 期限=1d")
    await both.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    receipt = await both.services.topics.vote(
        Actor(web_person), BUILDING_CHAT, topic_id(ballot), 1, NoMembership()
    )
    assert receipt.changed and receipt.option == "反对"
    assert await count(both, rows(ballots)) == 1
    # A per-person topic counts the group's members: the web-only person is told why not.
    person_topic = await publish(both, "换物业 期限=1d")
    with pytest.raises(Refusal) as refused:
        await both.services.topics.vote(
            Actor(web_person), BUILDING_CHAT, topic_id(person_topic), 0, NoMembership()
        )
    assert refused.value.key == "topics.web_household_only"
    # Revoked, the web-only person votes no more; the household's ballot stays.
    await both.say(BUILDING_CHAT, BUILDING_HEAD, "/revoke 2-502")
    with pytest.raises(Refusal):
        await both.services.topics.vote(
            Actor(web_person), BUILDING_CHAT, topic_id(ballot), 0, NoMembership()
        )
    assert await count(both, rows(ballots)) == 1


# ---------------------------------------------------------------------------------------------


def _invitations() -> object:
    from storage.tables import household_invitations

    return household_invitations


async def _refused(call: object) -> str:
    with pytest.raises(Refusal) as refused:
        await call  # type: ignore[misc]
    return refused.value.key


async def _pictures_of_sheet(h: Harness, units: str) -> list[bytes]:
    """The sheet's pages as WeCom gets them, from the shared command itself."""
    from bot.commands import COMMANDS, Asked
    from bot.services.actors import ChatKind, Place

    async def no() -> bool:
        return False

    asked = Asked(
        h.services,
        Actor(BUILDING_HEAD),
        Place(BUILDING_CHAT, ChatKind.GROUP),
        units,
        "zh_CN",
        NoMembership(),
        no,
    )
    reply = await COMMANDS["invite"](asked)
    assert reply is not None and len(reply.files) == 1
    drawn = reply.files[0].pictures
    assert drawn is not None
    return list(await drawn())
