"""The 消息推送 group webhook: byte limits, images, 20 a minute per key, recorded per group."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import Any

import aiohttp

from emulators.wecom.server import WeComEmulator
from tests.emulator_wecom.conftest import GROUP

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def push(url: str, body: dict[str, Any]) -> dict[str, Any]:
    data = io.BytesIO(json.dumps(body).encode())  # a 2 MB image: not as one bytes object
    headers = {"Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=data, headers=headers) as response,
    ):
        assert response.status == 200  # WeCom answers 200 and an errcode, refusals included
        result: dict[str, Any] = await response.json()
        return result


def text(content: str) -> dict[str, Any]:
    return {"msgtype": "text", "text": {"content": content}}


def markdown(content: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": content}}


def image(raw: bytes, md5: str | None = None) -> dict[str, Any]:
    encoded = base64.b64encode(raw).decode()
    return {
        "msgtype": "image",
        "image": {"base64": encoded, "md5": md5 or hashlib.md5(raw).hexdigest()},
    }


async def test_messages_within_the_limits_are_shown_in_the_group(emu: WeComEmulator):
    url = emu.add_webhook(GROUP)
    assert (await push(url, text("议" * 682 + "ab")))["errcode"] == 0  # 2048 bytes
    assert (await push(url, markdown("**汇总**\n" + "x" * 4000)))["errcode"] == 0
    assert (await push(url, image(PNG)))["errcode"] == 0
    assert [m["msgtype"] for m in emu.webhook_messages[GROUP]] == ["text", "markdown", "image"]
    assert [s.msgtype for s in emu.world.seen_by("lisi")] == ["text", "markdown", "image"]


async def test_oversize_text_and_markdown_are_refused(emu: WeComEmulator):
    url = emu.add_webhook(GROUP)
    over_text = await push(url, text("议" * 683))  # 2049 bytes
    assert over_text["errcode"] == 40058 and "2048" in over_text["errmsg"]
    over_markdown = await push(url, markdown("议" * 1366))  # 4098 bytes
    assert over_markdown["errcode"] == 40058 and "4096" in over_markdown["errmsg"]
    assert emu.webhook_messages[GROUP] == []
    assert emu.world.seen_by("lisi") == []


async def test_images_are_checked(emu: WeComEmulator):
    url = emu.add_webhook(GROUP)
    assert (await push(url, image(PNG, md5="0" * 32)))["errcode"] == 301019
    assert (await push(url, image(PNG + b"\x00" * (2 * 1024 * 1024))))["errcode"] == 40009
    assert (await push(url, image(b"GIF89a" + b"\x00" * 10)))["errcode"] == 40058
    assert emu.webhook_messages[GROUP] == []


async def test_twenty_a_minute_per_webhook(emu: WeComEmulator, clock):
    url = emu.add_webhook(GROUP)
    codes = [(await push(url, text(f"第{i}条")))["errcode"] for i in range(21)]
    assert codes == [0] * 20 + [45009]
    assert len(emu.webhook_messages[GROUP]) == 20
    clock.advance(59)
    assert (await push(url, text("还不行")))["errcode"] == 45009
    clock.advance(1)
    assert (await push(url, text("可以了")))["errcode"] == 0


async def test_an_unknown_or_removed_key_is_refused(emu: WeComEmulator):
    url = emu.add_webhook(GROUP)
    assert (await push(url + "x", text("hi")))["errcode"] == 93000
    emu.remove_webhook(GROUP)
    assert (await push(url, text("hi")))["errcode"] == 93000


async def upload(url: str, data: bytes, filename: str = "topic-1.csv", kind: str = "file"):
    """``upload_media`` of the webhook ``url``: WeCom's answer."""
    address = url.replace("/webhook/send?", "/webhook/upload_media?") + f"&type={kind}"
    form = aiohttp.FormData()
    media = io.BytesIO(data)  # 20 MB: not as one bytes object
    form.add_field("media", media, filename=filename, content_type="application/octet-stream")
    async with aiohttp.ClientSession() as session, session.post(address, data=form) as response:
        assert response.status == 200
        result: dict[str, Any] = await response.json()
        return result


def file(media_id: str) -> dict[str, Any]:
    return {"msgtype": "file", "file": {"media_id": media_id}}


async def test_a_file_is_uploaded_then_sent_by_its_media_id(emu: WeComEmulator):
    url = emu.add_webhook(GROUP)
    uploaded = await upload(url, "\ufeff选项,票数\r\n同意,3\r\n".encode())
    assert uploaded["errcode"] == 0 and uploaded["type"] == "file" and uploaded["media_id"]
    assert emu.webhook_messages[GROUP] == []  # an upload shows nothing
    assert (await push(url, file(uploaded["media_id"])))["errcode"] == 0
    [sent] = emu.webhook_files(GROUP)
    assert sent.filename == "topic-1.csv" and sent.data.decode().endswith("同意,3\r\n")
    [seen] = emu.world.seen_by("lisi")
    assert seen.msgtype == "file" and seen.text == "topic-1.csv"


async def test_uploads_and_file_messages_are_checked(emu: WeComEmulator, clock):
    url = emu.add_webhook(GROUP)
    assert (await upload(url, b"1234"))["errcode"] == 40006  # under 5 bytes
    assert (await upload(url, b"x" * (20 * 1024 * 1024 + 1)))["errcode"] == 40006
    assert (await upload(url, b"12345", kind="image"))["errcode"] == 40058
    assert (await upload(url + "x", b"12345"))["errcode"] == 93000
    assert (await push(url, file("made-up")))["errcode"] == 40007
    other = emu.add_webhook(GROUP)
    theirs = (await upload(other, b"12345"))["media_id"]
    assert (await push(url, file(theirs)))["errcode"] == 40007  # another webhook's file
    mine = (await upload(url, b"12345"))["media_id"]
    clock.advance(3 * 24 * 3600 + 1)
    assert (await push(url, file(mine)))["errcode"] == 40007  # kept three days
    assert emu.webhook_messages[GROUP] == []


async def test_uploads_do_not_count_towards_twenty_a_minute(emu: WeComEmulator):
    url = emu.add_webhook(GROUP)
    media = [(await upload(url, b"12345"))["media_id"] for _ in range(21)]
    codes = [(await push(url, file(media_id)))["errcode"] for media_id in media]
    assert codes == [0] * 20 + [45009]
