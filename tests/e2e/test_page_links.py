"""Every message Yishi posts about a topic or a meeting carries its web page (issue 15): on
Telegram a URL button under the ballot message (in every chat it is posted to), the meeting's
announcement and the escalation card; the Mini App's direct link when one is configured;
nothing while the web is off. And /share: an officer's link and QR code for a WeChat group.
End to end through the Bot API emulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from emulators.telegram import EmuMessage
from tests.auxil.harness import Harness
from tests.auxil.meetings import meeting_number, schedule
from tests.auxil.topics import publish, tally, topic_id
from tests.auxil.world import (
    BUILDING_CHAT,
    BUILDING_HEAD,
    GRID_CHAT,
    GRID_WORKER,
    NEIGHBOUR,
    RESIDENT,
    community,
)
from tests.e2e.conftest import running, running_on
from tests.e2e.test_escalation import card_in, tied_topic

PUBLIC = "https://yishi.example.org"
WEB = {"YISHI_PUBLIC_URL": PUBLIC}
TOPIC_BUTTON, RECORD_BUTTON = "🌐 在网页上查看与投票", "🌐 在网页上查看"
MEETING_BUTTON = "🌐 在网页上查看会议"


@pytest.fixture(params=["sqlite", "postgresql"])
async def web(
    request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Harness]:
    async with running_on(request.param, tmp_path, caplog, settings=WEB) as harness:
        yield harness


def page_urls(message: EmuMessage) -> list[str]:
    """The URL buttons that lead to a page of the web (not the private-opinion deep link)."""
    return [
        str(button["url"])
        for row in message.button_rows()
        for button in row
        if "url" in button and "?start=" not in str(button["url"])
    ]


def decoded(picture: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(picture)))]


async def test_the_ballot_carries_its_page_while_open_and_after_the_close(web: Harness) -> None:
    await community(web)
    ballot = await publish(web, "楼道灯更换 期限=1h")
    number = topic_id(ballot)
    assert ballot.button(TOPIC_BUTTON)["url"] == f"{PUBLIC}/t/{number}"
    # the vote buttons first, the private-opinion link, the page last
    assert ballot.button_texts()[:3] == ["同意", "反对", "弃权"]
    assert ballot.button_texts()[-1] == TOPIC_BUTTON
    await web.press(BUILDING_CHAT, ballot.message_id, RESIDENT, "同意")
    await web.settle()
    refreshed = web.emu.message(BUILDING_CHAT, ballot.message_id)
    assert refreshed is not None and tally(refreshed)["同意"] == 1
    assert page_urls(refreshed) == [f"{PUBLIC}/t/{number}"]
    closed = await _closed(web, ballot)
    # the record stays on the page: the vote buttons go, the page's button stays
    assert closed.button_texts() == [RECORD_BUTTON]
    assert page_urls(closed) == [f"{PUBLIC}/t/{number}"]


async def _closed(h: Harness, ballot: EmuMessage) -> EmuMessage:
    from datetime import timedelta

    await h.pass_time(timedelta(hours=1))
    closed = h.emu.message(BUILDING_CHAT, ballot.message_id)
    assert closed is not None and "已结束" in (closed.text or ""), closed
    return closed


async def test_without_a_public_url_no_message_has_a_page_button(h: Harness) -> None:
    await community(h)
    ballot = await publish(h, "楼道灯更换")
    assert page_urls(ballot) == [] and TOPIC_BUTTON not in ballot.button_texts()
    announcement = await schedule(h, "2026-12-15 19:00 楼栋议事会")
    assert page_urls(announcement) == []


async def test_a_mini_app_makes_the_button_its_direct_link(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = {**WEB, "YISHI_TELEGRAM_MINIAPP": "yishi"}
    async with running(tmp_path, caplog, settings=settings) as h:
        await community(h)
        ballot = await publish(h, "楼道灯更换")
        number = topic_id(ballot)
        assert page_urls(ballot) == [f"https://t.me/yishi_bot/yishi?startapp=t{number}"]
        announcement = await schedule(h, "2026-12-15 19:00 楼栋议事会")
        meeting = meeting_number(announcement)
        assert page_urls(announcement) == [f"https://t.me/yishi_bot/yishi?startapp=m{meeting}"]


async def test_a_topic_for_every_building_carries_its_page_in_each_building(
    web: Harness,
) -> None:
    await community(web)
    sent = web.emu.send_message(GRID_CHAT, GRID_WORKER, "/topic 网格停车方案 范围=all")
    await web.emu.wait_for_bot_message(GRID_CHAT, after=sent.message_id)
    await web.settle()
    in_building = next(
        message
        for message in web.emu.bot_messages(BUILDING_CHAT)
        if "网格停车方案" in (message.text or "")
    )
    number = topic_id(in_building)
    assert page_urls(in_building) == [f"{PUBLIC}/t/{number}"]
    assert in_building.button_texts()[-1] == TOPIC_BUTTON


async def test_the_meeting_announcement_carries_its_page(web: Harness) -> None:
    await community(web)
    announcement = await schedule(web, "2026-12-15 19:00 楼栋议事会 地点=活动室")
    meeting = meeting_number(announcement)
    assert announcement.button(MEETING_BUTTON)["url"] == f"{PUBLIC}/m/{meeting}"
    # the answers stay where they were, the page's button below them
    assert announcement.button_texts()[-1] == MEETING_BUTTON
    await web.press(BUILDING_CHAT, announcement.message_id, RESIDENT, "参加")
    await web.settle()
    answered = web.emu.message(BUILDING_CHAT, announcement.message_id)
    assert answered is not None and page_urls(answered) == [f"{PUBLIC}/m/{meeting}"]


async def test_the_escalation_card_carries_the_topics_page(web: Harness) -> None:
    await community(web)
    number = topic_id(await tied_topic(web))
    card = card_in(web, GRID_CHAT)
    assert page_urls(card) == [f"{PUBLIC}/t/{number}"]
    assert card.button_texts()[-1] == RECORD_BUTTON
    await web.press(GRID_CHAT, card.message_id, GRID_WORKER, card.button_texts()[0])
    await web.settle()
    taken = web.emu.message(GRID_CHAT, card.message_id)
    assert taken is not None and page_urls(taken) == [f"{PUBLIC}/t/{number}"]


async def _ballot_edits(h: Harness) -> tuple[int, int]:
    """A topic voted on by three people, one after the other, the tally settled after each;
    then its messages touched once more with nothing changed. How many edits of the ballot
    message were made: (by the votes, by the touch)."""
    await community(h)
    ballot = await publish(h, "楼道灯更换")

    def edits() -> int:
        return sum(
            1
            for call in h.emu.calls_of("editMessageText")
            if str(call.params.get("message_id")) == str(ballot.message_id)
        )

    for voter, option in ((RESIDENT, "同意"), (NEIGHBOUR, "反对"), (BUILDING_HEAD, "同意")):
        await h.press(BUILDING_CHAT, ballot.message_id, voter, option)
        await h.settle()
    by_votes = edits()
    assert h.app is not None
    h.app.bot_data.runtime.live.touch(topic_id(ballot))
    await h.settle()
    return by_votes, edits() - by_votes


async def test_the_page_button_costs_no_edit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The same votes edit the ballot message as often with the web on as off, and a sync
    with nothing changed edits nothing: the button is part of the message's fingerprint and
    never changes."""
    (tmp_path / "off").mkdir()
    (tmp_path / "on").mkdir()
    async with running(tmp_path / "off", caplog) as off:
        without = await _ballot_edits(off)
    async with running(tmp_path / "on", caplog, settings=WEB) as on:
        with_web = await _ballot_edits(on)
    assert with_web == without
    assert with_web[1] == 0


