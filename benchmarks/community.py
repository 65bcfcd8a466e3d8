"""The benchmark community, set up through the bot as its people would: 50 building chats of
40 residents each, every one with an open topic. Works over the emulator's control API
(:class:`RemotePeople`) or with an in-process emulator (:class:`LocalPeople`)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Protocol

from telegram import Update

from benchmarks.presses import Ballot, Plan
from emulators.telegram import BotApiEmulator, EmulatorClient, EmuMessage

ADMIN = 1
BUILDINGS, RESIDENTS_PER_BUILDING = 50, 40
STAFF_CHAT, GRID_CHAT = -1009000000001, -1009000000002
CODE = re.compile(r"/bind ([a-z0-9]+)")
TALLY_LINE = re.compile(r"^(.+?)[：:] ?(\d+)$", re.MULTILINE)


def building_chat(index: int) -> int:
    return -1009000001000 - index


def residents_of(index: int) -> list[int]:
    first = 100_000 + index * RESIDENTS_PER_BUILDING
    return list(range(first, first + RESIDENTS_PER_BUILDING))


class People(Protocol):
    async def add_user(self, user_id: int, name: str) -> None: ...

    async def add_group(self, chat: int, title: str, members: list[int]) -> None:
        """A group the admin creates, adding the bot as administrator."""

    async def bot_message(self, chat: int) -> dict[str, Any]:
        """Waits for the bot's first message in the chat."""

    async def say(self, chat: int, text: str, *, buttons: bool = False) -> dict[str, Any]:
        """The admin writes; returns the bot's first message after it (with buttons)."""


class RemotePeople:
    def __init__(self, client: EmulatorClient) -> None:
        self.client = client

    async def add_user(self, user_id: int, name: str) -> None:
        await self.client.add_user(user_id, name)

    async def add_group(self, chat: int, title: str, members: list[int]) -> None:
        await self.client.add_group(chat, title, members=members, admins=[ADMIN], creator=ADMIN)

    async def bot_message(self, chat: int) -> dict[str, Any]:
        return await self.client.wait_for_bot_message(chat, timeout=60)

    async def say(self, chat: int, text: str, *, buttons: bool = False) -> dict[str, Any]:
        sent = await self.client.send_message(chat, ADMIN, text)
        return await self.client.wait_for_bot_message(
            chat, after=sent["message_id"], has_buttons=buttons, timeout=60
        )


class LocalPeople:
    """An emulator in this process; its users' updates go to ``submit``."""

    def __init__(self, emu: BotApiEmulator, submit: Any, bot: Any) -> None:
        self.emu, self.submit, self.bot = emu, submit, bot

    async def deliver(self) -> None:
        pending, self.emu.world.updates.pending = self.emu.world.updates.pending, []
        for raw in pending:
            await self.submit(Update.de_json(raw, self.bot))

    async def add_user(self, user_id: int, name: str) -> None:
        self.emu.add_user(user_id, name)

    async def add_group(self, chat: int, title: str, members: list[int]) -> None:
        self.emu.add_group(chat, title, members=members, admins=[ADMIN], creator=ADMIN)
        await self.deliver()

    async def bot_message(self, chat: int) -> dict[str, Any]:
        return _plain(await self.emu.wait_for_bot_message(chat, timeout=60))

    async def say(self, chat: int, text: str, *, buttons: bool = False) -> dict[str, Any]:
        sent = self.emu.send_message(chat, ADMIN, text)
        await self.deliver()
        message = await self.emu.wait_for_bot_message(
            chat,
            after=sent.message_id,
            timeout=60,
            predicate=(lambda m: bool(m.button_texts())) if buttons else None,
        )
        return _plain(message)


def _plain(message: EmuMessage) -> dict[str, Any]:
    return dataclasses.asdict(message)


async def add_people(people: People) -> None:
    await people.add_user(ADMIN, "王主任")
    for index in range(BUILDINGS):
        for resident in residents_of(index):
            await people.add_user(resident, f"居民{resident}")


async def set_up_yishi(people: People) -> list[Ballot]:
    """The community, its grid and 50 buildings, each with an open topic."""
    await add_people(people)
    await people.add_group(STAFF_CHAT, "幸福社区工作群", [])
    await people.bot_message(STAFF_CHAT)  # the bot is up: it greets
    await people.say(STAFF_CHAT, "/setup 幸福社区")
    issued = await people.say(STAFF_CHAT, "/newgrid 第一网格")
    await people.add_group(GRID_CHAT, "第一网格群", [])
    await people.bot_message(GRID_CHAT)
    await people.say(GRID_CHAT, f"/bind {code_in(issued)}")
    ballots = []
    for index in range(BUILDINGS):
        chat = building_chat(index)
        issued = await people.say(GRID_CHAT, f"/newbuilding {index + 1}号楼")
        members = residents_of(index)
        await people.add_group(chat, f"{index + 1}号楼", members)
        await people.bot_message(chat)
        await people.say(chat, f"/bind {code_in(issued)}")
        ballot = await people.say(chat, f"/topic 加装电梯{index + 1} 期限=7d", buttons=True)
        topic = re.match(r"📋 #(\d+)", ballot["text"] or "")
        assert topic, ballot["text"]
        ballots.append(Ballot(chat, ballot["message_id"], members, int(topic.group(1))))
    return ballots


async def set_up_bare(people: People) -> list[Ballot]:
    await add_people(people)
    ballots = []
    for index in range(BUILDINGS):
        chat = building_chat(index)
        members = residents_of(index)
        await people.add_group(chat, f"{index + 1}号楼", members)
        ballot = await people.say(chat, f"/topic 加装电梯{index + 1}", buttons=True)
        ballots.append(Ballot(chat, ballot["message_id"], members))
    return ballots


def code_in(message: dict[str, Any]) -> str:
    match = CODE.search(message.get("text") or "")
    assert match, message
    return match.group(1)


def shown_tally(text: str | None) -> dict[str, int]:
    """The ``同意：4`` lines under a ballot message's tally heading."""
    for paragraph in (text or "").split("\n\n"):
        heading_line, _, body = paragraph.partition("\n")
        if heading_line == "当前票数":
            return {option: int(n) for option, n in TALLY_LINE.findall(body)}
    return {}


async def stored_counts(database_url: str, plan: Plan) -> dict[int, dict[str, int]]:
    """Each topic's counts as stored."""
    from storage.database import Database

    database = Database(database_url)
    try:
        async with database.transaction() as repos:
            result = {}
            for ballot in plan.ballots:
                assert ballot.topic_id is not None
                counted = await repos.topics.counts(ballot.topic_id)
                topic = await repos.topics.get(ballot.topic_id)
                assert topic is not None
                result[ballot.topic_id] = {
                    option: counted.get(index, 0) for index, option in enumerate(topic.options)
                }
            return result
    finally:
        await database.close()


async def check_counts(database_url: str, plan: Plan) -> list[str]:
    """Every topic's stored counts equal its residents' last choices."""
    stored = await stored_counts(database_url, plan)
    problems = []
    for ballot in plan.ballots:
        assert ballot.topic_id is not None
        if stored[ballot.topic_id] != plan.last_choices(ballot):
            problems.append(
                f"topic {ballot.topic_id} stored {stored[ballot.topic_id]}, "
                f"expected {plan.last_choices(ballot)}"
            )
    return problems
