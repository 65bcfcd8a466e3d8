"""Tests of the Bot API emulator, driven for real by python-telegram-bot."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from emulators.telegram import BotApiEmulator, EmulatorClient
from emulators.telegram.entities import parse_html

pytestmark = pytest.mark.asyncio

ALICE, BOB, CAROL = 1001, 1002, 1003
GROUP = -1001234567890
PNG_1x2 = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x02rest"


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    emulator.add_user(ALICE, "Alice", username="alice")
    emulator.add_user(BOB, "Bob", last_name="B")
    emulator.add_user(CAROL, "Carol")
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest_asyncio.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as b:
        yield b


@asynccontextmanager
async def running_app(
    emu: BotApiEmulator,
    handlers: Sequence[BaseHandler[Any, Any, Any]],
    allowed_updates: list[str] | None = None,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    app = (
        Application.builder()
        .token(emu.token)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=allowed_updates)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Yes", callback_data="vote:yes"),
            InlineKeyboardButton("No", callback_data="vote:no"),
        ],
        [InlineKeyboardButton("Docs", url="https://example.org")],
    ]
)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    args = " ".join(context.args or [])
    await update.effective_message.reply_text(
        f"<b>Vote</b> please {args}".strip(), parse_mode="HTML", reply_markup=KEYBOARD
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"got {query.data}", show_alert=query.data == "vote:no")
    await query.edit_message_text(f"You chose {query.data}")


async def test_command_reply_button_answer_edit(emu: BotApiEmulator) -> None:
    emu.add_group(GROUP, "Building 3", members=[ALICE, BOB], creator=CAROL)
    handlers = [CommandHandler("start", on_start), CallbackQueryHandler(on_button)]
    async with running_app(emu, handlers):
        sent = emu.send_message(GROUP, ALICE, "/start@yishi_bot")
        assert sent.entities == [{"type": "bot_command", "offset": 0, "length": 16}]
        reply = await emu.wait_for_bot_message(GROUP, after=sent.message_id)
        assert reply.message_id == sent.message_id + 1  # ids shared by users and the bot
        assert reply.text == "Vote please"
        assert reply.entities == [{"type": "bold", "offset": 0, "length": 4}]
        assert reply.reply_to_message_id == sent.message_id
        assert reply.button_texts() == ["Yes", "No", "Docs"]

        with pytest.raises(LookupError, match="available: \\['Yes', 'No', 'Docs'\\]"):
            emu.press_button(GROUP, reply.message_id, BOB, "Maybe")
        with pytest.raises(ValueError, match="not a callback button"):
            emu.press_button(GROUP, reply.message_id, BOB, "Docs")

        query_id = emu.press_button(GROUP, reply.message_id, BOB, "No")
        assert await emu.wait_for_answer(query_id) == {
            "text": "got vote:no",
            "show_alert": True,
            "url": None,
            "cache_time": None,
        }
        edited = await emu.wait_for_bot_message(GROUP, predicate=lambda m: m.edit_date is not None)
        assert edited.text == "You chose vote:no"
        assert edited.reply_markup is None  # editMessageText without markup drops it
        assert [v.text for v in edited.history] == ["Vote please"]
        await emu.wait_idle()

    (send,) = emu.calls_of("sendMessage")
    assert send.params["reply_parameters"] == {"message_id": sent.message_id}
    assert send.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "vote:yes"
    assert send.result["reply_to_message"]["text"] == "/start@yishi_bot"
    assert send.result["from"]["username"] == "yishi_bot"
    assert [c.ok for c in emu.calls_of("editMessageText")] == [True]
    assert emu.calls_of("getMe")
    assert emu.calls_of("deleteWebhook")
    assert emu.pending_updates == 0


async def test_private_deep_link_and_privacy_mode(emu: BotApiEmulator) -> None:
    emu.add_group(GROUP, "Quiet", members=[ALICE, BOB], bot_admin=False)
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen.append(update.effective_message.text or "")

    handlers = [CommandHandler("start", on_start), MessageHandler(filters.TEXT, record)]
    async with running_app(emu, handlers):
        sent = emu.send_message(ALICE, ALICE, "/start ref_42")
        reply = await emu.wait_for_bot_message(ALICE, after=sent.message_id)
        assert reply.text == "Vote please ref_42"
        assert emu.world.chats[ALICE].type == "private"

        emu.send_message(GROUP, ALICE, "chit-chat")  # invisible to a non-admin bot
        emu.send_message(GROUP, BOB, "hey @yishi_bot")
        await emu.wait_idle()
    assert seen == ["hey @yishi_bot"]
    assert [m.text for m in emu.chat_messages(GROUP) if not m.service] == [
        "chit-chat",
        "hey @yishi_bot",
    ]


async def test_document_and_photo_round_trip(emu: BotApiEmulator, bot: Bot) -> None:
    emu.send_message(ALICE, ALICE, "/start")
    payload = "楼栋,votes\n3,12\n".encode()
    msg = await bot.send_document(
        ALICE, payload, filename="result.csv", caption="<i>Results</i>", parse_mode="HTML"
    )
    assert msg.document is not None
    assert msg.document.file_name == "result.csv"
    assert msg.caption == "Results"
    assert msg.caption_entities[0].type == "italic"
    stored = emu.bot_messages(ALICE)[-1]
    assert stored.document is not None
    assert stored.document["file_size"] == len(payload)
    assert emu.world.files[msg.document.file_id].data == payload
    assert emu.calls_of("sendDocument")[0].params["document"]["upload"] == "result.csv"

    file = await bot.get_file(msg.document.file_id)
    assert file.file_path is not None
    assert file.file_path.startswith(emu.base_file_url)
    assert bytes(await file.download_as_bytearray()) == payload

    again = await bot.send_document(ALICE, msg.document.file_id)  # resend by file_id
    assert again.document is not None
    assert again.document.file_id == msg.document.file_id

    photo = await bot.send_photo(ALICE, PNG_1x2, caption="plan")
    assert (photo.photo[-1].width, photo.photo[-1].height) == (1, 2)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(ALICE, "no-such-file-id")


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("AT&T", "Character '&' at byte offset 2"),
        ("<foo>x</foo>", 'Unsupported start tag "foo"'),
        ("<b>x</i>", 'expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<a href='x'", "Unclosed start tag"),
    ],
)
async def test_html_errors_surface_as_bad_request(
    emu: BotApiEmulator, bot: Bot, html: str, error: str
) -> None:
    emu.send_message(ALICE, ALICE, "/start")
    with pytest.raises(BadRequest, match=r"(?i)^can't parse entities: "):
        await bot.send_message(ALICE, html, parse_mode="HTML")
    description = emu.calls_of("sendMessage")[-1].description or ""
    assert description.startswith("Bad Request: can't parse entities: ")
    assert error in description


async def test_html_entities_use_utf16_offsets(emu: BotApiEmulator, bot: Bot) -> None:
    emu.send_message(ALICE, ALICE, "/start")
    text = (
        '😀 <b>粗<i>斜</i></b> &lt;&amp;&gt;&quot;&#39; <a href="https://x.org/?a=1&amp;b=2">l</a>'
        ' <tg-spoiler>s</tg-spoiler> <pre><code class="language-py">x=1</code></pre>'
    )
    msg = await bot.send_message(ALICE, text, parse_mode="HTML")
    assert msg.text == "😀 粗斜 <&>\"' l s x=1"
    got = [(e.type, e.offset, e.length) for e in msg.entities]
    assert got == [
        ("bold", 3, 2),
        ("italic", 4, 1),
        ("text_link", 12, 1),
        ("spoiler", 14, 1),
        ("pre", 16, 3),
    ]
    assert msg.entities[2].url == "https://x.org/?a=1&b=2"
    assert msg.entities[4].language == "py"
    emu.strict_html = False  # like real Telegram: a bare "&" is kept
    assert (await bot.send_message(ALICE, "AT&T <b>ok</b>", parse_mode="HTML")).text == "AT&T ok"
    assert parse_html("<blockquote expandable>q</blockquote>")[1][0]["type"] == (
        "expandable_blockquote"
    )


async def test_length_limits(emu: BotApiEmulator, bot: Bot) -> None:
    emu.send_message(ALICE, ALICE, "/start")
    await bot.send_message(ALICE, "x" * 4096)
    await bot.send_message(ALICE, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Message is too long"):
        await bot.send_message(ALICE, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)Message text is empty"):
        await bot.send_message(ALICE, " \n ")
    with pytest.raises(BadRequest, match=r"(?i)Message caption is too long"):
        await bot.send_document(ALICE, b"data", filename="a.txt", caption="c" * 1025)


async def test_edit_errors_and_button_validation(emu: BotApiEmulator, bot: Bot) -> None:
    emu.send_message(ALICE, ALICE, "/start")
    msg = await bot.send_message(ALICE, "Hello", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"(?i)Message is not modified: specified new message"):
        await bot.edit_message_text("Hello", ALICE, msg.message_id, reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"(?i)Message is not modified"):
        await bot.edit_message_reply_markup(ALICE, msg.message_id, reply_markup=KEYBOARD)
    await bot.edit_message_reply_markup(ALICE, msg.message_id, reply_markup=None)
    assert emu.message(ALICE, msg.message_id).reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)Message to edit not found"):
        await bot.edit_message_text("x", ALICE, 999)
    user_msg = emu.send_message(ALICE, ALICE, "mine")
    with pytest.raises(BadRequest, match=r"(?i)Message can't be edited"):
        await bot.edit_message_text("x", ALICE, user_msg.message_id)
    assert await bot.delete_message(ALICE, msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)Message to delete not found"):
        await bot.delete_message(ALICE, msg.message_id)

    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)Button_data_invalid"):
        await bot.send_message(ALICE, "buttons", reply_markup=too_long)
    with pytest.raises(BadRequest, match=r"(?i)Message to be replied not found"):
        await bot.send_message(ALICE, "re", reply_to_message_id=12345)


async def test_callback_answer_rules(emu: BotApiEmulator, bot: Bot) -> None:
    emu.send_message(ALICE, ALICE, "/start")
    msg = await bot.send_message(ALICE, "pick", reply_markup=KEYBOARD)
    query_id = emu.press_callback(ALICE, msg.message_id, ALICE, "forged:data")
    (update,) = await bot.get_updates(offset=emu.world.updates.pending[-1]["update_id"])
    assert update.callback_query is not None
    assert update.callback_query.data == "forged:data"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == msg.message_id
    assert await bot.answer_callback_query(query_id, "ok")
    with pytest.raises(BadRequest, match=r"(?i)Query is too old"):
        await bot.answer_callback_query(query_id, "twice")
    with pytest.raises(BadRequest, match=r"(?i)Query is too old"):
        await bot.answer_callback_query("42")


async def test_migrate_to_supergroup(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_group(-555, "Old group", type="group", members=[ALICE], creator=BOB)
    new = emu.migrate_to_supergroup(-555, -1005550000)
    assert new.members == {ALICE: "member", BOB: "creator"}
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(-555, "hello?")
    assert info.value.new_chat_id == -1005550000
    assert emu.calls_of("sendMessage")[-1].description == (
        "Bad Request: group chat was upgraded to a supergroup chat"
    )
    updates = await bot.get_updates()
    kinds = [u.effective_message.chat.id for u in updates if u.effective_message]
    assert kinds == [-555, -555, -1005550000]  # new_chat_members, migrate_to, migrate_from
    assert updates[-2].message is not None
    assert updates[-2].message.migrate_to_chat_id == -1005550000
    assert updates[-1].message is not None
    assert updates[-1].message.migrate_from_chat_id == -555
    sent = await bot.send_message(-1005550000, "moved")
    assert sent.chat.type == "supergroup"
    assert sent.message_id == 2


async def test_fail_next_and_latency(
    emu: BotApiEmulator, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB 22 warns about int retry_after otherwise
    emu.send_message(ALICE, ALICE, "/start")
    emu.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(ALICE, "flood")
    assert flood.value.retry_after == dt.timedelta(seconds=3)
    assert emu.calls_of("sendMessage")[-1].description == "Too Many Requests: retry after 3"
    emu.fail_next("SENDMESSAGE", 400, "Bad Request: injected", count=2)
    for _ in range(2):
        with pytest.raises(BadRequest, match=r"(?i)Injected"):
            await bot.send_message(ALICE, "x")
    emu.latency = 0.05
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bot.send_message(ALICE, "finally")
    assert loop.time() - started >= 0.05
    assert [c.ok for c in emu.calls_of("sendMessage")] == [False, False, False, True]


async def test_a_held_call_waits_and_never_happens_if_its_client_goes(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.send_message(ALICE, ALICE, "/start")
    emu.hold("sendMessage")
    url = f"{emu.base_url}{emu.token}/sendMessage"
    async with aiohttp.ClientSession() as http:
        request = asyncio.create_task(http.post(url, json={"chat_id": ALICE, "text": "lost"}))
        await emu.wait_until(lambda: len(emu.held_calls) == 1)
        request.cancel()  # the client goes away, as a killed bot does
        with pytest.raises(asyncio.CancelledError):
            await request
    await emu.wait_until(lambda: not emu.held_calls)
    assert emu.calls_of("sendMessage")[-1].error_code == 499
    sent = asyncio.create_task(bot.send_message(ALICE, "kept"))
    await emu.wait_until(lambda: len(emu.held_calls) == 1)
    emu.release("sendMessage")
    await sent
    assert [m.text for m in emu.bot_messages(ALICE)] == ["kept"]


async def test_get_updates_offset_semantics(emu: BotApiEmulator, bot: Bot) -> None:
    for text in ("one", "two", "three"):
        emu.send_message(ALICE, ALICE, text)
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["one", "two", "three"]
    again = await bot.get_updates()  # not confirmed yet: delivered again
    assert [u.update_id for u in again] == [u.update_id for u in first]
    assert [u.update_id for u in await bot.get_updates(offset=first[1].update_id)] == [
        first[1].update_id,
        first[2].update_id,
    ]
    assert await bot.get_updates(offset=first[-1].update_id + 1) == ()
    assert emu.pending_updates == 0
    assert emu.confirmed_offset == first[-1].update_id + 1

    emu.send_message(ALICE, ALICE, "four")
    emu.send_message(ALICE, ALICE, "five")
    (last,) = await bot.get_updates(offset=-1)  # negative offset forgets earlier ones
    assert last.message is not None
    assert last.message.text == "five"
    assert emu.pending_updates == 1

    # Long polling returns as soon as an update arrives: well before the poll's own timeout
    # (a poll that waited it out would take 60 s; even a busy machine answers far sooner).
    offset = last.update_id + 1
    calls = len(emu.calls_of("getUpdates"))
    poll = asyncio.create_task(bot.get_updates(offset=offset, timeout=60))
    await emu.wait_until(lambda: len(emu.calls_of("getUpdates")) > calls)
    assert not poll.done()
    emu.send_message(ALICE, ALICE, "six")
    (six,) = await asyncio.wait_for(poll, 20)  # TimeoutError if the poll waited on
    assert six.message is not None
    assert six.message.text == "six"

    # allowed_updates is remembered and filters updates created afterwards.
    await bot.get_updates(offset=six.update_id + 1, allowed_updates=["callback_query"])
    emu.send_message(ALICE, ALICE, "filtered out")
    assert emu.pending_updates == 0


async def test_wait_idle(emu: BotApiEmulator) -> None:
    emu.send_message(ALICE, ALICE, "/start")
    with pytest.raises(TimeoutError, match="not fetched/confirmed"):
        await emu.wait_idle(timeout=0.1)
    async with running_app(emu, [CommandHandler("start", on_start)]):
        await emu.wait_idle(quiet=0.1)
        assert emu.pending_updates == 0
        assert [m.text for m in emu.bot_messages(ALICE)] == ["Vote please"]
    with pytest.raises(TimeoutError, match="no bot message in chat 1001 with message_id > 2"):
        await emu.wait_for_bot_message(ALICE, after=2, timeout=0.05)


async def test_raw_http_protocol(emu: BotApiEmulator) -> None:
    emu.send_message(ALICE, ALICE, "/start")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{emu.base_url}wrong:token/getMe") as r:
            assert r.status == 401
            assert await r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with http.post(f"{emu.base_url}{emu.token}/noSuchMethod") as r:
            assert r.status == 404
            assert (await r.json())["description"] == "Not Found"
        async with http.get(f"{emu.base_url}{emu.token}/GETME") as r:
            me = await r.json()
            assert me["ok"]
            assert me["result"]["username"] == "yishi_bot"
        body = {"chat_id": ALICE, "text": "json", "reply_markup": {"inline_keyboard": []}}
        async with http.post(f"{emu.base_url}{emu.token}/sendmessage", json=body) as r:
            result = (await r.json())["result"]
            assert result["chat"] == {
                "id": ALICE,
                "first_name": "Alice",
                "username": "alice",
                "type": "private",
            }
        url = f"{emu.base_url}{emu.token}/sendMessage?chat_id=-42&text=x"
        async with http.get(url) as r:
            assert r.status == 400
            assert await r.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }


async def test_membership_errors_and_queries(emu: BotApiEmulator, bot: Bot) -> None:
    with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
        await bot.send_message(BOB, "hi")
    emu.add_group(GROUP, "G", members=[ALICE], admins=[BOB], creator=CAROL)
    assert (await bot.get_chat_member(GROUP, CAROL)).status == "creator"
    assert (await bot.get_chat_member(GROUP, BOB)).status == "administrator"
    assert (await bot.get_chat_member(GROUP, emu.world.bot.id)).status == "administrator"
    emu.add_user(2000, "Stranger")
    assert (await bot.get_chat_member(GROUP, 2000)).status == "left"
    with pytest.raises(BadRequest, match=r"(?i)User not found"):
        await bot.get_chat_member(GROUP, 999999)
    admins = await bot.get_chat_administrators(GROUP)
    assert sorted(a.user.id for a in admins) == sorted([BOB, CAROL, emu.world.bot.id])
    assert await bot.get_chat_member_count(GROUP) == 4
    chat = await bot.get_chat(GROUP)
    assert chat.title == "G"
    assert chat.type == "supergroup"

    emu.remove_bot(GROUP, CAROL)
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the supergroup chat"):
        await bot.send_message(GROUP, "still here?")
    updates = await bot.get_updates()
    member_updates = [u.my_chat_member for u in updates if u.my_chat_member]
    assert [(m.old_chat_member.status, m.new_chat_member.status) for m in member_updates] == [
        ("left", "administrator"),
        ("administrator", "kicked"),
    ]
    emu.send_message(ALICE, ALICE, "/start")
    emu.block_bot(ALICE)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(ALICE, "hi")
    with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
        await bot.send_message(-777, "hi")


async def test_chat_member_updates_need_allowed_updates(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_group(GROUP, "G", members=[ALICE], creator=CAROL)
    emu.add_member(GROUP, BOB)  # chat_member not requested: only the service message
    updates = await bot.get_updates()
    assert not any(u.chat_member for u in updates)
    assert updates[-1].message is not None
    assert [u.id for u in updates[-1].message.new_chat_members] == [BOB]

    await bot.get_updates(
        offset=updates[-1].update_id + 1, allowed_updates=["message", "chat_member"]
    )
    emu.set_status(GROUP, BOB, "administrator", by=CAROL)
    emu.remove_member(GROUP, ALICE, by=CAROL, ban=True)
    updates = await bot.get_updates()
    summary = [
        (u.chat_member.old_chat_member.status, u.chat_member.new_chat_member.status)
        if u.chat_member
        else ("left_chat_member", u.message.left_chat_member.id)  # type: ignore[union-attr]
        for u in updates
    ]
    assert summary == [
        ("member", "administrator"),
        ("left_chat_member", ALICE),
        ("member", "kicked"),
    ]


async def test_commands_per_scope(emu: BotApiEmulator, bot: Bot) -> None:
    from telegram import BotCommand, BotCommandScopeAllGroupChats

    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("vote", "投票")])
    await bot.set_my_commands(
        [BotCommand("help", "帮助")], scope=BotCommandScopeAllGroupChats(), language_code="zh"
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start", "vote"]
    scoped = await bot.get_my_commands(scope=BotCommandScopeAllGroupChats(), language_code="zh")
    assert [(c.command, c.description) for c in scoped] == [("help", "帮助")]
    assert await bot.get_my_commands(scope=BotCommandScopeAllGroupChats()) == ()
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


async def test_control_api_client(emu: BotApiEmulator) -> None:
    async with (
        EmulatorClient(emu.url) as client,
        running_app(emu, [CommandHandler("start", on_start), CallbackQueryHandler(on_button)]),
    ):
        await client.add_user(3001, "Dora")
        await client.add_group(-1009, "Remote", members=[3001], creator=3001)
        sent = await client.send_message(-1009, 3001, "/start")
        reply = await client.wait_for_bot_message(
            -1009, after=sent["message_id"], text_contains="Vote", has_buttons=True
        )
        query_id = await client.press_button(-1009, reply["message_id"], 3001, "Yes")
        assert (await client.wait_for_answer(query_id))["text"] == "got vote:yes"
        await client.wait_idle(quiet=0.05)
        texts = [m["text"] for m in await client.messages(-1009) if m["text"]]
        assert texts == ["/start", "You chose vote:yes"]
        state = await client.state()
        assert state["pending_updates"] == 0
        assert "-1009" in state["messages"]
        with pytest.raises(TimeoutError, match="no matching bot message"):
            await client.wait_for_bot_message(-1009, after=99, timeout=0.05, text_contains="z")
        with pytest.raises(Exception, match="unknown user 4040"):
            await client.send_message(-1009, 4040, "who am I")


async def test_wrong_token_is_invalid_token(emu: BotApiEmulator) -> None:
    bad = Bot("999:WRONG", base_url=emu.base_url, base_file_url=emu.base_file_url)
    try:
        with pytest.raises(InvalidToken):
            await bad.initialize()
    finally:
        await bad.shutdown()


async def test_slow_answers_and_connection_resets_in_order(emu: BotApiEmulator, bot: Bot) -> None:
    emu.send_message(ALICE, ALICE, "/start")
    # One queue per method, taken in order: slow, then a reset before handling (the message
    # is never sent), then a reset after it (sent, but the answer is lost), then normal.
    emu.slow_next("sendMessage", 0.2)
    emu.reset_next("sendMessage")
    emu.reset_next("sendMessage", after=True)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await bot.send_message(ALICE, "slow")).text == "slow"
    assert loop.time() - started >= 0.2
    for text in ("never", "unanswered"):
        with pytest.raises(NetworkError, match=r"(?i)disconnected"):
            await bot.send_message(ALICE, text)
    await bot.send_message(ALICE, "normal")
    assert [m.text for m in emu.bot_messages(ALICE)] == ["slow", "unanswered", "normal"]
    calls = emu.calls_of("sendMessage")
    assert [(c.ok, c.description) for c in calls[1:3]] == [
        (False, "connection reset by the emulator"),
        (True, "connection reset by the emulator"),
    ]
    async with EmulatorClient(emu.url) as client:  # the same through the control API
        await client.call("reset_next", method="getChat")
        await client.call("slow_next", method="getChat", delay=0.01)
        await client.call("clear_faults", method="getChat")
    assert (await bot.get_chat(ALICE)).id == ALICE
    with pytest.raises(ValueError, match="unknown Bot API method"):
        emu.reset_next("sendTelepathy")