# --- /share -----------------------------------------------------------------------------


def _photo_after(h: Harness, answer: EmuMessage) -> EmuMessage | None:
    later = [
        message
        for message in h.emu.bot_messages(answer.chat_id)
        if message.message_id > answer.message_id and message.photo
    ]
    return later[0] if later else None


async def _shared(h: Harness, chat: int, user: int, words: str) -> tuple[EmuMessage, Any]:
    answer = await h.say(chat, user, f"/share {words}")
    await h.settle()
    return answer, _photo_after(h, answer)


async def test_share_answers_the_topic_page_and_its_qr_code(web: Harness) -> None:
    await community(web)
    number = topic_id(await publish(web, "楼道灯更换"))
    answer, photo = await _shared(web, BUILDING_CHAT, BUILDING_HEAD, f"#{number}")
    link = f"{PUBLIC}/t/{number}"
    assert link in (answer.text or "") and "楼道灯更换" in (answer.text or "")
    assert photo is not None and photo.caption == link
    png = web.emu.world.files[photo.photo[-1]["file_id"]].data
    assert decoded(png) == [link]
    # the grid's officers are above the building: they may share it too
    above, _ = await _shared(web, GRID_CHAT, GRID_WORKER, str(number))
    assert link in (above.text or "")


async def test_share_m_answers_the_meeting_page(web: Harness) -> None:
    await community(web)
    meeting = meeting_number(await schedule(web, "2026-12-15 19:00 楼栋议事会"))
    answer, photo = await _shared(web, BUILDING_CHAT, BUILDING_HEAD, f"m{meeting}")
    link = f"{PUBLIC}/m/{meeting}"
    assert link in (answer.text or "") and "楼栋议事会" in (answer.text or "")
    assert photo is not None and photo.caption == link
    assert decoded(web.emu.world.files[photo.photo[-1]["file_id"]].data) == [link]


