"""The emulator's forum supergroups, driven by python-telegram-bot as Telegram would be."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Bot, ReplyParameters
from telegram.error import BadRequest, ChatMigrated

from emulators.telegram import BotApiEmulator

ALICE = 1001
FORUM, PLAIN = -1009990001, -1009990002


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator()
    await emulator.start()
    emulator.add_user(ALICE, "Alice")
    emulator.add_group(FORUM, "Forum", creator=ALICE, forum=True)
    emulator.add_group(PLAIN, "Plain", creator=ALICE)
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest_asyncio.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as b:
        yield b


async def test_messages_in_a_topic_carry_its_thread_and_general_none(
    emu: BotApiEmulator, bot: Bot
) -> None:
    thread = emu.create_forum_topic(FORUM, ALICE, "停车")
    emu.send_message(FORUM, ALICE, "in the topic", thread=thread)
    emu.send_message(FORUM, ALICE, "in General")
    updates = [u.message for u in await bot.get_updates() if u.message]
    created, topical, general = updates[-3:]
    assert created.forum_topic_created is not None and created.forum_topic_created.name == "停车"
    assert created.message_id == thread and created.chat.is_forum
    assert topical.message_thread_id == thread and topical.is_topic_message
    # As in Telegram: a message in a topic that replies to nothing replies to its creation.
    assert topical.reply_to_message is not None
    assert topical.reply_to_message.message_id == thread
    assert general.message_thread_id is None and not general.is_topic_message
    assert general.reply_to_message is None


async def test_sends_land_in_their_thread_and_an_unknown_thread_is_refused(
    emu: BotApiEmulator, bot: Bot
) -> None:
    thread = emu.create_forum_topic(FORUM, ALICE, "停车")
    sent = await bot.send_message(FORUM, "here", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message
    assert emu.message(FORUM, sent.message_id).message_thread_id == thread
    reply = await bot.send_message(
        FORUM, "a reply", reply_parameters=ReplyParameters(message_id=sent.message_id)
    )
    assert reply.message_thread_id == thread  # a reply follows the thread of its message
    general = await bot.send_message(FORUM, "General")
    assert general.message_thread_id is None
    for chat, missing in ((FORUM, 4242), (PLAIN, thread)):
        with pytest.raises(BadRequest, match="Message thread not found"):
            await bot.send_message(chat, "nowhere", message_thread_id=missing)
    assert emu.calls_of("sendMessage")[-1].description == "Bad Request: message thread not found"


async def test_the_bot_creates_a_topic(emu: BotApiEmulator, bot: Bot) -> None:
    topic = await bot.create_forum_topic(FORUM, "议事")
    sent = await bot.send_message(FORUM, "hi", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id
    with pytest.raises(BadRequest, match=r"(?i)not a forum"):
        await bot.create_forum_topic(PLAIN, "议事")


async def test_a_silent_migration_answers_sends_with_the_new_id(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.add_group(-555, "Old", type="group", creator=ALICE)
    before = len(await bot.get_updates())
    emu.migrate_to_supergroup(-555, -1005550000, announce=False)
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(-555, "hello?")
    assert info.value.new_chat_id == -1005550000
    assert len(await bot.get_updates()) == before  # no service messages (yet)
    emu.announce_migration(-555)
    updates = (await bot.get_updates())[before:]
    assert [u.message.migrate_to_chat_id for u in updates if u.message][:1] == [-1005550000]
    assert updates[-1].message is not None
    assert updates[-1].message.migrate_from_chat_id == -555
