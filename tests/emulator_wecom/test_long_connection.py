"""The long connection: subscribe, heartbeat, one connection per bot, callbacks and replies."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from emulators.wecom.behaviour import Behaviour
from emulators.wecom.driver import TooManyInFlight
from emulators.wecom.server import WeComEmulator
from emulators.wecom.world import Place
from tests.emulator_wecom.conftest import BOT_ID, GROUP, SECRET, BotClient


async def test_subscribe_with_the_right_secret_is_acked_with_its_req_id(emu: WeComEmulator):
    client = await BotClient.connect(emu.ws_url)
    ack = await client.call("aibot_subscribe", {"bot_id": BOT_ID, "secret": SECRET}, "sub_1")
    assert ack == {"headers": {"req_id": "sub_1"}, "errcode": 0, "errmsg": "ok"}
    assert BOT_ID in emu.live
    await client.close()


async def test_a_bad_secret_is_refused_with_853000_and_the_socket_stays_open(emu: WeComEmulator):
    client = await BotClient.connect(emu.ws_url)
    ack = await client.subscribe(secret="wrong")
    assert ack["errcode"] == 853000
    assert "invalid bot_id or secret" in ack["errmsg"]
    assert (await client.call("ping"))["errcode"] == 0  # still open, as measured
    assert BOT_ID not in emu.live
    refused = await client.call("aibot_send_msg", {"chatid": GROUP, "msgtype": "markdown"})
    assert refused["errcode"] == 846609  # nothing but ping before a subscription
    await client.close()


async def test_ping_is_answered_by_a_plain_ack(bot: BotClient):
    ack = await bot.call("ping", req_id="ping_42")
    assert ack == {"headers": {"req_id": "ping_42"}, "errcode": 0, "errmsg": "ok"}


async def test_without_pings_the_server_disconnects(clock):
    emulator = WeComEmulator(behaviour=Behaviour(heartbeat_timeout=1.0), clock=clock)
    emulator.add_bot(BOT_ID, SECRET)
    async with emulator:
        client = await BotClient.connect(emulator.ws_url)
        await client.subscribe()
        for _ in range(6):  # pinging keeps it open past the timeout
            await asyncio.sleep(0.25)
            assert (await client.call("ping"))["errcode"] == 0
        await asyncio.wait_for(client.closed.wait(), 3.0)
        assert BOT_ID not in emulator.live
        await client.close()


async def test_a_second_connection_kicks_the_first(emu: WeComEmulator, bot: BotClient):
    newer = await BotClient.connect(emu.ws_url)
    assert (await newer.subscribe())["errcode"] == 0
    event = await bot.next_push()
    assert event["cmd"] == "aibot_event_callback"
    assert event["body"]["event"] == {"eventtype": "disconnected_event"}
    assert "from" not in event["body"]
    refused = await bot.call("aibot_send_msg", {"chatid": GROUP, "msgtype": "markdown"})
    assert refused["errcode"] == 846609  # open a little longer, but no longer subscribed
    await asyncio.wait_for(bot.closed.wait(), 2.0)
    assert emu.live[BOT_ID] is emu.connections[-1]
    assert (await newer.call("ping"))["errcode"] == 0
    await newer.close()


async def test_a_mention_arrives_and_the_streamed_reply_is_seen_by_the_group(
    emu: WeComEmulator, bot: BotClient
):
    issued = await emu.mention("zhangsan", GROUP, "/topic 加装电梯 三天")
    push = await bot.next_push()
    assert push["cmd"] == "aibot_msg_callback"
    assert push["headers"]["req_id"] == issued.req_id
    body = push["body"]
    assert body["chatid"] == GROUP and body["chattype"] == "group"
    assert body["from"] == {"userid": "zhangsan"}
    assert body["text"] == {"content": "@议事 /topic 加装电梯 三天"}
    assert body["msgid"] and body["aibotid"] == BOT_ID and body["response_url"]
    req_id = push["headers"]["req_id"]

    def stream(content: str, finish: bool) -> dict:
        return {"msgtype": "stream", "stream": {"id": "S1", "finish": finish, "content": content}}

    for content, finish in (("正在", False), ("已发布：加装电梯", True), ("too late", False)):
        ack = await bot.call("aibot_respond_msg", stream(content, finish), req_id=req_id)
        assert ack == {"headers": {"req_id": req_id}, "errcode": 0, "errmsg": "ok"}
    for person in ("lisi", "wangwu"):
        seen = emu.world.seen_by(person, Place("group", GROUP))
        assert [s.text for s in seen] == ["@议事 /topic 加装电梯 三天", "已发布：加装电梯"]
        assert seen[1].sender == f"bot:{BOT_ID}"


async def test_a_reply_needs_a_req_id_wecom_issued_for_it(emu: WeComEmulator, bot: BotClient):
    markdown = {"msgtype": "markdown", "markdown": {"content": "hi"}}
    assert (await bot.call("aibot_respond_msg", markdown, "made_up"))["errcode"] == 846605
    issued = await emu.enter_chat("lisi")
    await bot.next_push()
    stream = {"msgtype": "stream", "stream": {"id": "x", "finish": True, "content": "hi"}}
    # an enter_chat's req_id takes a welcome only
    assert (await bot.call("aibot_respond_msg", stream, issued.req_id))["errcode"] == 846605
    welcome = {"msgtype": "text", "text": {"content": "您好"}}
    ack = await bot.call("aibot_respond_welcome_msg", welcome, issued.req_id)
    assert ack["errcode"] == 0
    assert [s.text for s in emu.world.seen_by("lisi")] == ["您好"]
    assert emu.world.seen_by("zhangsan") == []


async def test_a_proactive_send_needs_the_chat_to_have_written_first(
    emu: WeComEmulator, bot: BotClient
):
    send = {"chatid": GROUP, "msgtype": "markdown", "markdown": {"content": "**会议提醒**"}}
    refused = await bot.call("aibot_send_msg", send)
    assert refused["errcode"] == emu.behaviour.proactive_refused_errcode
    assert emu.world.seen_by("lisi") == []
    single = {"chatid": "lisi", "msgtype": "markdown", "markdown": {"content": "提醒"}}
    assert (await bot.call("aibot_send_msg", single))["errcode"] != 0
    await emu.mention("zhangsan", GROUP, "/help")
    await emu.write("lisi", "你好")
    assert (await bot.call("aibot_send_msg", send))["errcode"] == 0
    assert (await bot.call("aibot_send_msg", {**single, "chat_type": 1}))["errcode"] == 0
    assert emu.world.seen_by("wangwu")[-1].text == "**会议提醒**"
    assert emu.world.seen_by("lisi")[-1].text == "提醒"
    wrong_case = {**send, "chatid": GROUP.lower()}
    assert (await bot.call("aibot_send_msg", wrong_case))["errcode"] == 93006


async def test_a_bot_added_back_to_a_group_posts_there_after_it_is_written_to_again(
    emu: WeComEmulator, bot: BotClient
):
    send = {"chatid": GROUP, "msgtype": "markdown", "markdown": {"content": "**会议提醒**"}}
    await emu.mention("zhangsan", GROUP, "/help")
    assert (await bot.call("aibot_send_msg", send))["errcode"] == 0
    emu.readd_bot(GROUP)
    refused = await bot.call("aibot_send_msg", send)
    assert refused["errcode"] == emu.behaviour.proactive_refused_errcode
    await emu.mention("lisi", GROUP, "/meetings")
    assert (await bot.call("aibot_send_msg", send))["errcode"] == 0


async def test_replies_and_sends_share_30_a_minute_per_conversation(
    emu: WeComEmulator, bot: BotClient, clock
):
    await emu.mention("zhangsan", GROUP, "/help")
    send = {"chatid": GROUP, "msgtype": "markdown", "markdown": {"content": "x"}}
    codes = [(await bot.call("aibot_send_msg", send))["errcode"] for _ in range(31)]
    assert codes == [0] * 30 + [45009]
    clock.advance(60)
    assert (await bot.call("aibot_send_msg", send))["errcode"] == 0


async def test_markdown_over_20480_bytes_is_refused(emu: WeComEmulator, bot: BotClient):
    issued = await emu.mention("zhangsan", GROUP, "/digest")
    exact = {"msgtype": "markdown", "markdown": {"content": "议" * 6826 + "ab"}}  # 20480 bytes
    over = {"msgtype": "markdown", "markdown": {"content": "议" * 6827}}  # 20481 bytes
    assert (await bot.call("aibot_respond_msg", over, issued.req_id))["errcode"] == 40058
    assert (await bot.call("aibot_respond_msg", exact, issued.req_id))["errcode"] == 0
    assert len(emu.world.seen_by("lisi")) == 2  # the mention, and the one that fit


async def test_a_response_url_posts_one_new_message_within_the_hour(
    emu: WeComEmulator, bot: BotClient
):
    issued = await emu.mention("zhangsan", GROUP, "/digest")
    url = issued.body["response_url"]
    body = {"msgtype": "markdown", "markdown": {"content": "**本周汇总**"}}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=body) as response:
            assert (await response.json())["errcode"] == 0
        async with session.post(url, json=body) as response:
            assert (await response.json())["errcode"] != 0  # one use only
    assert [s.text for s in emu.world.seen_by("wangwu")] == ["@议事 /digest", "**本周汇总**"]


async def test_an_unknown_cmd_is_refused(bot: BotClient):
    assert (await bot.call("aibot_upload_media_init", {"type": "file"}))["errcode"] != 0


def self_signed(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context for 127.0.0.1 and a client context that trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openws.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


async def test_the_long_connection_over_tls(tmp_path: Path, clock):
    """The Python SDK only speaks wss:// (it always passes ssl=): the fake can serve TLS."""
    server_context, client_context = self_signed(tmp_path)
    emulator = WeComEmulator(clock=clock)
    emulator.add_bot(BOT_ID, SECRET)
    await emulator.start(ssl_context=server_context)
    try:
        assert emulator.ws_url.startswith("wss://127.0.0.1:")
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(emulator.ws_url, ssl=client_context) as ws,
        ):
            await ws.send_json(
                {
                    "cmd": "aibot_subscribe",
                    "headers": {"req_id": "sub"},
                    "body": {"bot_id": BOT_ID, "secret": SECRET},
                }
            )
            ack = await ws.receive_json(timeout=3)
            assert ack == {"headers": {"req_id": "sub"}, "errcode": 0, "errmsg": "ok"}
    finally:
        await emulator.stop()


