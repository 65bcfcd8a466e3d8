"""Frames written in one turn of the event loop reach the socket in one write, whole and in
order (channels/wecom/corked.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from channels.wecom.connection import LongConnection
from channels.wecom.corked import CorkedTransport
from emulators.wecom.server import WeComEmulator
from tests.channel_wecom.test_connection import Received, _markdown, linked  # noqa: F401


class Recording:
    """A transport that records what it was given, write by write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False
        self.extra = {"peername": ("127.0.0.1", 443)}

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str) -> Any:
        return self.extra.get(name)


async def turn() -> None:
    await asyncio.sleep(0)


async def test_what_one_turn_writes_goes_in_one_write_at_the_next_turn_in_order() -> None:
    real = Recording()
    corked = CorkedTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    changing = bytearray(b"-two")
    corked.write(b"one")
    corked.write(changing)
    corked.write(memoryview(b"-three"))
    changing[:] = b"-2"  # what the writer does with its buffer afterwards is not sent
    assert real.writes == []  # kept until the turn ends
    await turn()
    assert real.writes == [b"one-two-three"]
    corked.write(b"four")  # the next turn's: a write of its own
    await turn()
    corked.write(b"five")
    await turn()
    assert real.writes == [b"one-two-three", b"four", b"five"]
    await turn()
    assert len(real.writes) == 3  # nothing kept, nothing more written


async def test_nothing_is_written_to_a_transport_closed_before_the_turn_ended() -> None:
    real = Recording()
    corked = CorkedTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    corked.write(b"late")
    real.closing = True
    assert corked.is_closing()  # the writer asks before each frame: it sees the real state
    await turn()
    assert real.writes == []
    assert corked.get_extra_info("peername") == ("127.0.0.1", 443)  # the rest: the real one's


async def test_answers_sent_in_one_turn_all_reach_wecom_whole_and_acked(
    emu: WeComEmulator,
    linked: tuple[LongConnection, Received],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    link, received = linked
    writes: list[int] = []  # the frames in each write the connection made
    flush = CorkedTransport._flush

    def counted(self: CorkedTransport) -> None:
        writes.append(len(self._kept))
        flush(self)

    monkeypatch.setattr(CorkedTransport, "_flush", counted)
    people = [f"resident{n}" for n in range(10)]
    for person in people:
        emu.add_person(person, person)
    emu.add_group("wrManyResidents", "1号楼居民群", people)
    issued = []
    for n in range(25):  # a person three at a time, a chat 30 answers a minute, as WeCom allows
        issued.append(await emu.mention(people[n % 10], "wrManyResidents", f"第{n}条"))
    for _ in issued:
        await received.frames.get()
    # 25 answers started in the same turn: their frames leave as one buffer, each acked
    await asyncio.gather(
        *(link.respond(one.req_id, _markdown(f"回复{n}")) for n, one in enumerate(issued))
    )
    answers = [frame for frame in emu.frames if frame.cmd == "aibot_respond_msg"]
    answered = {frame.req_id: frame.body["markdown"]["content"] for frame in answers}
    assert [answered.get(one.req_id) for one in issued] == [f"回复{n}" for n in range(25)]
    assert [frame.errcode for frame in answers] == [0] * 25
    assert sum(writes) == 25 and len(writes) < 5  # in one write, or a few