async def test_share_refusals_say_why_and_send_nothing(web: Harness) -> None:
    await community(web)
    number = topic_id(await publish(web, "楼道灯更换"))
    for user, words, says in (
        (RESIDENT, str(number), "管理员可以分享"),
        (BUILDING_HEAD, "", "/share 编号"),
        (BUILDING_HEAD, "楼下", "不是议题或会议的编号"),
        (BUILDING_HEAD, "99", "没有编号为 #99 的议题"),
        (BUILDING_HEAD, "m7", "没有编号为 #7 的会议"),
    ):
        answer, photo = await _shared(web, BUILDING_CHAT, user, words)
        assert says in (answer.text or ""), (words, answer.text)
        assert PUBLIC not in (answer.text or "") and photo is None, words
    # a grid's topic is beyond a building head, even asked privately
    sent = web.emu.send_message(GRID_CHAT, GRID_WORKER, "/topic 网格停车方案")
    grid_ballot = await web.emu.wait_for_bot_message(GRID_CHAT, after=sent.message_id)
    grid_topic = str(topic_id(grid_ballot))
    refused, photo = await _shared(web, BUILDING_HEAD, BUILDING_HEAD, grid_topic)
    assert "网格及上级的管理员" in (refused.text or "") and photo is None, refused.text
    # and one not posted in this group is not found from it
    unseen, photo = await _shared(web, BUILDING_CHAT, BUILDING_HEAD, grid_topic)
    assert "不在本群可见的范围内" in (unseen.text or "") and photo is None, unseen.text


async def test_share_with_the_web_off_says_how_to_turn_it_on(h: Harness) -> None:
    await community(h)
    number = topic_id(await publish(h, "楼道灯更换"))
    answer, photo = await _shared(h, BUILDING_CHAT, BUILDING_HEAD, str(number))
    assert "YISHI_PUBLIC_URL" in (answer.text or "") and photo is None


async def test_help_lists_share_for_officers_only(web: Harness) -> None:
    await community(web)
    officer = await web.say(BUILDING_CHAT, BUILDING_HEAD, "/help")
    resident = await web.say(BUILDING_CHAT, RESIDENT, "/help")
    assert "/share" in (officer.text or "") and "/share" not in (resident.text or "")