async def test_a_person_has_at_most_three_messages_being_answered(
    emu: WeComEmulator, bot: BotClient, clock
):
    asked = [await emu.mention("lisi", GROUP, f"/result {i}") for i in range(3)]
    with pytest.raises(TooManyInFlight):
        await emu.mention("lisi", GROUP, "/result 4")
    await emu.write("wangwu", "你好")  # others are not held up
    unfinished = {"msgtype": "stream", "stream": {"id": "a", "finish": False, "content": "…"}}
    await bot.call("aibot_respond_msg", unfinished, asked[0].req_id)
    with pytest.raises(TooManyInFlight):
        await emu.write("lisi", "还在等")
    finished = {"msgtype": "stream", "stream": {"id": "a", "finish": True, "content": "结果"}}
    await bot.call("aibot_respond_msg", finished, asked[0].req_id)
    await emu.mention("lisi", GROUP, "/result 4")
    clock.advance(6 * 60)  # unanswered ones are given up with the stream window
    await emu.mention("lisi", GROUP, "/result 5")


async def test_text_with_images_arrives_as_a_mixed_message(emu: WeComEmulator, bot: BotClient):
    await emu.mention("zhangsan", GROUP, "楼道堆物，见图", images=["https://img.test/1.jpg"])
    body = (await bot.next_push())["body"]
    assert body["msgtype"] == "mixed"
    text, image = body["mixed"]["msg_item"]
    assert text == {"msgtype": "text", "text": {"content": "@议事 楼道堆物，见图"}}
    assert image["msgtype"] == "image"
    assert image["image"]["url"] == "https://img.test/1.jpg" and image["image"]["aeskey"]


async def test_feedback_on_a_message_arrives_as_an_event_that_takes_no_answer(
    emu: WeComEmulator, bot: BotClient
):
    issued = await emu.mention("zhangsan", GROUP, "/result 3")
    await bot.next_push()
    first = {"id": "S", "finish": True, "content": "通过", "feedback": {"id": "FB-3"}}
    await bot.call("aibot_respond_msg", {"msgtype": "stream", "stream": first}, issued.req_id)
    rated = await emu.give_feedback("lisi", "FB-3", 2, content="能再详细一些么", reasons=[2])
    event = (await bot.next_push())["body"]["event"]
    assert event == {
        "eventtype": "feedback_event",
        "feedback_event": {
            "id": "FB-3",
            "type": 2,
            "content": "能再详细一些么",
            "inaccurate_reason_list": [2],
        },
    }
    markdown = {"msgtype": "markdown", "markdown": {"content": "谢谢"}}
    assert (await bot.call("aibot_respond_msg", markdown, rated.req_id))["errcode"] == 846605
